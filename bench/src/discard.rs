//! `sluice-discard`: a ClickHouse HTTP endpoint that drops every INSERT, so a
//! benchmark measures sluice alone (`scripts/bench`).
//!
//! # What it answers
//!
//! - **INSERTs** — a request whose URL parameter `query` starts with `INSERT` (after
//!   percent-decoding and leading whitespace, any case): the body is read to the end,
//!   chunk by chunk, counted and dropped — not decompressed, not parsed — and the
//!   answer is `200 OK` with an empty body and no `X-ClickHouse-Exception-Code`. That
//!   is what sluice's inserter takes for a commit (`engine::sink::clickhouse::insert`:
//!   a 2xx, no exception code, no `DB::Exception: ` in the body), so every waiting
//!   request is acknowledged as if ClickHouse had stored its rows.
//! - **`GET /sluice-discard/stats`** — `{"inserts":N,"insert_bytes":B,"forwarded":F}`,
//!   the counts so far (a benchmark takes the difference around a run).
//! - **Everything else** is forwarded to a real ClickHouse (`--upstream`), its answer
//!   passed back unchanged (status, headers, body): `/ping`, and the `system.columns`
//!   queries sluice makes at start to learn each table's stored columns. A forwarded
//!   request and its answer are read whole (they are small); hop-by-hop headers are
//!   dropped on the way. An upstream that cannot be reached gets `502` with a
//!   ClickHouse-style `Code: 210. DB::Exception: …` body and exception code 210
//!   (`NETWORK_ERROR`).
//!
//! An INSERT whose statement travels in the body (no `query` parameter) is forwarded:
//! sluice always puts the statement in the URL, so the rule keeps to what sluice does.
//!
//! # Invariants
//!
//! - An INSERT answers 200 only after its whole body has arrived; a body that breaks off
//!   (the client hung up) is answered 400 and not counted.
//! - Nothing is buffered per INSERT beyond the chunk hyper hands over: memory stays flat
//!   whatever the insert size.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// The path of the counters.
pub const STATS_PATH: &str = "/sluice-discard/stats";

/// ClickHouse's `NETWORK_ERROR`, sent when the upstream cannot be reached.
const NETWORK_ERROR: u32 = 210;

/// Headers that belong to one connection (RFC 9110 §7.6.1), plus the framing
/// headers hyper sets again for the re-sent body.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

/// What the endpoint has seen.
#[derive(Debug, Default)]
pub struct Counts {
    pub inserts: AtomicU64,
    pub insert_bytes: AtomicU64,
    pub forwarded: AtomicU64,
}

impl Counts {
    /// The counts as the stats path answers them.
    pub fn json(&self) -> String {
        format!(
            r#"{{"inserts":{},"insert_bytes":{},"forwarded":{}}}"#,
            self.inserts.load(Ordering::Relaxed),
            self.insert_bytes.load(Ordering::Relaxed),
            self.forwarded.load(Ordering::Relaxed)
        )
    }
}

/// The endpoint's state, shared by its connections.
#[derive(Debug)]
pub struct Discard {
    /// `scheme://host:port` of the real ClickHouse.
    upstream: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    pub counts: Counts,
}

/// Why an upstream URL is not usable.
#[derive(Debug, thiserror::Error)]
#[error("--upstream must be http://HOST:PORT (a ClickHouse HTTP interface), not {0:?}")]
pub struct UpstreamError(String);

impl Discard {
    /// An endpoint forwarding to `upstream` (`http://host:port`; a trailing `/` is fine).
    pub fn new(upstream: &str) -> Result<Discard, UpstreamError> {
        let bad = || UpstreamError(upstream.to_owned());
        let uri: Uri = upstream.parse().map_err(|_| bad())?;
        let path_ok = uri.path_and_query().is_none_or(|p| p.as_str() == "/");
        if uri.scheme_str() != Some("http") || uri.authority().is_none() || !path_ok {
            return Err(bad());
        }
        Ok(Discard {
            upstream: uri,
            client: Client::builder(TokioExecutor::new()).build_http(),
            counts: Counts::default(),
        })
    }

    /// Serves connections from `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let this = Arc::clone(&self);
            tokio::spawn(async move {
                let service = service_fn(move |req| Arc::clone(&this).answer(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    }

    async fn answer(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        if is_insert(req.uri().query()) {
            return Ok(self.drop_insert(req.into_body()).await);
        }
        if req.method() == Method::GET && req.uri().path() == STATS_PATH {
            let mut r = Response::new(Full::new(Bytes::from(self.counts.json())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            return Ok(r);
        }
        self.counts.forwarded.fetch_add(1, Ordering::Relaxed);
        Ok(self.forward(req).await.unwrap_or_else(|e| {
            let mut r = Response::new(Full::new(Bytes::from(format!(
                "Code: {NETWORK_ERROR}. DB::Exception: sluice-discard: upstream {}: {e}\n",
                self.upstream
            ))));
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r.headers_mut()
                .insert("X-ClickHouse-Exception-Code", NETWORK_ERROR.into());
            r
        }))
    }

    /// Reads an INSERT's body to the end, counts it, drops it, answers 200.
    async fn drop_insert(&self, mut body: Incoming) -> Response<Full<Bytes>> {
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => bytes += f.data_ref().map_or(0, |d| d.len() as u64),
                Err(_) => {
                    let mut r = Response::new(Full::new(Bytes::from_static(
                        b"sluice-discard: the INSERT body broke off\n",
                    )));
                    *r.status_mut() = StatusCode::BAD_REQUEST;
                    return r;
                }
            }
        }
        self.counts.inserts.fetch_add(1, Ordering::Relaxed);
        self.counts.insert_bytes.fetch_add(bytes, Ordering::Relaxed);
        Response::new(Full::new(Bytes::new()))
    }

    /// Sends the request to the upstream and passes its answer back.
    async fn forward(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, String> {
        let (mut parts, body) = req.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = format!(
            "{}{}",
            self.upstream.to_string().trim_end_matches('/'),
            path
        )
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
        strip_hop_by_hop(&mut parts.headers);
        parts.headers.remove(header::HOST);
        parts.headers.remove(header::CONTENT_LENGTH);
        let response = self
            .client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| chain(&e))?;
        let (mut parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        strip_hop_by_hop(&mut parts.headers);
        parts.headers.remove(header::CONTENT_LENGTH);
        Ok(Response::from_parts(parts, Full::new(body)))
    }
}

/// An error and its causes on one line (hyper's useful part, "Connection refused",
/// sits two levels down).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Whether a URL query string (`a=1&query=INSERT%20INTO…`) holds an INSERT statement.
pub fn is_insert(query: Option<&str>) -> bool {
    let Some(value) = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("query=")))
    else {
        return false;
    };
    // Enough of the statement to see past leading whitespace and its first keyword.
    const PREFIX: usize = 64;
    let mut text = Vec::with_capacity(PREFIX);
    let mut bytes = value.bytes();
    while text.len() < PREFIX {
        let Some(b) = bytes.next() else { break };
        text.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = [bytes.next(), bytes.next()];
                let digit = |d: Option<u8>| (d? as char).to_digit(16);
                match (digit(hex[0]), digit(hex[1])) {
                    (Some(hi), Some(lo)) => (hi * 16 + lo) as u8,
                    _ => return false,
                }
            }
            b => b,
        });
    }
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| {
        text[s..]
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"INSERT"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_are_told_by_the_query_parameter() {
        // What sluice's inserter sends (engine::sink::clickhouse::insert).
        let sluice = "query=INSERT%20INTO%20%60default%60.%60otel_logs%60%20%28%60Timestamp%60%29%20FORMAT%20RowBinary&insert_deduplication_token=sluice-otel_logs-1-1&decompress=1";
        assert!(is_insert(Some(sluice)));
        assert!(is_insert(Some("database=x&query=+%0A%20insert+into+t")));
        assert!(is_insert(Some("query=INSERT")));
        assert!(!is_insert(Some(
            "query=SELECT%20name%20FROM%20system.columns"
        )));
        assert!(!is_insert(Some("query=INSER")));
        assert!(!is_insert(Some("query=%ZZINSERT")));
        assert!(!is_insert(Some("database=INSERT")));
        assert!(!is_insert(Some("query=")));
        assert!(!is_insert(None));
    }

    #[test]
    fn upstreams_are_plain_http_origins() {
        assert!(Discard::new("http://127.0.0.1:8123").is_ok());
        assert!(Discard::new("http://127.0.0.1:8123/").is_ok());
        assert!(Discard::new("https://ch:8443").is_err());
        assert!(Discard::new("http://ch:8123/prefix").is_err());
        assert!(Discard::new("ch:8123").is_err());
    }
}
