//! Where ClickHouse is, how to log in, and what its errors mean.
//!
//! sluice talks to ClickHouse over its HTTP interface only. The endpoint comes
//! from `--clickhouse`, else the environment, in this order: `SLUICE_CLICKHOUSE_URL`,
//! ClickStack's `CLICKHOUSE_ENDPOINT`, the test scripts' `CLICKHOUSE_URL`, and
//! last the local server of `scripts/clickhouse` on `http://127.0.0.1:8123`.

use std::fmt;

/// The local ClickHouse that `scripts/clickhouse start` runs by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8123";

/// Environment variables naming the ClickHouse HTTP endpoint, first match wins.
pub const URL_ENV: [&str; 3] = [
    "SLUICE_CLICKHOUSE_URL",
    "CLICKHOUSE_ENDPOINT",
    "CLICKHOUSE_URL",
];

/// A ClickHouse HTTP endpoint and its credentials.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password.
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Why an endpoint is not usable.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error(
        "ClickHouse endpoint {0:?} is not an http:// or https:// URL (sluice uses ClickHouse's HTTP interface, port 8123 or 8443)"
    )]
    NotHttp(String),
    #[error("https:// ClickHouse endpoints need TLS, which this build does not have yet: {0:?}")]
    NoTls(String),
}

impl Endpoint {
    /// Resolves the endpoint: an explicit URL, else the environment, else the local default.
    pub fn resolve(
        url: Option<String>,
        user: String,
        password: String,
    ) -> Result<Endpoint, EndpointError> {
        let url = url
            .or_else(|| {
                URL_ENV
                    .iter()
                    .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            })
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let url = url.trim_end_matches('/').to_owned();
        if url.starts_with("https://") {
            return Err(EndpointError::NoTls(url));
        }
        if !url.starts_with("http://") {
            return Err(EndpointError::NotHttp(url));
        }
        Ok(Endpoint {
            url,
            user,
            password,
        })
    }

    /// A `clickhouse` crate client for schema management and queries.
    pub fn client(&self) -> ::clickhouse::Client {
        ::clickhouse::Client::default()
            .with_url(&self.url)
            .with_user(&self.user)
            .with_password(&self.password)
    }
}

/// An error and its causes on one line, each said once: the `clickhouse` crate's
/// errors repeat their source in their own message, and hyper's hide the useful part
/// ("Connection refused") two levels down.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_url_is_normalised_and_checked() {
        let e = Endpoint::resolve(Some("http://ch:8123/".into()), "u".into(), "p".into()).unwrap();
        assert_eq!(e.url, "http://ch:8123");
        let err = Endpoint::resolve(Some("tcp://ch:9000".into()), "u".into(), "".into());
        assert!(matches!(err, Err(EndpointError::NotHttp(_))), "{err:?}");
        let err = Endpoint::resolve(Some("https://ch:8443".into()), "u".into(), "".into());
        assert!(matches!(err, Err(EndpointError::NoTls(_))), "{err:?}");
    }

    #[test]
    fn describe_says_each_cause_once() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl fmt::Display for E {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let inner = E("Connection refused", None);
        let mid = E("client error (Connect)", Some(Box::new(inner)));
        let top = E("network error: client error (Connect)", Some(Box::new(mid)));
        assert_eq!(
            describe(&top),
            "network error: client error (Connect): Connection refused"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let e = Endpoint::resolve(Some("http://ch".into()), "u".into(), "hunter2".into()).unwrap();
        assert!(!format!("{e:?}").contains("hunter2"));
    }
}
