//! A faulty OTLP/HTTP logs proxy: forwards every `/v1/logs` request (HTTP/1.1,
//! protobuf) to an upstream and hands its answer back, but in the request that
//! arrives `drop_in`-th it removes one log record, and in the `duplicate_in`-th it
//! sends one record twice. The load generator is told the request succeeded, so only
//! `--verify` can notice. It notes the `loadgen.seq` of what it dropped and doubled.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use tokio::net::TcpListener;

/// Which requests (0-based, in order of arrival) lose a record and double one.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    pub drop_in: Option<usize>,
    pub duplicate_in: Option<usize>,
}

/// What went through.
#[derive(Debug, Default)]
pub struct Log {
    pub requests: usize,
    /// Records in the requests as they arrived.
    pub received: u64,
    /// Records sent upstream.
    pub forwarded: u64,
    /// `loadgen.seq` of the records removed and of those sent twice.
    pub dropped: Vec<u64>,
    pub duplicated: Vec<u64>,
}

/// Keeps the proxy's runtime alive.
pub struct Proxy {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Log>>,
    _rt: tokio::runtime::Runtime,
}

struct Ctx {
    upstream: SocketAddr,
    faults: Faults,
    log: Arc<Mutex<Log>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// Starts a proxy to the OTLP/HTTP endpoint at `upstream`.
pub fn start(upstream: SocketAddr, faults: Faults) -> Proxy {
    let rt = crate::endpoint::runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let ctx = Arc::new(Ctx {
        upstream,
        faults,
        log: Arc::clone(&log),
        client: rt.block_on(async { Client::builder(TokioExecutor::new()).build_http() }),
    });
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let ctx = Arc::clone(&ctx);
                    async move {
                        let answer = forward(&ctx, req).await.unwrap_or_else(|e| {
                            // The load generator counts this as a failed request.
                            Response::builder()
                                .status(StatusCode::BAD_GATEWAY)
                                .body(Full::new(Bytes::from(e)))
                                .unwrap()
                        });
                        Ok::<_, hyper::Error>(answer)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Proxy { addr, log, _rt: rt }
}

fn seq(record: &LogRecord) -> u64 {
    let value = record
        .attributes
        .iter()
        .find(|kv| kv.key == "loadgen.seq")
        .and_then(|kv| kv.value.as_ref()?.value.as_ref());
    match value {
        Some(Value::StringValue(s)) => s.parse().expect("numeric loadgen.seq"),
        other => panic!("loadgen.seq is {other:?}"),
    }
}

/// Decodes, damages as configured, re-encodes, sends upstream; sluice's answer.
async fn forward(ctx: &Ctx, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = req.into_parts();
    if parts.uri.path() != "/v1/logs" {
        return Err(format!("the proxy forwards logs only, not {}", parts.uri));
    }
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let mut msg = ExportLogsServiceRequest::decode(body).map_err(|e| e.to_string())?;
    let count = |m: &ExportLogsServiceRequest| -> u64 {
        m.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len() as u64)
            .sum()
    };
    {
        let mut log = ctx.log.lock().unwrap();
        let n = log.requests;
        log.requests += 1;
        log.received += count(&msg);
        let records = msg
            .resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
            .map(|s| &mut s.log_records)
            .next()
            .ok_or("no scope logs")?;
        let middle = records.len() / 2;
        if ctx.faults.drop_in == Some(n) {
            let r = records.remove(middle);
            log.dropped.push(seq(&r));
        }
        if ctx.faults.duplicate_in == Some(n) {
            let r = records[middle].clone();
            log.duplicated.push(seq(&r));
            records.insert(middle, r);
        }
        log.forwarded += count(&msg);
    }
    let upstream = Request::post(format!("http://{}/v1/logs", ctx.upstream))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(msg.encode_to_vec())))
        .unwrap();
    let answer = ctx
        .client
        .request(upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = answer.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}
