//! One INSERT over ClickHouse's HTTP interface.
//!
//! `POST /?query=INSERT INTO db.table (columns) FORMAT RowBinary
//! &insert_deduplication_token=…[&decompress=1]`, the body the INSERT's chunks one
//! after another (ClickHouse's compressed blocks concatenate; no copy is made, the
//! chunks are sent as they are). Success is a 2xx without `X-ClickHouse-Exception-Code`
//! and without an exception at the end of the body; anything else is an
//! [`InsertError`], classified once ([`super::error`]).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::{InsertError, body_has_exception};
use crate::clickhouse::Endpoint;

/// How one table's inserter writes.
#[derive(Clone, Debug)]
pub struct InsertTarget {
    pub endpoint: Endpoint,
    pub database: String,
    pub table: String,
    /// The INSERT's column list (stored columns sluice writes, from `DESCRIBE TABLE`).
    pub columns: Vec<&'static str>,
    /// Their ClickHouse types, for splitting a refused INSERT into its rows.
    pub types: Vec<wire::rowbinary::read::Type>,
    /// Whether bodies are in ClickHouse's compressed-block format (`decompress=1`).
    pub compressed: bool,
    /// How long the inserter gathers chunks for one INSERT.
    pub interval: Duration,
    /// How long one INSERT may take before it counts as failed (and is retried).
    pub timeout: Duration,
}

impl InsertTarget {
    /// The INSERT statement.
    pub fn statement(&self) -> String {
        format!(
            "INSERT INTO `{}`.`{}` ({}) FORMAT RowBinary",
            self.database,
            self.table,
            self.columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The HTTP client of one inserter (keep-alive connections to ClickHouse).
pub type Client = HyperClient<HttpConnector, Parts>;

pub fn client() -> Client {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// An INSERT body: chunks sent one after another, without copying them together.
#[derive(Debug, Default)]
pub struct Parts {
    parts: VecDeque<Bytes>,
    left: u64,
}

impl Parts {
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Parts {
        let parts: VecDeque<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let left = parts.iter().map(|p| p.len() as u64).sum();
        Parts { parts, left }
    }
}

impl Body for Parts {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.parts.pop_front().map(|p| {
            self.left -= p.len() as u64;
            Ok(Frame::data(p))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        // Exact: the request carries a Content-Length.
        SizeHint::with_exact(self.left)
    }
}

/// One attempt of an INSERT with `body` and deduplication `token`.
pub async fn insert(
    client: &Client,
    target: &InsertTarget,
    statement: &str,
    token: &str,
    body: Parts,
) -> Result<(), InsertError> {
    let mut uri = format!("{}/?query=", target.endpoint.url);
    percent_encode(statement, &mut uri);
    uri.push_str("&insert_deduplication_token=");
    percent_encode(token, &mut uri);
    if target.compressed {
        uri.push_str("&decompress=1");
    }
    let request = hyper::Request::post(uri)
        .header("X-ClickHouse-User", &target.endpoint.user)
        .header("X-ClickHouse-Key", &target.endpoint.password)
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .map_err(|e| InsertError::unreachable(e.to_string()))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            let text = crate::clickhouse::describe(&e);
            // Not connected: nothing was sent. Anything else may have reached it.
            if e.is_connect() {
                InsertError::unreachable(text)
            } else {
                InsertError::broken(format!("the connection to ClickHouse broke: {text}"))
            }
        })?;
        let status = response.status();
        let code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = response
            .into_body()
            .collect()
            .await
            .map_err(|e| InsertError::broken(format!("ClickHouse's answer broke off: {e}")))?
            .to_bytes();
        if status.is_success() && code.is_none() && !body_has_exception(&text) {
            return Ok(());
        }
        Err(InsertError::answered(
            status.as_u16(),
            code,
            &String::from_utf8_lossy(&text),
        ))
    };
    tokio::time::timeout(target.timeout, exchange)
        .await
        .map_err(|_| {
            InsertError::broken(format!(
                "no answer from ClickHouse within {} ms",
                target.timeout.as_millis()
            ))
        })?
}

/// Percent-encodes a URL query value (RFC 3986 unreserved characters stay).
fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_names_and_queries_are_percent_encoded() {
        let t = InsertTarget {
            endpoint: Endpoint::resolve(Some("http://ch:8123".into()), "u".into(), String::new())
                .unwrap(),
            database: "db".into(),
            table: "otel_logs".into(),
            columns: vec!["Timestamp", "Body"],
            types: Vec::new(),
            compressed: true,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            t.statement(),
            "INSERT INTO `db`.`otel_logs` (`Timestamp`, `Body`) FORMAT RowBinary"
        );
        let mut q = String::new();
        percent_encode("INSERT INTO `a` (x) FORMAT RowBinary", &mut q);
        assert_eq!(q, "INSERT%20INTO%20%60a%60%20%28x%29%20FORMAT%20RowBinary");
    }

    #[test]
    fn a_body_of_parts_sends_each_part_and_knows_its_length() {
        let p = Parts::new([
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from_static(b"c"),
        ]);
        assert_eq!(p.size_hint().exact(), Some(3));
        let got = futures_lite_collect(p);
        assert_eq!(got, b"abc");
    }

    fn futures_lite_collect(p: Parts) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async { p.collect().await.unwrap().to_bytes().to_vec() })
    }
}
