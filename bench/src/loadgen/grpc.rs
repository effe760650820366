//! OTLP/gRPC client on the `h2` crate (no tonic): unary `Export` calls, many streams
//! on one connection.
//!
//! # Request lifecycle
//!
//! 1. Wait for a free stream ([`h2::client::SendRequest::poll_ready`]: the server's
//!    `SETTINGS_MAX_CONCURRENT_STREAMS`).
//! 2. HEADERS: `POST /opentelemetry.proto.collector.<signal>.v1.<Service>/Export`,
//!    `content-type: application/grpc`, `te: trailers`, `grpc-encoding` when
//!    compressed. One DATA frame (h2 splits it by the peer's frame size and flow
//!    control windows) holding the Length-Prefixed-Message from `body`, end of stream.
//! 3. The answer: `:status` ≠ 200 is an HTTP failure. A `grpc-status` in the headers
//!    is a trailers-only answer. Otherwise the body is drained (releasing flow-control
//!    capacity) and the status read from the trailers. `grpc-status` ≠ 0 is a failure
//!    with its code and percent-decoded `grpc-message`; no status at all is
//!    `INTERNAL`, as gRPC clients treat it.
//!
//! A stream reset fails that request only; an I/O error or GOAWAY breaks the connection
//! and the worker reconnects. A request the server did not process (refused before
//! its HEADERS were sent, `REFUSED_STREAM`, above a graceful GOAWAY's last stream id)
//! is sent again on the new connection, so it is neither a failure nor a duplicate.

use std::future::poll_fn;

use bytes::Bytes;
use h2::client::SendRequest;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use tokio::net::TcpStream;
use wire::grpc::Code;

use super::cli::Signal;
use super::client::{Failure, Target};
use super::status::RpcStatus;

/// Receive windows: answers are a few bytes, so the defaults would do; a larger
/// connection window keeps many streams from waiting on WINDOW_UPDATEs.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

/// `INTERNAL`: an answer without `grpc-status` (gRPC PROTOCOL-HTTP2.md: "a missing
/// status is an error").
const MISSING_STATUS: u32 = Code::Internal as u32;

const USER_AGENT: &str = concat!("sluice-loadgen/", env!("CARGO_PKG_VERSION"));

/// One HTTP/2 connection; clones share it, one request at a time each.
#[derive(Clone, Debug)]
pub struct Client {
    send: SendRequest<Bytes>,
}

impl Client {
    /// The h2 handshake (prior knowledge, h2c); the connection is driven by a task of
    /// its own until every clone is dropped.
    pub async fn handshake(tcp: TcpStream) -> Result<Client, String> {
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(tcp)
            .await
            .map_err(|e| format!("h2 handshake: {e}"))?;
        tokio::spawn(async move {
            // Its errors reach the streams, which report them.
            let _ = conn.await;
        });
        Ok(Client { send })
    }

    /// One unary `Export` call with `body`, a Length-Prefixed-Message.
    pub async fn export(
        &mut self,
        target: &Target,
        signal: Signal,
        body: Bytes,
    ) -> Result<(), Failure> {
        poll_fn(|cx| self.send.poll_ready(cx))
            .await
            .map_err(h2_failure)?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(target.uris[signal.index()].clone())
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .header(http::header::TE, "trailers")
            .header(http::header::USER_AGENT, USER_AGENT)
            .header("grpc-accept-encoding", "identity,gzip,zstd");
        if let Some(enc) = target.compression {
            req = req.header("grpc-encoding", enc);
        }
        let mut req = req
            .body(())
            .map_err(|e| Failure::Transport(format!("request: {e}")))?;
        for (k, v) in &target.headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let (response, mut stream) = self
            .send
            .send_request(req, false)
            .map_err(|e| Failure::Closed(format!("h2: {e}")))?;
        stream.send_data(body, true).map_err(h2_failure)?;
        let response = response.await.map_err(h2_failure)?;
        read_status(response).await
    }
}

/// The call's outcome from the answer's headers, body and trailers.
async fn read_status(response: Response<h2::RecvStream>) -> Result<(), Failure> {
    let (parts, mut body) = response.into_parts();
    if parts.status != StatusCode::OK {
        return Err(Failure::Http {
            status: parts.status.as_u16(),
            message: parts
                .headers
                .get("grpc-message")
                .map_or_else(String::new, |m| percent_decode(m.as_bytes())),
            retry: parts.headers.contains_key(http::header::RETRY_AFTER),
        });
    }
    if parts.headers.contains_key("grpc-status") {
        return status(&parts.headers);
    }
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(h2_failure)?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    match body.trailers().await.map_err(h2_failure)? {
        Some(trailers) => status(&trailers),
        None => Err(Failure::Grpc {
            code: MISSING_STATUS,
            message: "answer without grpc-status".into(),
            retry: false,
        }),
    }
}

/// Reads `grpc-status` / `grpc-message`, and whether `grpc-status-details-bin`
/// carries a `RetryInfo`.
pub fn status(headers: &HeaderMap) -> Result<(), Failure> {
    let message = || {
        headers
            .get("grpc-message")
            .map_or_else(String::new, |m| percent_decode(m.as_bytes()))
    };
    let retry = || {
        headers
            .get("grpc-status-details-bin")
            .and_then(|v| RpcStatus::from_details_header(v.as_bytes()))
            .is_some_and(|s| s.retry_delay().is_some())
    };
    match headers.get("grpc-status").map(parse_status) {
        Some(Some(0)) => Ok(()),
        Some(Some(code)) => Err(Failure::Grpc {
            code,
            message: message(),
            retry: retry(),
        }),
        Some(None) => Err(Failure::Grpc {
            code: MISSING_STATUS,
            message: format!("unreadable grpc-status; grpc-message: {}", message()),
            retry: false,
        }),
        None => Err(Failure::Grpc {
            code: MISSING_STATUS,
            message: "answer without grpc-status".into(),
            retry: false,
        }),
    }
}

fn parse_status(v: &HeaderValue) -> Option<u32> {
    v.to_str().ok()?.parse().ok()
}

/// Whether `e` says the server did not process the stream (see [`h2_failure`]).
pub fn unprocessed(e: &h2::Error) -> bool {
    (e.is_reset() && e.reason() == Some(h2::Reason::REFUSED_STREAM))
        || (e.is_go_away() && e.is_remote() && e.reason() == Some(h2::Reason::NO_ERROR))
}

/// An h2 error as a failure. Two kinds mean the server did not process the stream,
/// so it is sent again on a new connection: a reset with `REFUSED_STREAM` (RFC 9113
/// §8.7) and a graceful GOAWAY (`NO_ERROR`), which h2 reports only to the streams
/// above the GOAWAY's last stream id. A GOAWAY with an error code also reaches
/// streams the server may have processed: that is a failure, as is any other reset.
fn h2_failure(e: h2::Error) -> Failure {
    if unprocessed(&e) {
        Failure::Closed(format!("h2: {e}"))
    } else if e.is_reset() && !e.is_go_away() && !e.is_io() {
        Failure::Grpc {
            code: Code::Cancelled as u32,
            message: format!("stream reset: {e}"),
            retry: false,
        }
    } else {
        Failure::Transport(format!("h2: {e}"))
    }
}

/// Undoes `grpc-message`'s percent-encoding (PROTOCOL-HTTP2.md, "Percent-Encoded");
/// invalid UTF-8 comes out replaced.
pub fn percent_decode(v: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%'
            && i + 2 < v.len()
            && let (Some(h), Some(l)) = (hex(v[i + 1]), hex(v[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The spec's name of a status code (`UNAVAILABLE`).
pub fn code_name(code: u32) -> &'static str {
    const CODES: [Code; 17] = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];
    CODES
        .get(code as usize)
        .map_or("UNKNOWN_CODE", |c| c.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn statuses() {
        assert_eq!(status(&headers(&[("grpc-status", "0")])), Ok(()));
        assert_eq!(
            status(&headers(&[
                ("grpc-status", "14"),
                ("grpc-message", "overloaded%2C retry%20later")
            ])),
            Err(Failure::Grpc {
                code: 14,
                message: "overloaded, retry later".into(),
                retry: false,
            })
        );
        let details = wire::grpc::status_details_header(
            Code::Unavailable,
            "overloaded",
            Some(std::time::Duration::from_secs(1)),
        );
        let mut with_retry = headers(&[("grpc-status", "14")]);
        with_retry.insert(
            "grpc-status-details-bin",
            HeaderValue::from_str(&details).unwrap(),
        );
        assert!(matches!(
            status(&with_retry),
            Err(Failure::Grpc { retry: true, .. })
        ));
        assert!(matches!(
            status(&headers(&[])),
            Err(Failure::Grpc { code: 13, .. })
        ));
        assert!(matches!(
            status(&headers(&[("grpc-status", "x")])),
            Err(Failure::Grpc { code: 13, .. })
        ));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode(b"a%20b"), "a b");
        assert_eq!(percent_decode(b"caf%C3%A9"), "café");
        assert_eq!(percent_decode(b"100%"), "100%");
        assert_eq!(percent_decode(b"%zz%4"), "%zz%4");
        // Round trip with the server side's encoder.
        let mut enc = String::new();
        wire::grpc::percent_encode_message("naïve 100% \n ok", &mut enc);
        assert_eq!(percent_decode(enc.as_bytes()), "naïve 100% \n ok");
    }

    #[test]
    fn code_names() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(14), "UNAVAILABLE");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        assert_eq!(code_name(99), "UNKNOWN_CODE");
    }
}
