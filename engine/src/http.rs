//! OTLP/HTTP on `hyper`: HTTP/1.1 and h2c (prior knowledge) on one port.
//!
//! # Request lifecycle
//!
//! Route (`POST /v1/logs`; `OPTIONS` is a CORS preflight), check the content type
//! (`application/x-protobuf` or `application/json`) and `Content-Encoding`, wait for
//! room in the shard's budget, read the body up to the size limit (Content-Length or
//! chunked), counting it in the budget as it arrives and reading on only while there
//! is room, decompress (bounded), hand it to [`Shard::ingest`], answer in the
//! request's content type. Browsers post session
//! replay straight to this port, so every answer carries the CORS headers when the
//! request's `Origin` is allowed.
//!
//! Errors are mapped to HTTP here and nowhere else; their bodies are
//! `google.rpc.Status` in the request's content type:
//!
//! | cause | status |
//! |---|---|
//! | unknown path / other method | 404 / 405 |
//! | other content type or encoding | 415 |
//! | malformed body, compression, protobuf or JSON | 400 |
//! | body larger than `limits.max_request_bytes` | 413 |
//! | body not arrived within `limits.body_timeout_ms` | 408 |
//! | overload (budget spent, write-ahead log full or failing), ClickHouse failure | 503 with `Retry-After` |

use std::convert::Infallible;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wire::compress::{DecompressError, Encoding};
use wire::grpc::Code;

use tokio::sync::watch;

use crate::admission::Held;
use crate::shard::{Connection, Format, IngestError, RETRY_AFTER, Shard, Signal};

const CT_PROTOBUF: &str = "application/x-protobuf";
const CT_JSON: &str = "application/json";

/// Runs `!Send` futures on the shard's thread (hyper's HTTP/2 needs an executor).
#[derive(Clone, Copy, Debug)]
struct LocalExec;

impl<F: std::future::Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Serves one connection (HTTP/1.1 or h2c) until the client closes it, or until
/// the shard stops and the requests on it are answered.
pub async fn serve(shard: Rc<Shard>, stream: TcpStream, mut stop: watch::Receiver<bool>) {
    let _conn = Connection::new(&shard);
    let service = hyper::service::service_fn(move |req| {
        let shard = Rc::clone(&shard);
        async move { Ok::<_, Infallible>(handle(&shard, req).await) }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(LocalExec);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            // A broken connection only ends that connection.
            _ = conn.as_mut() => break,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                // GOAWAY / `Connection: close` after the requests in progress.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A failure, before it is written as a response.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    code: Code,
    message: String,
    retry: bool,
}

fn fail(status: StatusCode, code: Code, message: impl Into<String>) -> Failure {
    Failure {
        status,
        code,
        message: message.into(),
        retry: false,
    }
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Failure {
        match e {
            IngestError::Decompress(DecompressError::TooLarge { .. }) => fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ResourceExhausted,
                e.to_string(),
            ),
            _ if e.retryable() => Failure {
                retry: true,
                ..fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::Unavailable,
                    e.to_string(),
                )
            },
            _ => fail(
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                e.to_string(),
            ),
        }
    }
}

async fn handle(shard: &Rc<Shard>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let _request = shard.request();
    let origin = allowed_origin(
        &shard.shared.cors_origins,
        req.headers().get(header::ORIGIN),
    );
    let format = response_format(req.headers().get(header::CONTENT_TYPE));
    let mut response = if req.method() == Method::OPTIONS {
        preflight(&req)
    } else {
        let signal = signal_of(req.uri().path());
        let result = export(shard, signal, req).await;
        if let Some(signal) = signal {
            let outcome = match &result {
                Ok(()) => "ok",
                Err(f) if f.retry => "refused",
                Err(f) if f.status == StatusCode::REQUEST_TIMEOUT => "timeout",
                Err(_) => "rejected",
            };
            crate::telemetry::get().answered(signal.name(), outcome);
        }
        match result {
            Ok(()) => ok(format),
            Err(f) => failure(format, f),
        }
    };
    if let Some(origin) = origin {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The signal an OTLP/HTTP path is for.
fn signal_of(path: &str) -> Option<Signal> {
    match path {
        "/v1/logs" => Some(Signal::Logs),
        "/v1/traces" => Some(Signal::Traces),
        "/v1/metrics" => Some(Signal::Metrics),
        _ => None,
    }
}

async fn export(
    shard: &Rc<Shard>,
    signal: Option<Signal>,
    req: Request<Incoming>,
) -> Result<(), Failure> {
    let Some(signal) = signal else {
        return Err(fail(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            format!("no OTLP endpoint at {}", req.uri().path()),
        ));
    };
    if req.method() != Method::POST {
        return Err(fail(
            StatusCode::METHOD_NOT_ALLOWED,
            Code::Unimplemented,
            format!("{} is not allowed; OTLP/HTTP uses POST", req.method()),
        ));
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = match ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        CT_PROTOBUF => Format::Protobuf,
        CT_JSON => Format::Json,
        _ => {
            return Err(fail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::InvalidArgument,
                format!("content-type {ct:?} is not supported; use {CT_PROTOBUF} or {CT_JSON}"),
            ));
        }
    };
    let encoding = match req.headers().get(header::CONTENT_ENCODING) {
        None => Encoding::Identity,
        Some(v) => {
            let name = v.to_str().unwrap_or("?");
            Encoding::from_header(name).ok_or_else(|| {
                fail(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    Code::InvalidArgument,
                    format!(
                        "content-encoding {name:?} is not supported; use gzip, zstd or deflate"
                    ),
                )
            })?
        }
    };
    // Wait for room before reading the body: until then it stays in the socket.
    shard.admit().await.map_err(Failure::from)?;
    let mut held = shard.budget.hold(0);
    let body = read_body(shard, req.into_body(), &mut held).await?;
    if body.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            Code::InvalidArgument,
            "the request body is empty",
        ));
    }
    shard
        .ingest(signal, format, encoding, body, held)
        .await
        .map_err(Failure::from)
}

/// Reads the body up to `limits.max_request_bytes`, counting it in the shard's budget
/// (`held`) as it arrives. While the budget is spent the rest is not read: it stays
/// with the client (TCP's window on HTTP/1.1; on h2c hyper grants no more stream
/// window until what it holds is read), and past the admission wait the request is
/// refused with retry information.
async fn read_body(
    shard: &Rc<Shard>,
    mut body: Incoming,
    held: &mut Held,
) -> Result<Bytes, Failure> {
    let limit = shard.shared.max_request_bytes;
    let timeout = shard.shared.body_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0;
    loop {
        // A stalled upload is cut off: its bytes count in the budget while it waits.
        let Ok(frame) = tokio::time::timeout_at(deadline, body.frame()).await else {
            return Err(fail(
                StatusCode::REQUEST_TIMEOUT,
                Code::DeadlineExceeded,
                format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                ),
            ));
        };
        let Some(frame) = frame else {
            break;
        };
        let frame = frame.map_err(|e| {
            fail(
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                format!("could not read the request body: {e}"),
            )
        })?;
        // Trailers carry nothing OTLP uses.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        len += data.len();
        if len > limit {
            return Err(fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ResourceExhausted,
                format!("the request body is larger than {limit} bytes"),
            ));
        }
        held.resize(len);
        chunks.push(data);
        if !shard.budget.has_room_besides(len) {
            shard.admit_besides(len).await.map_err(Failure::from)?;
        }
    }
    if chunks.len() == 1 {
        return Ok(chunks.pop().expect("one chunk"));
    }
    // Joined into one buffer: both copies are counted while they exist.
    held.resize(2 * len);
    let mut joined = BytesMut::with_capacity(len);
    for c in chunks {
        joined.extend_from_slice(&c);
    }
    held.resize(len);
    Ok(joined.freeze())
}

/// The content type of the answer: the request's, protobuf when it is neither.
fn response_format(ct: Option<&HeaderValue>) -> Format {
    match ct.and_then(|v| v.to_str().ok()) {
        Some(ct) if ct.trim_start().to_ascii_lowercase().starts_with(CT_JSON) => Format::Json,
        _ => Format::Protobuf,
    }
}

fn ok(format: Format) -> Response<Full<Bytes>> {
    // An empty Export…ServiceResponse: no bytes in protobuf, `{}` in JSON.
    let (ct, body) = match format {
        Format::Protobuf => (CT_PROTOBUF, Bytes::new()),
        Format::Json => (CT_JSON, Bytes::from_static(b"{}")),
    };
    let mut r = Response::new(Full::new(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

fn failure(format: Format, f: Failure) -> Response<Full<Bytes>> {
    let retry_after = f.retry.then_some(RETRY_AFTER);
    let (ct, body) = match format {
        Format::Protobuf => (
            CT_PROTOBUF,
            Bytes::from(wire::grpc::encode_status_details(
                f.code,
                &f.message,
                retry_after,
            )),
        ),
        Format::Json => {
            let status = serde_json::json!({ "code": f.code as i32, "message": f.message });
            (CT_JSON, Bytes::from(status.to_string()))
        }
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = f.status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Some(after) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
    if f.status == StatusCode::METHOD_NOT_ALLOWED {
        h.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    }
    r
}

/// The answer to a CORS preflight.
fn preflight(req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    let asked = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        asked.unwrap_or_else(|| {
            HeaderValue::from_static("content-type, content-encoding, authorization")
        }),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    r
}

/// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
fn allowed_origin(allowed: &[String], origin: Option<&HeaderValue>) -> Option<HeaderValue> {
    let origin = origin?;
    if allowed.iter().any(|a| a == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    let o = origin.to_str().ok()?;
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(o))
        .then(|| origin.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_allows_configured_origins_only() {
        let any = vec!["*".to_owned()];
        let one = vec!["https://app.example".to_owned()];
        let o = HeaderValue::from_static("https://app.example");
        let other = HeaderValue::from_static("https://evil.example");
        assert_eq!(
            allowed_origin(&any, Some(&other)),
            Some(HeaderValue::from_static("*"))
        );
        assert_eq!(allowed_origin(&one, Some(&o)), Some(o.clone()));
        assert_eq!(allowed_origin(&one, Some(&other)), None);
        assert_eq!(allowed_origin(&any, None), None);
    }
}
