//! `sluice-discard` as `scripts/bench` runs it: an INSERT is read and dropped (200, and
//! the upstream never sees it); anything else goes to the upstream — here a fake
//! ClickHouse that notes what it got — and its answer comes back unchanged; the counts
//! add up; SIGTERM ends it with exit 0. Requests are spelled out as HTTP/1.1 bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One request as the fake upstream got it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    user: String,
    body: Vec<u8>,
}

/// A fake ClickHouse: notes every request, answers 404 with exception code 60 (as
/// ClickHouse does for an unknown table) and a body naming the request's size.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _rt: tokio::runtime::Runtime,
}

fn upstream() -> Upstream {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let log = Arc::clone(&log);
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await?.to_bytes().to_vec();
                        let answer = format!("Code: 60. DB::Exception: {} bytes\n", body.len());
                        log.lock().unwrap().push(Seen {
                            method: parts.method.to_string(),
                            uri: parts.uri.to_string(),
                            user: parts
                                .headers
                                .get("x-clickhouse-user")
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default(),
                            body,
                        });
                        Ok::<_, hyper::Error>(
                            Response::builder()
                                .status(StatusCode::NOT_FOUND)
                                .header("X-ClickHouse-Exception-Code", "60")
                                .body(Full::new(Bytes::from(answer)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Upstream {
        addr,
        seen,
        _rt: rt,
    }
}

/// Starts `sluice-discard` in front of `upstream` and reads its ready line.
fn discard(upstream: SocketAddr) -> (Child, SocketAddr, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice-discard"))
        .args(["--upstream", &format!("http://{upstream}")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("sluice-discard starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .strip_prefix("sluice-discard: ready url=http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("not a ready line: {line:?}"));
    (child, url.parse().unwrap(), stderr)
}

/// Sends one request (`head` without the blank line) and returns the whole answer.
fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{head}\r\nHost: ch\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(body).unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    answer
}

fn body_of(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn discard_drops_inserts_and_forwards_the_rest() {
    let up = upstream();
    let (mut child, addr, mut stderr) = discard(up.addr);

    // What sluice's inserter sends: the statement in `query`, LZ4 blocks in the body.
    let insert = "POST /?query=INSERT%20INTO%20%60default%60.%60otel_logs%60%20%28%60Body%60%29%20FORMAT%20RowBinary&insert_deduplication_token=sluice-otel_logs-1-1&decompress=1 HTTP/1.1\r\nX-ClickHouse-User: default";
    let rows = vec![0x82u8; 300_000];
    let answer = exchange(addr, insert, &rows);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("x-clickhouse-exception-code")
    );
    assert_eq!(body_of(&answer), "");
    assert!(up.seen.lock().unwrap().is_empty(), "the INSERT was dropped");

    // A query (the clickhouse crate's way: the statement in the body) is forwarded,
    // and the upstream's answer — an error here — comes back as it was.
    let select = "POST /?database=default&default_format=RowBinaryWithNamesAndTypes HTTP/1.1\r\nX-ClickHouse-User: default";
    let sql = b"SELECT name, default_kind FROM system.columns WHERE table = 'otel_logs'";
    let answer = exchange(addr, select, sql);
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-clickhouse-exception-code: 60\r\n"),
        "{answer}"
    );
    assert_eq!(
        body_of(&answer),
        format!("Code: 60. DB::Exception: {} bytes\n", sql.len())
    );
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].uri,
        "/?database=default&default_format=RowBinaryWithNamesAndTypes"
    );
    assert_eq!(seen[0].user, "default");
    assert_eq!(seen[0].body, sql);

    let stats = exchange(addr, "GET /sluice-discard/stats HTTP/1.1", b"");
    assert_eq!(
        body_of(&stats),
        r#"{"inserts":1,"insert_bytes":300000,"forwarded":1}"#
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success(), "exit 0 on SIGTERM");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains(
            r#"sluice-discard: stopped {"inserts":1,"insert_bytes":300000,"forwarded":1}"#
        ),
        "{rest}"
    );
}

#[test]
fn an_unreachable_upstream_is_a_clickhouse_network_error() {
    // A port nothing listens on: bind, note it, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (mut child, addr, _stderr) = discard(closed);
    let answer = exchange(addr, "GET /ping HTTP/1.1", b"");
    assert!(
        answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{answer}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-clickhouse-exception-code: 210\r\n"),
        "{answer}"
    );
    assert!(body_of(&answer).starts_with("Code: 210. DB::Exception: sluice-discard: upstream"));
    child.kill().unwrap();
    let _ = child.wait();
}
