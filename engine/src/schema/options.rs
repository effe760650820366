//! What the user can choose about the schema: database, cluster, TTLs, names.

use std::collections::BTreeMap;
use std::fmt;

use wire::tables::Signal;

use super::SchemaError;

/// ClickStack's default retention for every signal.
pub const DEFAULT_TTL: Ttl = Ttl::Days(30);

/// A retention period, rendered as a ClickHouse interval expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    Hours(u32),
    Days(u32),
}

impl Ttl {
    /// Parses `30d`, `72h` or `2w`.
    pub fn parse(s: &str) -> Result<Ttl, SchemaError> {
        let bad = |why| SchemaError::InvalidOption {
            what: "TTL",
            value: s.to_owned(),
            why,
        };
        let split = s.len().saturating_sub(1);
        let (n, unit) = s.split_at(split);
        let n: u32 = n
            .parse()
            .map_err(|_| bad("expected a number and a unit: 72h, 30d or 4w"))?;
        if n == 0 {
            return Err(bad("a TTL of zero would drop every row"));
        }
        match unit {
            "h" => Ok(Ttl::Hours(n)),
            "d" => Ok(Ttl::Days(n)),
            "w" => n
                .checked_mul(7)
                .map(Ttl::Days)
                .ok_or_else(|| bad("too long")),
            _ => Err(bad("the unit must be h (hours), d (days) or w (weeks)")),
        }
    }
}

impl fmt::Display for Ttl {
    /// The ClickHouse interval expression, as HyperDX's `${TABLES_TTL}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ttl::Hours(n) => write!(f, "toIntervalHour({n})"),
            Ttl::Days(n) => write!(f, "toIntervalDay({n})"),
        }
    }
}

/// Which index variant to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IndexChoice {
    /// Ask the server its version and choose (`schema apply`); `text` for `schema print`.
    #[default]
    Auto,
    Text,
    Bloom,
}

/// Everything about the schema that is configurable.
#[derive(Clone, Debug)]
pub struct SchemaOptions {
    pub database: String,
    /// `ON CLUSTER` name for every statement, if any.
    pub cluster: Option<String>,
    pub logs_ttl: Ttl,
    pub traces_ttl: Ttl,
    pub metrics_ttl: Ttl,
    pub sessions_ttl: Ttl,
    /// Renamed tables and views: default name → configured name.
    pub names: BTreeMap<String, String>,
    pub indexes: IndexChoice,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            database: "default".to_owned(),
            cluster: None,
            logs_ttl: DEFAULT_TTL,
            traces_ttl: DEFAULT_TTL,
            metrics_ttl: DEFAULT_TTL,
            sessions_ttl: DEFAULT_TTL,
            names: BTreeMap::new(),
            indexes: IndexChoice::Auto,
        }
    }
}

impl SchemaOptions {
    /// The retention of a signal's tables.
    pub fn ttl(&self, signal: Signal) -> Ttl {
        match signal {
            Signal::Logs => self.logs_ttl,
            Signal::Traces => self.traces_ttl,
            Signal::Metrics => self.metrics_ttl,
            Signal::Sessions => self.sessions_ttl,
        }
    }

    /// The configured name of a table or view, by its default name.
    pub fn name<'a>(&'a self, default: &'a str) -> &'a str {
        self.names.get(default).map_or(default, String::as_str)
    }
}

/// Back-quotes a ClickHouse identifier, refusing the characters that would need
/// escaping (no real table or database name needs them).
pub(super) fn quote_ident(what: &'static str, name: &str) -> Result<String, SchemaError> {
    let bad = |why| SchemaError::InvalidOption {
        what,
        value: name.to_owned(),
        why,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name
        .chars()
        .any(|c| c == '`' || c == '\\' || c.is_control())
    {
        return Err(bad(
            "back-quotes, backslashes and control characters are not allowed",
        ));
    }
    Ok(format!("`{name}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_parses_units_and_renders_clickhouse_intervals() {
        let cases = [
            ("30d", "toIntervalDay(30)"),
            ("72h", "toIntervalHour(72)"),
            ("2w", "toIntervalDay(14)"),
        ];
        for (input, rendered) in cases {
            assert_eq!(Ttl::parse(input).unwrap().to_string(), rendered, "{input}");
        }
        for bad in ["", "d", "30", "0d", "30m", "-1d", "1.5d", "99999999999d"] {
            assert!(Ttl::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn identifiers_are_quoted_or_refused() {
        assert_eq!(quote_ident("database", "otel").unwrap(), "`otel`");
        assert_eq!(quote_ident("database", "my-db.1").unwrap(), "`my-db.1`");
        for bad in ["", "a`b", "a\\b", "a\nb"] {
            assert!(quote_ident("database", bad).is_err(), "{bad:?}");
        }
    }
}
