//! OTLP/gRPC over HTTP/2, on the `h2` crate (no tonic).
//!
//! # Request lifecycle
//!
//! `serve` runs one connection: the h2 handshake (prior knowledge, h2c), then every
//! stream in its own task on the shard. A stream is one unary `Export`:
//! route on `:path`, check `content-type` and `grpc-encoding`, read the DATA frames
//! into one length-prefixed message (releasing flow-control capacity as bytes are
//! consumed, so the client can keep sending, but only while the shard's budget has
//! room: a shard that cannot take more stops granting window), hand the message to
//! [`Shard::ingest`] (which decompresses and decodes it), answer. On shutdown the
//! connection is sent GOAWAY and served until its streams are done. Success is the encoded (empty) `Export…ServiceResponse`
//! and trailers `grpc-status: 0`; failures are a trailers-only response with
//! `grpc-status`, `grpc-message` and, when the client should retry, a
//! `grpc-status-details-bin` carrying `google.rpc.RetryInfo`.
//!
//! Errors are mapped to gRPC codes here and nowhere else:
//!
//! | cause | status |
//! |---|---|
//! | unknown method | `UNIMPLEMENTED` |
//! | unsupported `grpc-encoding` | `UNIMPLEMENTED`, with `grpc-accept-encoding` |
//! | malformed framing, compression or protobuf | `INVALID_ARGUMENT` |
//! | request larger than `limits.max_request_bytes` | `RESOURCE_EXHAUSTED` (no retry info) |
//! | overload (budget spent, write-ahead log full or failing), ClickHouse failure | `UNAVAILABLE` with `RetryInfo` |
//! | `grpc-timeout` passed, or the message did not arrive within `limits.body_timeout_ms` | `DEADLINE_EXCEEDED` |
//! | `content-type` not gRPC | HTTP 415 |

use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use tokio::net::TcpStream;
use wire::compress::{DecompressError, Encoding};
use wire::grpc::{Code, FrameError, MessageReader};

use tokio::sync::watch;

use crate::shard::{Connection, Format, IngestError, Shard, Signal};

/// Streams one client may have open at once (h2's SETTINGS_MAX_CONCURRENT_STREAMS).
pub const MAX_CONCURRENT_STREAMS: u32 = 1024;

/// Per-stream and per-connection flow-control windows: large enough that a client
/// sends a 4 MiB export without waiting for WINDOW_UPDATEs on a fast network.
pub const STREAM_WINDOW: u32 = 4 << 20;
pub const CONNECTION_WINDOW: u32 = 32 << 20;

/// The encodings sluice accepts, as `grpc-accept-encoding` lists them.
pub const ACCEPT_ENCODING: &str = "identity,gzip,zstd,deflate";

const LOGS_EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS_EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// A gRPC failure, before it is written as a response.
#[derive(Debug)]
struct Status {
    code: Code,
    message: String,
    retry_after: Option<Duration>,
    /// Set for failures that are HTTP errors rather than gRPC statuses.
    http: Option<StatusCode>,
}

impl Status {
    fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            retry_after: None,
            http: None,
        }
    }
}

impl From<IngestError> for Status {
    fn from(e: IngestError) -> Status {
        match e {
            IngestError::Decompress(d) => decompress_status(d),
            _ if e.retryable() => Status {
                retry_after: Some(crate::shard::RETRY_AFTER),
                ..Status::new(Code::Unavailable, e.to_string())
            },
            _ => Status::new(Code::InvalidArgument, e.to_string()),
        }
    }
}

/// Serves one HTTP/2 connection until the client closes it, or until the shard
/// stops and the connection's streams are done.
pub async fn serve(shard: Rc<Shard>, stream: TcpStream, mut stop: watch::Receiver<bool>) {
    let _conn = Connection::new(&shard);
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_header_list_size(64 << 10)
        .handshake::<_, Bytes>(stream)
        .await;
    let Ok(mut conn) = handshake else {
        return;
    };
    // Polling `accept` drives the connection's I/O for every stream.
    let mut stopping = *stop.borrow();
    if stopping {
        conn.graceful_shutdown();
    }
    loop {
        let accepted = tokio::select! {
            a = conn.accept() => a,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                // GOAWAY: no new streams; the open ones finish.
                conn.graceful_shutdown();
                continue;
            }
        };
        match accepted {
            Some(Ok((request, respond))) => {
                tokio::task::spawn_local(stream_task(Rc::clone(&shard), request, respond));
            }
            Some(Err(_)) | None => break,
        }
    }
}

async fn stream_task(
    shard: Rc<Shard>,
    request: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let _request = shard.request();
    let timeout = request
        .headers()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(wire::grpc::parse_timeout);
    let signal = signal_of(request.uri().path());
    let work = export(&shard, signal, request);
    let result = match timeout {
        Some(t) => tokio::time::timeout(t, work).await.unwrap_or_else(|_| {
            Err(Status::new(
                Code::DeadlineExceeded,
                "grpc-timeout passed before the export was stored",
            ))
        }),
        None => work.await,
    };
    if let Some(signal) = signal {
        let outcome = match &result {
            Ok(()) => "ok",
            Err(s) if s.code == Code::Unavailable => "refused",
            Err(s) if matches!(s.code, Code::DeadlineExceeded | Code::Cancelled) => "timeout",
            Err(_) => "rejected",
        };
        crate::telemetry::get().answered(signal.name(), outcome);
    }
    // A client that went away cannot be answered; nothing else to do.
    let _ = match result {
        Ok(()) => respond_ok(&mut respond),
        Err(status) => respond_error(&mut respond, status),
    };
}

/// The signal an `Export` method path is for.
fn signal_of(path: &str) -> Option<Signal> {
    match path {
        LOGS_EXPORT => Some(Signal::Logs),
        TRACES_EXPORT => Some(Signal::Traces),
        METRICS_EXPORT => Some(Signal::Metrics),
        _ => None,
    }
}

/// One unary Export: everything between the request headers and the answer.
async fn export(
    shard: &Rc<Shard>,
    signal: Option<Signal>,
    request: Request<h2::RecvStream>,
) -> Result<(), Status> {
    let (parts, mut body) = request.into_parts();
    let Some(signal) = signal else {
        return Err(Status::new(
            Code::Unimplemented,
            format!("unknown method {}", parts.uri.path()),
        ));
    };
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(is_grpc_content_type) {
        return Err(Status {
            http: Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ..Status::new(
                Code::Internal,
                format!("content-type {content_type:?} is not application/grpc"),
            )
        });
    }
    let encoding = match parts
        .headers
        .get("grpc-encoding")
        .map(|v| v.to_str().unwrap_or("?"))
    {
        None => Encoding::Identity,
        Some(name) => Encoding::from_header(name).ok_or_else(|| {
            Status::new(
                Code::Unimplemented,
                format!("grpc-encoding {name:?} is not supported (supported: {ACCEPT_ENCODING})"),
            )
        })?,
    };
    let limit = shard.shared.max_request_bytes;
    let mut reader = MessageReader::new(limit);
    shard.admit().await?;
    let mut held = shard.budget.hold(0);
    let timeout = shard.shared.body_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // A stalled stream is cut off: its bytes count in the budget while it waits.
        let Ok(chunk) = tokio::time::timeout_at(deadline, body.data()).await else {
            return Err(Status::new(
                Code::DeadlineExceeded,
                format!(
                    "the request message did not arrive within {} ms",
                    timeout.as_millis()
                ),
            ));
        };
        let Some(chunk) = chunk else {
            break;
        };
        let chunk =
            chunk.map_err(|e| Status::new(Code::Cancelled, format!("stream error: {e}")))?;
        held.resize(held.bytes() + chunk.len());
        // Give the window back once the shard has room for more: the bytes now live
        // in the reader, counted in the budget.
        if !shard.budget.has_room_besides(held.bytes()) {
            shard.admit_besides(held.bytes()).await?;
        }
        let _ = body.flow_control().release_capacity(chunk.len());
        reader.push(chunk).map_err(frame_status)?;
    }
    let message = reader.finish().map_err(frame_status)?;
    let encoding = if message.compressed {
        if encoding == Encoding::Identity {
            return Err(Status::new(
                Code::Internal,
                "the message is flagged compressed but grpc-encoding is identity",
            ));
        }
        encoding
    } else {
        Encoding::Identity
    };
    shard
        .ingest(signal, Format::Protobuf, encoding, message.body, held)
        .await
        .map_err(Status::from)
}

fn is_grpc_content_type(ct: &str) -> bool {
    let base = ct.split(';').next().unwrap_or("").trim();
    base.eq_ignore_ascii_case("application/grpc")
        || base.eq_ignore_ascii_case("application/grpc+proto")
}

fn frame_status(e: FrameError) -> Status {
    Status::new(e.code(), e.to_string())
}

fn decompress_status(e: DecompressError) -> Status {
    match e {
        DecompressError::TooLarge { .. } => Status::new(Code::ResourceExhausted, e.to_string()),
        _ => Status::new(Code::InvalidArgument, e.to_string()),
    }
}

fn grpc_headers() -> Response<()> {
    let mut r = Response::new(());
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    h.insert(
        "grpc-accept-encoding",
        HeaderValue::from_static(ACCEPT_ENCODING),
    );
    r
}

fn respond_ok(respond: &mut SendResponse<Bytes>) -> Result<(), h2::Error> {
    let mut stream = respond.send_response(grpc_headers(), false)?;
    // An empty Export…ServiceResponse (no partial_success): a zero-length message.
    let mut msg = BytesMut::with_capacity(wire::grpc::PREFIX_LEN);
    wire::grpc::encode_message(&[], &mut msg);
    stream.send_data(msg.freeze(), false)?;
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    stream.send_trailers(trailers)
}

fn respond_error(respond: &mut SendResponse<Bytes>, status: Status) -> Result<(), h2::Error> {
    if let Some(http_status) = status.http {
        let mut r = Response::new(());
        *r.status_mut() = http_status;
        return respond.send_response(r, true).map(drop);
    }
    // Trailers-only: the status travels in the one HEADERS frame.
    let mut r = grpc_headers();
    let h = r.headers_mut();
    h.insert(
        "grpc-status",
        HeaderValue::from_static(status.code.as_str()),
    );
    let mut msg = String::new();
    wire::grpc::percent_encode_message(&status.message, &mut msg);
    if let Ok(v) = HeaderValue::from_str(&msg) {
        h.insert("grpc-message", v);
    }
    if status.retry_after.is_some() {
        let details =
            wire::grpc::status_details_header(status.code, &status.message, status.retry_after);
        if let Ok(v) = HeaderValue::from_str(&details) {
            h.insert("grpc-status-details-bin", v);
        }
    }
    respond.send_response(r, true).map(drop)
}
