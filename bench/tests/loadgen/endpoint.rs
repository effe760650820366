//! A tiny OTLP endpoint for the tests: gRPC on `h2`, OTLP/HTTP on hyper (HTTP/1.1 and
//! h2c), decoding every request with prost / serde (the reference decoders) and
//! counting what it received; and a fake ClickHouse that answers `--verify`'s queries
//! from what the endpoint received, with records dropped or duplicated on request.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use tokio::net::TcpListener;

/// How the endpoint answers.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    /// OK, then close the connection: gRPC sends GOAWAY after the fifth stream,
    /// OTLP/HTTP answers `Connection: close`.
    OkAndClose,
    /// gRPC: HTTP 200 with this status, trailers-only or after a response message.
    GrpcStatus {
        code: u32,
        message: &'static str,
        trailers_only: bool,
    },
    /// OTLP/HTTP: this status with a `google.rpc.Status` protobuf body.
    HttpStatus {
        status: u16,
        message: &'static str,
    },
    /// Every request, whatever its body (which is not looked at), answered with this
    /// gRPC status (trailers-only) or HTTP status: a broken endpoint, for
    /// `--malformed`.
    Refuse {
        grpc: u32,
        http: u16,
    },
}

/// What arrived, by signal (`logs`, `traces`, `metrics`).
#[derive(Debug, Default)]
pub struct Received {
    pub requests: BTreeMap<&'static str, u64>,
    pub records: BTreeMap<&'static str, u64>,
    /// `loadgen.request` of every resource.
    pub request_ids: Vec<u64>,
    /// `loadgen.seq` of every record, by signal.
    pub seqs: BTreeMap<&'static str, Vec<u64>>,
    /// `loadgen.run_id`s seen.
    pub run_ids: Vec<String>,
    /// Request content types and encodings seen.
    pub content: Vec<(String, String)>,
}

impl Received {
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
    pub fn total_records(&self) -> u64 {
        self.records.values().sum()
    }
}

pub type Shared = Arc<Mutex<Received>>;

/// Keeps a server's runtime alive.
pub struct Server {
    pub addr: SocketAddr,
    pub received: Shared,
    _rt: tokio::runtime::Runtime,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        }
    })
}

fn note_resource(r: &mut Received, attrs: &[KeyValue]) {
    if let Some(id) = string_attr(attrs, "loadgen.request") {
        r.request_ids.push(id.parse().expect("numeric request id"));
    }
    if let Some(run) = string_attr(attrs, "loadgen.run_id")
        && !r.run_ids.contains(&run)
    {
        r.run_ids.push(run);
    }
}

fn note_record(r: &mut Received, signal: &'static str, attrs: &[KeyValue]) {
    *r.records.entry(signal).or_insert(0) += 1;
    if let Some(seq) = string_attr(attrs, "loadgen.seq") {
        r.seqs
            .entry(signal)
            .or_default()
            .push(seq.parse().expect("numeric seq"));
    }
}

/// Decodes one request of `signal` and counts it.
fn ingest(shared: &Shared, signal: &'static str, body: &[u8], json: bool) -> Result<(), String> {
    fn decode<M: Message + Default + serde::de::DeserializeOwned>(
        b: &[u8],
        json: bool,
    ) -> Result<M, String> {
        if json {
            serde_json::from_slice(b).map_err(|e| e.to_string())
        } else {
            M::decode(b).map_err(|e| e.to_string())
        }
    }
    let mut r = shared.lock().unwrap();
    match signal {
        "logs" => {
            let m: ExportLogsServiceRequest = decode(body, json)?;
            for rl in &m.resource_logs {
                note_resource(
                    &mut r,
                    rl.resource.as_ref().map_or(&[][..], |x| &x.attributes),
                );
                for l in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
                    note_record(&mut r, signal, &l.attributes);
                }
            }
        }
        "traces" => {
            let m: ExportTraceServiceRequest = decode(body, json)?;
            for rs in &m.resource_spans {
                note_resource(
                    &mut r,
                    rs.resource.as_ref().map_or(&[][..], |x| &x.attributes),
                );
                for s in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                    note_record(&mut r, signal, &s.attributes);
                }
            }
        }
        _ => {
            let m: ExportMetricsServiceRequest = decode(body, json)?;
            for rm in &m.resource_metrics {
                note_resource(
                    &mut r,
                    rm.resource.as_ref().map_or(&[][..], |x| &x.attributes),
                );
                for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
                    let points: Vec<&[KeyValue]> = match &metric.data {
                        Some(Data::Gauge(g)) => {
                            g.data_points.iter().map(|p| &p.attributes[..]).collect()
                        }
                        Some(Data::Sum(s)) => {
                            s.data_points.iter().map(|p| &p.attributes[..]).collect()
                        }
                        Some(Data::Histogram(h)) => {
                            h.data_points.iter().map(|p| &p.attributes[..]).collect()
                        }
                        Some(Data::ExponentialHistogram(h)) => {
                            h.data_points.iter().map(|p| &p.attributes[..]).collect()
                        }
                        Some(Data::Summary(s)) => {
                            s.data_points.iter().map(|p| &p.attributes[..]).collect()
                        }
                        None => Vec::new(),
                    };
                    for p in points {
                        note_record(&mut r, signal, p);
                    }
                }
            }
        }
    }
    *r.requests.entry(signal).or_insert(0) += 1;
    Ok(())
}

fn decompress(body: &[u8], encoding: &str) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut v = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut v)
                .expect("gzip");
            v
        }
        "zstd" => zstd::decode_all(body).expect("zstd"),
        _ => body.to_vec(),
    }
}

fn signal_of(path: &str) -> &'static str {
    if path.contains("logs") {
        "logs"
    } else if path.contains("trace") {
        "traces"
    } else {
        "metrics"
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// An OTLP/gRPC endpoint on h2.
pub fn grpc(answer: Answer) -> Server {
    let rt = runtime();
    let received = Shared::default();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::clone(&received);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let (shared, answer) = (Arc::clone(&shared), answer.clone());
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(tcp).await else {
                    return;
                };
                let mut accepted = 0;
                while let Some(Ok((req, respond))) = conn.accept().await {
                    accepted += 1;
                    if accepted == 5 && matches!(answer, Answer::OkAndClose) {
                        // GOAWAY (as a server with a maximum connection age): the
                        // streams open by the final GOAWAY finish, later ones are
                        // not processed.
                        conn.graceful_shutdown();
                    }
                    let (shared, answer) = (Arc::clone(&shared), answer.clone());
                    tokio::spawn(grpc_stream(shared, answer, req, respond));
                }
            });
        }
    });
    Server {
        addr,
        received,
        _rt: rt,
    }
}

async fn grpc_stream(
    shared: Shared,
    answer: Answer,
    req: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    let (parts, mut body) = req.into_parts();
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("request data");
        let _ = body.flow_control().release_capacity(chunk.len());
        buf.extend_from_slice(&chunk);
    }
    if let Answer::Refuse { grpc, .. } = answer {
        let r = Response::builder()
            .status(200)
            .header("content-type", "application/grpc")
            .header("grpc-status", grpc.to_string())
            .body(())
            .unwrap();
        let _ = respond.send_response(r, true);
        return;
    }
    assert_eq!(header(&parts.headers, "content-type"), "application/grpc");
    assert_eq!(header(&parts.headers, "te"), "trailers");
    let encoding = header(&parts.headers, "grpc-encoding");
    assert!(buf.len() >= 5, "no length prefix");
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    assert_eq!(len, buf.len() - 5, "one message, whole");
    assert_eq!(
        buf[0] == 1,
        !encoding.is_empty(),
        "compressed flag and grpc-encoding agree"
    );
    let msg = decompress(&buf[5..], &encoding);
    ingest(&shared, signal_of(parts.uri.path()), &msg, false).expect("decodes");
    shared
        .lock()
        .unwrap()
        .content
        .push(("application/grpc".into(), encoding));

    let ok = Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    match answer {
        Answer::Ok | Answer::OkAndClose | Answer::HttpStatus { .. } | Answer::Refuse { .. } => {
            let mut send = respond.send_response(ok, false).unwrap();
            send.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), false)
                .unwrap();
            let mut t = HeaderMap::new();
            t.insert("grpc-status", HeaderValue::from_static("0"));
            send.send_trailers(t).unwrap();
        }
        Answer::GrpcStatus {
            code,
            message,
            trailers_only,
        } => {
            let mut encoded = String::new();
            wire::grpc::percent_encode_message(message, &mut encoded);
            let status = HeaderValue::from_str(&code.to_string()).unwrap();
            let message = HeaderValue::from_str(&encoded).unwrap();
            if trailers_only {
                let mut r = ok;
                r.headers_mut().insert("grpc-status", status);
                r.headers_mut().insert("grpc-message", message);
                respond.send_response(r, true).unwrap();
            } else {
                let mut send = respond.send_response(ok, false).unwrap();
                let mut t = HeaderMap::new();
                t.insert("grpc-status", status);
                t.insert("grpc-message", message);
                send.send_trailers(t).unwrap();
            }
        }
    }
}

/// An OTLP/HTTP endpoint (HTTP/1.1 and h2c).
pub fn http(answer: Answer) -> Server {
    let rt = runtime();
    let received = Shared::default();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::clone(&received);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let (shared, answer) = (Arc::clone(&shared), answer.clone());
            tokio::spawn(async move {
                // OkAndClose over h2c: GOAWAY (graceful) after the fifth request.
                let served = Arc::new(tokio::sync::Semaphore::new(0));
                let count = Arc::clone(&served);
                let close = matches!(answer, Answer::OkAndClose);
                let service = service_fn(move |req: Request<Incoming>| {
                    let (shared, answer) = (Arc::clone(&shared), answer.clone());
                    count.add_permits(1);
                    async move { Ok::<_, hyper::Error>(http_request(shared, answer, req).await) }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(tcp), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = served.acquire_many(5), if close => conn.as_mut().graceful_shutdown(),
                }
                let _ = conn.await;
            });
        }
    });
    Server {
        addr,
        received,
        _rt: rt,
    }
}

async fn http_request(
    shared: Shared,
    answer: Answer,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    if parts.version == http::Version::HTTP_11 {
        assert!(
            parts.uri.authority().is_none(),
            "origin form: {}",
            parts.uri
        );
        assert!(parts.headers.contains_key("host"));
    }
    let body = body.collect().await.expect("body").to_bytes();
    if let Answer::Refuse { http, .. } = answer {
        return Response::builder()
            .status(http)
            .body(Full::new(Bytes::new()))
            .unwrap();
    }
    let ctype = header(&parts.headers, "content-type");
    let encoding = header(&parts.headers, "content-encoding");
    let raw = decompress(&body, &encoding);
    ingest(
        &shared,
        signal_of(parts.uri.path()),
        &raw,
        ctype == "application/json",
    )
    .expect("decodes");
    shared
        .lock()
        .unwrap()
        .content
        .push((ctype.clone(), encoding));
    match answer {
        Answer::HttpStatus { status, message } => {
            // google.rpc.Status { code = 14 (field 1), message (field 2) }
            let mut b = vec![0x08, 14, 0x12, message.len() as u8];
            b.extend_from_slice(message.as_bytes());
            Response::builder()
                .status(status)
                .header("content-type", "application/x-protobuf")
                .body(Full::new(Bytes::from(b)))
                .unwrap()
        }
        Answer::OkAndClose => Response::builder()
            .status(200)
            .header("content-type", ctype)
            .header("connection", "close")
            .body(Full::new(Bytes::new()))
            .unwrap(),
        _ => Response::builder()
            .status(200)
            .header("content-type", ctype)
            .body(Full::new(Bytes::new()))
            .unwrap(),
    }
}

/// What the fake ClickHouse does to the stored rows.
#[derive(Clone, Debug, Default)]
pub struct Damage {
    pub drop: Vec<u64>,
    pub duplicate: Vec<u64>,
}

/// A fake ClickHouse answering `--verify`'s two queries from what `received` holds.
pub fn clickhouse(received: Shared, damage: Damage) -> Server {
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::clone(&received);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let (shared, damage) = (Arc::clone(&shared), damage.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let (shared, damage) = (Arc::clone(&shared), damage.clone());
                    async move {
                        let user = header(req.headers(), "x-clickhouse-user");
                        let sql = req.into_body().collect().await?.to_bytes();
                        let sql = String::from_utf8_lossy(&sql).into_owned();
                        Ok::<_, hyper::Error>(clickhouse_answer(&shared, &damage, &sql, &user))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Server {
        addr,
        received,
        _rt: rt,
    }
}

fn clickhouse_answer(
    shared: &Shared,
    damage: &Damage,
    sql: &str,
    user: &str,
) -> Response<Full<Bytes>> {
    if user != "tester" {
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Full::new(Bytes::from(
                "Code: 516. DB::Exception: Authentication failed",
            )))
            .unwrap();
    }
    let signal = if sql.contains("`otel_logs`") {
        "logs"
    } else if sql.contains("`otel_traces`") {
        "traces"
    } else {
        "metrics"
    };
    let r = shared.lock().unwrap();
    let run_ok = r
        .run_ids
        .iter()
        .any(|id| sql.contains(&format!("= '{id}'")));
    let mut rows: BTreeMap<u64, u64> = BTreeMap::new();
    if run_ok {
        for &s in r.seqs.get(signal).map_or(&[][..], |v| &v[..]) {
            if !damage.drop.contains(&s) {
                *rows.entry(s).or_insert(0) += 1 + u64::from(damage.duplicate.contains(&s));
            }
        }
    }
    let body = if sql.contains("GROUP BY") {
        rows.iter()
            .map(|(s, n)| format!("{s:016}\t{n}\n"))
            .collect::<String>()
    } else {
        format!("{}\n", rows.values().sum::<u64>())
    };
    Response::new(Full::new(Bytes::from(body)))
}
