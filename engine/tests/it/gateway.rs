//! A running `sluice` gateway, for the tests that send it OTLP.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::support::{clickhouse, drop_database, fresh_database};

/// A `sluice run` process with its own database; stopped (SIGTERM) when dropped.
pub struct Gateway {
    child: Child,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    /// Self-metrics (`/metrics`) and health check.
    pub metrics: SocketAddr,
    pub health: SocketAddr,
    pub database: String,
}

impl Gateway {
    /// Applies the schema to a fresh database and starts sluice on free ports.
    pub async fn start(purpose: &str) -> Gateway {
        Gateway::start_with(purpose, |_| String::new()).await
    }

    /// As [`start`](Gateway::start), running `prepare(database)` (SQL) after the schema.
    pub async fn start_with(purpose: &str, prepare: impl Fn(&str) -> String) -> Gateway {
        Gateway::start_env(purpose, prepare, &[]).await
    }

    /// As [`start_with`](Gateway::start_with), with more `SLUICE_…` settings.
    pub async fn start_env(
        purpose: &str,
        prepare: impl Fn(&str) -> String,
        env: &[(&str, &str)],
    ) -> Gateway {
        let database = fresh_database(purpose);
        let ch = clickhouse();
        let opts = engine::schema::SchemaOptions {
            database: database.clone(),
            ..Default::default()
        };
        engine::schema::apply(&ch, &opts)
            .await
            .expect("schema apply");
        let sql = prepare(&database);
        if !sql.is_empty() {
            ch.client()
                .query(&sql)
                .execute()
                .await
                .expect("prepare the database");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("run")
            .env("SLUICE_LISTEN_GRPC", "127.0.0.1:0")
            .env("SLUICE_TELEMETRY_METRICS", "127.0.0.1:0")
            .env("SLUICE_TELEMETRY_HEALTH", "127.0.0.1:0")
            .env("SLUICE_LISTEN_HTTP", "127.0.0.1:0")
            .env("SLUICE_CLICKHOUSE_URL", &ch.url)
            .env("SLUICE_CLICKHOUSE_DATABASE", &database)
            .env("SLUICE_SHARDS", "2")
            .env("SLUICE_BATCH_MAX_AGE_MS", "100")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sluice");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[sluice] {line}");
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("sluice: ready") => break line,
                Ok(_) => continue,
                Err(_) => panic!(
                    "sluice did not become ready (status {:?})",
                    child.try_wait()
                ),
            }
        };
        let addr = |key: &str| -> SocketAddr {
            let field = ready
                .split(' ')
                .find_map(|f| f.strip_prefix(key))
                .expect("address in the ready line");
            field.parse().unwrap()
        };
        Gateway {
            grpc: addr("grpc="),
            http: addr("http="),
            metrics: addr("metrics="),
            health: addr("health="),
            child,
            database,
        }
    }

    /// Applies the schema to the gateway's database again (tables dropped under it
    /// come back).
    pub async fn apply_schema(&self) {
        let opts = engine::schema::SchemaOptions {
            database: self.database.clone(),
            ..Default::default()
        };
        engine::schema::apply(&clickhouse(), &opts)
            .await
            .expect("schema apply");
    }

    /// A `SELECT` in the gateway's database, as `TabSeparatedRaw` rows split into fields.
    pub async fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let url = format!(
            "{}/?database={}&default_format=TabSeparatedRaw",
            clickhouse().url,
            self.database
        );
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let req = hyper::Request::post(url)
            .body(Full::new(Bytes::from(sql.to_owned())))
            .unwrap();
        let resp = client.request(req).await.expect("query ClickHouse");
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        assert!(status.is_success(), "{sql}: {text}");
        text.lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    }

    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("sluice exits");
        assert!(status.success(), "sluice stopped with {status}");
        drop_database(&clickhouse(), &self.database).await;
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // After `stop` this finds no process; after a failed test it cleans up.
        let _ = self.child.kill();
    }
}

/// The answer to a gRPC call: HTTP status, then `grpc-status` and `grpc-message`.
#[derive(Debug)]
pub struct GrpcAnswer {
    pub http: u16,
    pub status: Option<String>,
    pub message: String,
    /// Whether `grpc-status-details-bin` carries a `google.rpc.RetryInfo`.
    pub retry_info: bool,
}

/// A gRPC (h2c) client connection; clones share it (one stream per call).
#[derive(Clone)]
pub struct GrpcClient {
    send: h2::client::SendRequest<Bytes>,
}

impl GrpcClient {
    pub async fn connect(addr: SocketAddr) -> GrpcClient {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        GrpcClient { send }
    }

    /// One unary call; `body` is sent as is (callers frame it, or not).
    pub async fn call(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> GrpcAnswer {
        let mut req = http::Request::post(format!("http://sluice{path}"))
            .body(())
            .unwrap();
        let h = req.headers_mut();
        h.insert(
            "content-type",
            http::HeaderValue::from_static("application/grpc"),
        );
        h.insert("te", http::HeaderValue::from_static("trailers"));
        for (k, v) in headers {
            // A test's own header replaces the default.
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut send = self.send.clone().ready().await.unwrap();
        let (resp, mut stream) = send.send_request(req, false).unwrap();
        stream.send_data(Bytes::from(body), true).unwrap();
        let resp = resp.await.unwrap();
        let http = resp.status().as_u16();
        let header =
            |h: &http::HeaderMap, k: &str| h.get(k).map(|v| v.to_str().unwrap().to_owned());
        let (mut status, mut message) = (
            header(resp.headers(), "grpc-status"),
            header(resp.headers(), "grpc-message"),
        );
        let details = header(resp.headers(), "grpc-status-details-bin").unwrap_or_default();
        let retry_info = retry_info_in(&details);
        let mut body = resp.into_body();
        while let Some(chunk) = body.data().await {
            let n = chunk.unwrap().len();
            let _ = body.flow_control().release_capacity(n);
        }
        if let Some(trailers) = body.trailers().await.unwrap() {
            status = status.or(header(&trailers, "grpc-status"));
            message = message.or(header(&trailers, "grpc-message"));
        }
        GrpcAnswer {
            http,
            status,
            message: message.unwrap_or_default(),
            retry_info,
        }
    }
}

/// Whether a `grpc-status-details-bin` value (base64 `google.rpc.Status`, padded or
/// not) holds a `RetryInfo` detail; its type URL is enough to tell.
fn retry_info_in(b64: &str) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in b64.bytes().filter(|&c| c != b'=') {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            return false;
        };
        bits = bits << 6 | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
        }
    }
    bytes.windows(9).any(|w| w == b"RetryInfo")
}

/// Frames a message as gRPC does: compressed flag, u32 big-endian length, bytes.
pub fn grpc_frame(compressed: bool, msg: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::from(compressed)];
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// An HTTP/1.1 keep-alive connection.
pub struct HttpClient {
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

/// An HTTP answer: status, headers, body.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl HttpClient {
    pub async fn connect(addr: SocketAddr) -> HttpClient {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        HttpClient { send }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> HttpAnswer {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "sluice");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send
            .ready()
            .await
            .expect("the connection is still open");
        let resp = self
            .send
            .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        HttpAnswer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }
}
