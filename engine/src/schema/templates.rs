//! The DDL templates of `sql/` and their rendering into statements.

use std::collections::BTreeSet;

use wire::tables::Signal;

use super::SchemaError;
use super::options::{SchemaOptions, quote_ident};

/// Which set of skipping indexes the tables get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexVariant {
    /// `text(tokenizer = …)` indexes, HyperDX's newest seed (ClickHouse ≥ 26.2).
    Text,
    /// Bloom-filter indexes, HyperDX's `_compat` seed, for older servers.
    Bloom,
}

/// The first ClickHouse release with the `text` index generally available (26.2).
pub const TEXT_INDEX_SINCE: ServerVersion = ServerVersion {
    major: 26,
    minor: 2,
};

impl IndexVariant {
    pub fn for_version(v: ServerVersion) -> IndexVariant {
        if v >= TEXT_INDEX_SINCE {
            IndexVariant::Text
        } else {
            IndexVariant::Bloom
        }
    }
}

/// `major.minor` of a ClickHouse server, as `SELECT version()` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    /// Parses `26.9.2.1` (any number of parts after the minor).
    pub fn parse(s: &str) -> Option<ServerVersion> {
        let mut parts = s.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(ServerVersion { major, minor })
    }
}

/// One rendered DDL statement and the object it creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The configured name of the database, table or view it creates.
    pub object: String,
    pub sql: String,
}

/// One file of `sql/`.
struct Template {
    /// The signal whose TTL applies; `None` for the database itself.
    signal: Option<Signal>,
    text: &'static str,
    /// The bloom-filter variant, where it differs from `text`.
    compat: Option<&'static str>,
}

macro_rules! sql {
    ($file:literal) => {
        include_str!(concat!("sql/", $file))
    };
}

/// Every template, in the order the statements run: database, tables, then the
/// rollups whose materialized views read from the tables.
const TEMPLATES: &[Template] = &[
    Template {
        signal: None,
        text: sql!("database.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Logs),
        text: sql!("otel_logs.sql"),
        compat: Some(sql!("otel_logs.compat.sql")),
    },
    Template {
        signal: Some(Signal::Traces),
        text: sql!("otel_traces.sql"),
        compat: Some(sql!("otel_traces.compat.sql")),
    },
    Template {
        signal: Some(Signal::Sessions),
        text: sql!("hyperdx_sessions.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Metrics),
        text: sql!("otel_metrics_gauge.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Metrics),
        text: sql!("otel_metrics_sum.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Metrics),
        text: sql!("otel_metrics_histogram.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Metrics),
        text: sql!("otel_metrics_exponential_histogram.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Metrics),
        text: sql!("otel_metrics_summary.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Logs),
        text: sql!("otel_logs_rollups.sql"),
        compat: None,
    },
    Template {
        signal: Some(Signal::Traces),
        text: sql!("otel_traces_rollups.sql"),
        compat: None,
    },
];

const TABLE_PREFIX: &str = "T_";

/// Renders every statement of the schema, in the order they must run.
pub fn render(opts: &SchemaOptions, variant: IndexVariant) -> Result<Vec<Statement>, SchemaError> {
    let known = known_names();
    if let Some(unknown) = opts.names.keys().find(|k| !known.contains(k.as_str())) {
        let list = known.into_iter().collect::<Vec<_>>().join(", ");
        return Err(SchemaError::UnknownTable(unknown.clone(), list));
    }
    let database = quote_ident("database", &opts.database)?;
    let on_cluster = match &opts.cluster {
        Some(c) => format!(" ON CLUSTER {}", quote_ident("cluster", c)?),
        None => String::new(),
    };
    let mut out = Vec::new();
    for t in TEMPLATES {
        let text = match (variant, t.compat) {
            (IndexVariant::Bloom, Some(compat)) => compat,
            _ => t.text,
        };
        let ttl = t
            .signal
            .map(|s| opts.ttl(s).to_string())
            .unwrap_or_default();
        for raw in statements(text) {
            let mut object = None;
            let sql = substitute(raw, |key| match key {
                "DATABASE" => Ok(database.clone()),
                "ON_CLUSTER" => Ok(on_cluster.clone()),
                "TTL" => Ok(ttl.clone()),
                _ => {
                    let default = key
                        .strip_prefix(TABLE_PREFIX)
                        .expect("templates use known placeholders");
                    let name = opts.name(default);
                    object.get_or_insert_with(|| name.to_owned());
                    quote_ident("table name", name)
                }
            })?;
            let object = object.unwrap_or_else(|| opts.database.clone());
            out.push(Statement { object, sql });
        }
    }
    Ok(out)
}

/// The statements of a template: split after each `;` that ends a line,
/// with comment lines dropped.
fn statements(text: &'static str) -> impl Iterator<Item = String> {
    text.split(";\n").filter_map(|chunk| {
        let body: Vec<&str> = chunk
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect();
        let body = body.join("\n");
        let body = body.trim().trim_end_matches(';').trim_end();
        (!body.is_empty()).then(|| body.to_owned())
    })
}

/// Replaces every `${KEY}` of `text` with `value(KEY)`.
fn substitute(
    text: String,
    mut value: impl FnMut(&str) -> Result<String, SchemaError>,
) -> Result<String, SchemaError> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("templates close every placeholder");
        out.push_str(&value(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The default names of every table and view the templates create or use.
fn known_names() -> BTreeSet<&'static str> {
    let mut names = BTreeSet::new();
    for t in TEMPLATES {
        for text in std::iter::once(t.text).chain(t.compat) {
            let mut rest = text;
            while let Some(start) = rest.find("${T_") {
                let after = &rest[start + 2 + TABLE_PREFIX.len()..];
                let end = after.find('}').expect("templates close every placeholder");
                names.insert(&after[..end]);
                rest = &after[end..];
            }
        }
    }
    names
}

#[cfg(test)]
mod tests;
