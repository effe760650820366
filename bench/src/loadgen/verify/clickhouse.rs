//! The ClickHouse side of `--verify`: two queries over the HTTP interface (a plain
//! `POST` of SQL, `FORMAT TSV`, credentials in `X-ClickHouse-User` /
//! `X-ClickHouse-Key`), polled until the acknowledged rows are there or
//! `--verify-timeout` passes.
//!
//! | signal | table | sequence number | run id |
//! |---|---|---|---|
//! | logs | `otel_logs` | `LogAttributes['loadgen.seq']` | `ResourceAttributes['loadgen.run_id']` |
//! | traces | `otel_traces` | `SpanAttributes['loadgen.seq']` | `ResourceAttributes['loadgen.run_id']` |
//! | metrics | `otel_metrics_sum` (loadgen sends only sums with `--verify`) | `Attributes['loadgen.seq']` | `ResourceAttributes['loadgen.run_id']` |
//!
//! The run id and database are checked to be plain identifiers when the command line
//! is read, so they are written into the SQL as they are.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{AckedSet, Findings, compare};
use crate::generate::{RUN_ID_KEY, SEQ_KEY};
use crate::loadgen::cli::{Signal, VerifyConfig};
use crate::loadgen::pool::parse_digits;

/// Pause between polls.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("ClickHouse at {authority}: {message}")]
    Connect { authority: String, message: String },
    #[error("ClickHouse answered {status}: {body}")]
    Query { status: StatusCode, body: String },
    #[error("ClickHouse's answer to {sql:?} is not a count: {body:?}")]
    Answer { sql: String, body: String },
}

/// Where the run's rows of `signal` are.
pub fn table(signal: Signal) -> (&'static str, &'static str) {
    match signal {
        Signal::Logs => ("otel_logs", "LogAttributes"),
        Signal::Traces => ("otel_traces", "SpanAttributes"),
        Signal::Metrics => ("otel_metrics_sum", "Attributes"),
    }
}

fn run_filter(database: &str, signal: Signal, run_id: &str) -> String {
    let (table, _) = table(signal);
    format!("FROM `{database}`.`{table}` WHERE ResourceAttributes['{RUN_ID_KEY}'] = '{run_id}'")
}

/// Rows of the run.
pub fn count_sql(database: &str, signal: Signal, run_id: &str) -> String {
    format!(
        "SELECT count() {} FORMAT TSV",
        run_filter(database, signal, run_id)
    )
}

/// Each sequence number of the run and how many rows carry it.
pub fn seqs_sql(database: &str, signal: Signal, run_id: &str) -> String {
    let (_, attrs) = table(signal);
    format!(
        "SELECT {attrs}['{SEQ_KEY}'] AS seq, count() {} GROUP BY seq FORMAT TSV",
        run_filter(database, signal, run_id)
    )
}

/// `seq\tcount` lines → `(seq, rows)` pairs, and the rows whose seq is not a number.
pub fn parse_seqs(tsv: &[u8]) -> (Vec<(u64, u64)>, u64) {
    let mut out = Vec::new();
    let mut malformed = 0;
    for line in tsv.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut cols = line.splitn(2, |&b| b == b'\t');
        let (seq, rows) = (
            cols.next().unwrap_or(b""),
            cols.next().and_then(parse_digits),
        );
        match (parse_digits(seq), rows) {
            (Some(seq), Some(rows)) => out.push((seq, rows)),
            (None, Some(rows)) => malformed += rows,
            (_, None) => malformed += 1,
        }
    }
    (out, malformed)
}

/// A ClickHouse HTTP endpoint.
#[derive(Debug)]
pub struct ClickHouse<'a> {
    cfg: &'a VerifyConfig,
    authority: String,
}

impl<'a> ClickHouse<'a> {
    pub fn new(cfg: &'a VerifyConfig) -> ClickHouse<'a> {
        let authority = cfg.clickhouse.authority().map_or_else(
            || "127.0.0.1:8123".to_string(),
            |a| match a.port_u16() {
                Some(_) => a.to_string(),
                None => format!("{}:80", a.host()),
            },
        );
        ClickHouse { cfg, authority }
    }

    /// Runs one statement and returns the answer's body.
    pub async fn query(&self, sql: &str) -> Result<Bytes, VerifyError> {
        let connect = |message: String| VerifyError::Connect {
            authority: self.authority.clone(),
            message,
        };
        let tcp = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| connect(e.to_string()))?;
        let (mut send, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| connect(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let path = self
            .cfg
            .clickhouse
            .path_and_query()
            .map_or("/", |p| p.as_str());
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(http::header::HOST, self.authority.as_str())
            .header("X-ClickHouse-User", self.cfg.user.as_str())
            .header("X-ClickHouse-Key", self.cfg.password.as_str())
            .body(Full::new(Bytes::copy_from_slice(sql.as_bytes())))
            .map_err(|e| connect(e.to_string()))?;
        let response = send
            .send_request(req)
            .await
            .map_err(|e| connect(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| connect(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(VerifyError::Query {
                status,
                body: String::from_utf8_lossy(&body).trim().to_string(),
            });
        }
        Ok(body)
    }

    async fn count(&self, signal: Signal) -> Result<u64, VerifyError> {
        let sql = count_sql(&self.cfg.database, signal, &self.cfg.run_id);
        let body = self.query(&sql).await?;
        parse_digits(body.trim_ascii()).ok_or_else(|| VerifyError::Answer {
            sql,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Waits (until `deadline`) for at least the acknowledged number of rows, then
    /// compares until nothing is missing or the deadline passes.
    pub async fn check(
        &self,
        signal: Signal,
        acked: &AckedSet,
        deadline: Instant,
    ) -> Result<Findings, VerifyError> {
        while self.count(signal).await? < acked.len() && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        loop {
            let body = self
                .query(&seqs_sql(&self.cfg.database, signal, &self.cfg.run_id))
                .await?;
            let (stored, malformed) = parse_seqs(&body);
            let findings = compare(acked, stored, malformed);
            if findings.missing == 0 || Instant::now() >= deadline {
                return Ok(findings);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        assert_eq!(
            seqs_sql("otel", Signal::Logs, "r1"),
            "SELECT LogAttributes['loadgen.seq'] AS seq, count() FROM `otel`.`otel_logs` \
             WHERE ResourceAttributes['loadgen.run_id'] = 'r1' GROUP BY seq FORMAT TSV"
        );
        assert!(seqs_sql("d", Signal::Traces, "r").contains("SpanAttributes['loadgen.seq']"));
        assert!(
            count_sql("d", Signal::Metrics, "r")
                .starts_with("SELECT count() FROM `d`.`otel_metrics_sum`")
        );
    }

    #[test]
    fn tsv_answers() {
        let (seqs, malformed) = parse_seqs(b"0000000000000003\t1\n7\t2\n\t4\nabc\t1\n");
        assert_eq!(seqs, vec![(3, 1), (7, 2)]);
        assert_eq!(malformed, 5);
        assert_eq!(parse_seqs(b""), (Vec::new(), 0));
    }
}
