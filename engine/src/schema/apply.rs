//! `sluice schema apply`: ask the server its version, render, run each statement.

use std::time::Duration;

use super::options::IndexChoice;
use super::templates::{IndexVariant, ServerVersion, render};
use super::{SchemaError, SchemaOptions};
use crate::clickhouse::{Endpoint, describe};

/// How long the first request may take before ClickHouse counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What `apply` did.
#[derive(Debug)]
pub struct ApplyReport {
    /// `SELECT version()` as the server answered it.
    pub server_version: String,
    pub variant: IndexVariant,
    /// The objects created (or found already there), in order.
    pub objects: Vec<String>,
}

/// Creates the schema on `endpoint`, idempotently.
pub async fn apply(endpoint: &Endpoint, opts: &SchemaOptions) -> Result<ApplyReport, SchemaError> {
    let client = endpoint.client();
    let version = tokio::time::timeout(
        CONNECT_TIMEOUT,
        client.query("SELECT version()").fetch_one::<String>(),
    )
    .await
    .map_err(|_| SchemaError::Timeout {
        url: endpoint.url.clone(),
        secs: CONNECT_TIMEOUT.as_secs(),
    })?
    .map_err(|e| {
        let (url, reason) = (endpoint.url.clone(), describe(&e));
        match e {
            ::clickhouse::error::Error::BadResponse(_) => SchemaError::Answered { url, reason },
            _ => SchemaError::Connect { url, reason },
        }
    })?;
    let variant = match opts.indexes {
        IndexChoice::Text => IndexVariant::Text,
        IndexChoice::Bloom => IndexVariant::Bloom,
        IndexChoice::Auto => IndexVariant::for_version(
            ServerVersion::parse(&version).ok_or_else(|| SchemaError::Version(version.clone()))?,
        ),
    };
    let statements = render(opts, variant)?;
    let mut objects = Vec::with_capacity(statements.len());
    for s in statements {
        // The DDL has no `?` bind placeholders; `??` would be needed for a literal one.
        debug_assert!(!s.sql.contains('?'));
        client
            .query(&s.sql)
            .execute()
            .await
            .map_err(|e| SchemaError::Refused {
                object: s.object.clone(),
                reason: describe(&e),
            })?;
        objects.push(s.object);
    }
    Ok(ApplyReport {
        server_version: version,
        variant,
        objects,
    })
}
