//! OTLP/HTTP client on `hyper`'s connection API: HTTP/1.1 (one request at a time
//! per connection) or h2c with prior knowledge (many streams per connection).
//!
//! # Request lifecycle
//!
//! `POST <endpoint path>/v1/<signal>` with `Content-Type: application/x-protobuf` or
//! `application/json`, `Content-Encoding` when compressed, the body in one piece.
//! A 2xx answer is a success (its body is read and dropped, so an HTTP/1.1 connection
//! can carry the next request). Anything else fails with the status and the
//! `google.rpc.Status` message of the body (protobuf or JSON, by the answer's
//! `Content-Type`), or the body's first bytes as text. A hyper error breaks the
//! connection and the worker reconnects; a request the connection could no longer
//! take (closed by the server while idle) is sent again on the new one.

use std::future::poll_fn;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use tokio::net::TcpStream;

use super::cli::Signal;
use super::client::{Failure, Target};
use super::status::RpcStatus;

/// Bytes of a non-Status error body kept as the message.
const MAX_TEXT: usize = 300;

const AGENT: &str = concat!("sluice-loadgen/", env!("CARGO_PKG_VERSION"));

/// A connection, or a handle on a shared HTTP/2 connection.
#[derive(Debug)]
pub enum Client {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Client {
    pub async fn handshake_http1(tcp: TcpStream) -> Result<Client, String> {
        let (send, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client::H1(send))
    }

    pub async fn handshake_http2(tcp: TcpStream) -> Result<Client, String> {
        let (send, conn) = http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(1 << 20)
            .initial_connection_window_size(16 << 20)
            .handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("h2 handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client::H2(send))
    }

    /// Another handle on the same HTTP/2 connection.
    ///
    /// # Panics
    ///
    /// On an HTTP/1.1 client, which cannot be shared; `client::connect` never asks.
    pub fn clone_h2(&self) -> Client {
        match self {
            Client::H2(s) => Client::H2(s.clone()),
            Client::H1(_) => unreachable!("HTTP/1.1 connections carry one stream"),
        }
    }

    pub async fn export(
        &mut self,
        target: &Target,
        signal: Signal,
        body: Bytes,
    ) -> Result<(), Failure> {
        let uri = &target.uris[signal.index()];
        // HTTP/1.1 requests carry the origin form (`/v1/logs`) and a Host header
        // (RFC 9112 §3.2.1); h2 takes the scheme and authority from the full URI.
        let uri = match (&*self, uri.path_and_query()) {
            (Client::H1(_), Some(pq)) => http::Uri::from(pq.clone()),
            _ => uri.clone(),
        };
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(USER_AGENT, AGENT)
            .header(
                CONTENT_TYPE,
                if target.json {
                    "application/json"
                } else {
                    "application/x-protobuf"
                },
            );
        if let Some(enc) = target.compression {
            req = req.header(CONTENT_ENCODING, enc);
        }
        if matches!(self, Client::H1(_)) {
            req = req.header(HOST, target.authority.as_str());
        }
        let mut req = req
            .body(Full::new(body))
            .map_err(|e| Failure::Transport(format!("request: {e}")))?;
        for (k, v) in &target.headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let response = match self {
            Client::H1(s) => {
                poll_fn(|cx| s.poll_ready(cx)).await.map_err(closed)?;
                s.try_send_request(req).await
            }
            Client::H2(s) => {
                poll_fn(|cx| s.poll_ready(cx)).await.map_err(closed)?;
                s.try_send_request(req).await
            }
        }
        .map_err(|mut e| {
            // hyper hands the request back when it never left; h2 says when the
            // server refused it unprocessed (GOAWAY, REFUSED_STREAM).
            if e.take_message().is_some() || h2_unprocessed(e.error()) {
                closed(e.into_error())
            } else {
                hyper_failure(e.into_error())
            }
        })?;
        let status = response.status();
        let retry_after = response.headers().contains_key(http::header::RETRY_AFTER);
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let protobuf = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-protobuf"));
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(hyper_failure)?
            .to_bytes();
        if status.is_success() {
            return Ok(());
        }
        let (message, retry_info) = error_message(&body, json, protobuf);
        Err(Failure::Http {
            status: status.as_u16(),
            message,
            retry: retry_after || retry_info,
        })
    }
}

/// The connection cannot take a request: nothing was sent.
fn closed(e: hyper::Error) -> Failure {
    Failure::Closed(format!("http: {e}"))
}

/// Whether an h2 error under `e` says the server did not process the request.
fn h2_unprocessed(e: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return super::grpc::unprocessed(h2);
        }
        source = err.source();
    }
    false
}

fn hyper_failure(e: hyper::Error) -> Failure {
    Failure::Transport(format!("http: {e}"))
}

/// The message of an error answer's body, and whether it carries a `RetryInfo` (in
/// the protobuf form).
pub fn error_message(body: &[u8], json: bool, protobuf: bool) -> (String, bool) {
    if protobuf && let Ok(s) = RpcStatus::decode(body) {
        let retry = s.retry_delay().is_some();
        return (s.message, retry);
    }
    if json
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(m) = v.get("message").and_then(|m| m.as_str())
    {
        return (m.to_string(), false);
    }
    let text = &body[..body.len().min(MAX_TEXT)];
    (String::from_utf8_lossy(text).trim().to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let status = RpcStatus {
            code: 14,
            message: "busy".into(),
            details: Vec::new(),
        }
        .encode_to_vec();
        assert_eq!(error_message(&status, false, true), ("busy".into(), false));
        let with_retry = wire::grpc::encode_status_details(
            wire::grpc::Code::Unavailable,
            "busy",
            Some(std::time::Duration::from_secs(1)),
        );
        assert_eq!(
            error_message(&with_retry, false, true),
            ("busy".into(), true)
        );
        assert_eq!(
            error_message(br#"{"code":3,"message":"bad"}"#, true, false),
            ("bad".into(), false)
        );
        assert_eq!(
            error_message(b"  plain text\n", false, false).0,
            "plain text"
        );
        assert_eq!(error_message(&[b'x'; 1000], false, false).0.len(), MAX_TEXT);
    }
}
