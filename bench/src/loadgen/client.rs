//! Connections to the endpoint, whatever the protocol: one [`Conn`] per TCP
//! connection, and a [`Stream`] handle per concurrent request on it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpStream;

use super::cli::{Config, Protocol, Signal};
use super::grpc;
use super::http as otlp_http;

/// Why one request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A gRPC answer with `grpc-status` ≠ 0 (from the trailers, or a trailers-only
    /// answer's headers), or a gRPC answer without one (code 13, as gRPC clients do).
    /// `retry`: it carried a `google.rpc.RetryInfo` (`grpc-status-details-bin`).
    Grpc {
        code: u32,
        message: String,
        retry: bool,
    },
    /// An HTTP status other than 2xx, with the message of its `google.rpc.Status`
    /// body (or the body's text). `retry`: it carried a `Retry-After` header or a
    /// `RetryInfo` in its body.
    Http {
        status: u16,
        message: String,
        retry: bool,
    },
    /// The connection or stream broke.
    Transport(String),
    /// The connection was closed (HTTP/1.1 `Connection: close`, an HTTP/2 GOAWAY)
    /// before the request was sent: the worker sends it again on a new connection.
    Closed(String),
    /// No answer within `--timeout`.
    Timeout,
}

impl Failure {
    /// Whether the connection is unusable afterwards (the worker reconnects).
    pub fn breaks_connection(&self) -> bool {
        matches!(self, Failure::Transport(_) | Failure::Closed(_))
    }
}

/// What every request needs that does not change per request.
#[derive(Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// `host:port`, for `:authority` / `Host`.
    pub authority: String,
    /// Request URI per signal ([`Signal::index`]).
    pub uris: [http::Uri; 3],
    pub compression: Option<&'static str>,
    pub json: bool,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

impl Target {
    pub fn new(cfg: &Config, addr: SocketAddr) -> Result<Target, http::Error> {
        let uri = |s: Signal| -> Result<http::Uri, http::Error> {
            let path = match cfg.protocol {
                Protocol::Grpc => s.grpc_path().to_string(),
                Protocol::Http => format!("{}{}", cfg.path_prefix, s.http_path()),
            };
            http::Uri::builder()
                .scheme("http")
                .authority(cfg.authority.as_str())
                .path_and_query(path)
                .build()
        };
        Ok(Target {
            addr,
            authority: cfg.authority.clone(),
            uris: [
                uri(Signal::Logs)?,
                uri(Signal::Traces)?,
                uri(Signal::Metrics)?,
            ],
            compression: cfg.compression.token(),
            json: cfg.encoding == super::cli::Encoding::Json,
            headers: cfg.headers.clone(),
        })
    }
}

/// How to speak to the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Grpc,
    Http1,
    Http2,
}

impl Kind {
    pub fn of(cfg: &Config) -> Kind {
        match (cfg.protocol, cfg.http2) {
            (Protocol::Grpc, _) => Kind::Grpc,
            (Protocol::Http, false) => Kind::Http1,
            (Protocol::Http, true) => Kind::Http2,
        }
    }
}

/// A handle for one request at a time on a connection.
#[derive(Debug)]
pub enum Stream {
    Grpc(grpc::Client),
    Http(otlp_http::Client),
}

impl Stream {
    pub async fn send(
        &mut self,
        target: &Target,
        signal: Signal,
        body: Bytes,
    ) -> Result<(), Failure> {
        match self {
            Stream::Grpc(c) => c.export(target, signal, body).await,
            Stream::Http(c) => c.export(target, signal, body).await,
        }
    }
}

/// Opens one connection and returns `streams` handles on it (HTTP/1.1: one).
pub async fn connect(
    kind: Kind,
    target: &Arc<Target>,
    streams: usize,
) -> Result<Vec<Stream>, String> {
    let tcp = TcpStream::connect(target.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", target.addr))?;
    // Requests are written whole; Nagle would only delay the last segment.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(match kind {
        Kind::Grpc => {
            let c = grpc::Client::handshake(tcp).await?;
            (0..streams).map(|_| Stream::Grpc(c.clone())).collect()
        }
        Kind::Http1 => vec![Stream::Http(otlp_http::Client::handshake_http1(tcp).await?)],
        Kind::Http2 => {
            let c = otlp_http::Client::handshake_http2(tcp).await?;
            (0..streams).map(|_| Stream::Http(c.clone_h2())).collect()
        }
    })
}
