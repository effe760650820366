//! A null OTLP endpoint: reads every request body and answers OK without decoding
//! it, so `sluice-loadgen` can be measured against an endpoint that costs almost
//! nothing (the generator's own ceiling).
//!
//! ```sh
//! cargo run --release -p sluice-bench --example otlp_sink -- 127.0.0.1:4317 127.0.0.1:4318
//! ```
//!
//! The first address serves OTLP/gRPC (h2c), the second OTLP/HTTP (HTTP/1.1 and h2c).

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// An empty `Export…ServiceResponse` as one uncompressed gRPC message.
const EMPTY_MESSAGE: &[u8] = &[0, 0, 0, 0, 0];

async fn grpc(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let handshake = h2::server::Builder::new()
                .initial_window_size(4 << 20)
                .initial_connection_window_size(32 << 20)
                .max_concurrent_streams(1024)
                .handshake::<_, Bytes>(tcp)
                .await;
            let Ok(mut conn) = handshake else { return };
            while let Some(Ok((req, mut respond))) = conn.accept().await {
                tokio::spawn(async move {
                    let mut body = req.into_body();
                    while let Some(Ok(chunk)) = body.data().await {
                        let _ = body.flow_control().release_capacity(chunk.len());
                    }
                    let head = Response::builder()
                        .header("content-type", "application/grpc")
                        .body(())
                        .unwrap_or_default();
                    let Ok(mut send) = respond.send_response(head, false) else {
                        return;
                    };
                    let _ = send.send_data(Bytes::from_static(EMPTY_MESSAGE), false);
                    let mut trailers = HeaderMap::new();
                    trailers.insert("grpc-status", HeaderValue::from_static("0"));
                    let _ = send.send_trailers(trailers);
                });
            }
        });
    }
}

async fn http(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                let ctype = req.headers().get("content-type").cloned();
                let _ = req.into_body().collect().await;
                let mut r = Response::new(Full::new(Bytes::new()));
                if let Some(c) = ctype {
                    r.headers_mut().insert("content-type", c);
                }
                Ok::<_, Infallible>(r)
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let grpc_addr = args.next().unwrap_or_else(|| "127.0.0.1:4317".into());
    let http_addr = args.next().unwrap_or_else(|| "127.0.0.1:4318".into());
    let (g, h) = (
        TcpListener::bind(&grpc_addr).await?,
        TcpListener::bind(&http_addr).await?,
    );
    eprintln!("otlp_sink: grpc={grpc_addr} http={http_addr}");
    tokio::join!(grpc(g), http(h));
    Ok(())
}
