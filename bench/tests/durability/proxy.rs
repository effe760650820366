//! A faulty TCP proxy between sluice and ClickHouse's HTTP interface, that breaks
//! INSERTs on command.
//!
//! It reads each HTTP/1.1 request whole (Content-Length or chunked), forwards it on
//! the client's own upstream connection and passes the answer back, unless a fault
//! is armed for the next INSERT (a request whose `query` starts with `INSERT`):
//!
//! | fault | what the client sees |
//! |---|---|
//! | [`Fault::CutMidBody`] | the connection closes after half the body went upstream: ClickHouse never gets the whole INSERT |
//! | [`Fault::CutBeforeAnswer`] | the whole INSERT went upstream and ClickHouse answered (it committed), but the connection closes before the answer is passed on |
//! | [`Fault::MemoryLimit`] | ClickHouse's own answer to an INSERT over its memory limit: `500`, `X-ClickHouse-Exception-Code: 241` (nothing goes upstream) |

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    CutMidBody,
    CutBeforeAnswer,
    MemoryLimit,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct Log {
    pub inserts: usize,
    /// Faults done, in order.
    pub done: Vec<Fault>,
}

#[derive(Debug, Default)]
struct State {
    /// Faults armed for the next INSERTs, first first.
    armed: Vec<Fault>,
    log: Log,
}

/// A running proxy; its runtime lives as long as it does.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let s = Arc::clone(&state);
        rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    let _ = serve(client, upstream, s).await;
                });
            }
        });
        Proxy {
            addr,
            state,
            _rt: rt,
        }
    }

    /// Arms `faults` for the next INSERTs, one each.
    pub fn arm(&self, faults: &[Fault]) {
        self.state.lock().unwrap().armed.extend_from_slice(faults);
    }

    /// Faults done so far, and INSERTs seen.
    pub fn done(&self) -> (Vec<Fault>, usize) {
        let s = self.state.lock().unwrap();
        (s.log.done.clone(), s.log.inserts)
    }
}

/// One HTTP/1.1 message: head (through the blank line) and body, as they came.
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Message {
    fn is_insert(&self) -> bool {
        let line = self.head.split(|&b| b == b'\r').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line).to_ascii_uppercase();
        line.contains("QUERY=INSERT")
    }

    fn bytes(&self) -> Vec<u8> {
        [self.head.as_slice(), self.body.as_slice()].concat()
    }
}

/// Reads one message; `None` at a clean end of stream.
async fn read_message<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head).await?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        if head.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let mut body = Vec::new();
    if let Some(len) = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.resize(len, 0);
        r.read_exact(&mut body).await?;
    } else if text.contains("transfer-encoding: chunked") {
        loop {
            let mut size_line = Vec::new();
            r.read_until(b'\n', &mut size_line).await?;
            body.extend_from_slice(&size_line);
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&size_line)
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("0"),
                16,
            )
            .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).await?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    }
    Ok(Some(Message { head, body }))
}

const MEMORY_LIMIT: &str = "Code: 241. DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB \
(attempt to allocate chunk of 4194304 bytes), maximum: 9.31 GiB. (MEMORY_LIMIT_EXCEEDED) (version 26.9.2.1)\n";

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let (cr, mut cw) = client.into_split();
    let mut cr = BufReader::new(cr);
    let up = TcpStream::connect(upstream).await?;
    let (ur, mut uw) = up.into_split();
    let mut ur = BufReader::new(ur);
    while let Some(req) = read_message(&mut cr).await? {
        let fault = if req.is_insert() {
            let mut s = state.lock().unwrap();
            s.log.inserts += 1;
            let f = (!s.armed.is_empty()).then(|| s.armed.remove(0));
            if let Some(f) = f {
                s.log.done.push(f);
            }
            f
        } else {
            None
        };
        match fault {
            Some(Fault::CutMidBody) => {
                uw.write_all(&req.head).await?;
                uw.write_all(&req.body[..req.body.len() / 2]).await?;
                uw.flush().await?;
                // Both connections go: ClickHouse sees a body cut short.
                return Ok(());
            }
            Some(Fault::CutBeforeAnswer) => {
                uw.write_all(&req.bytes()).await?;
                // Wait for ClickHouse's answer (the INSERT is done), then hang up.
                let _ = read_message(&mut ur).await?;
                return Ok(());
            }
            Some(Fault::MemoryLimit) => {
                let answer = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=UTF-8\r\n\
                     X-ClickHouse-Exception-Code: 241\r\nContent-Length: {}\r\nConnection: Keep-Alive\r\n\r\n{MEMORY_LIMIT}",
                    MEMORY_LIMIT.len()
                );
                cw.write_all(answer.as_bytes()).await?;
            }
            None => {
                uw.write_all(&req.bytes()).await?;
                let Some(answer) = read_message(&mut ur).await? else {
                    return Ok(());
                };
                cw.write_all(&answer.bytes()).await?;
            }
        }
    }
    Ok(())
}
