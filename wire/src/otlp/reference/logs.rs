//! `ExportLogsServiceRequest` → `otel_logs` rows (and their resources and scopes),
//! with ClickStack processing off ([`raw`]): the raw field mapping of the `logs`
//! module doc.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::{
    Got, Row, Want, check_row, ensure, go_as_string, go_map, got_map, got_str, id, same_len,
    service_name, text_cell,
};
use crate::columns::logs::LogsBatch;
use crate::otlp::logs::LogsOptions;

/// ClickStack processing off: the options the mapping is written for.
pub(crate) fn raw() -> LogsOptions {
    LogsOptions {
        route_sessions: false,
        json_body: false,
        severity_from_attributes: false,
        severity_from_body: false,
        lowercase_severity: false,
    }
}

// ---- the reference mapping ----

/// Where a request's rows start in a batch: the batch's table sizes before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Base {
    pub(crate) resources: usize,
    pub(crate) scopes: usize,
    pub(crate) logs: usize,
}

impl Base {
    pub(crate) fn of(b: &LogsBatch) -> Base {
        Base {
            resources: b.resources.service_name.len(),
            scopes: b.scopes.name.len(),
            logs: b.logs.len(),
        }
    }
}

/// The rows one request must add to a batch at `base`.
pub(crate) struct Expected {
    pub(crate) base: Base,
    pub(crate) resources: Vec<Row<Want>>,
    pub(crate) scopes: Vec<Row<Want>>,
    pub(crate) logs: Vec<Row<Want>>,
}

pub(crate) fn expected(req: &ExportLogsServiceRequest, base: Base) -> Expected {
    let mut e = Expected {
        base,
        resources: Vec::new(),
        scopes: Vec::new(),
        logs: Vec::new(),
    };
    for rl in &req.resource_logs {
        let resource = want_resource(rl);
        let resource_row = base.resources + e.resources.len();
        for sl in &rl.scope_logs {
            let scope = want_scope(sl);
            let scope_row = base.scopes + e.scopes.len();
            for r in &sl.log_records {
                let mut row = want_record(r);
                row.push(("(resource row)", Want::Num(resource_row as u64)));
                row.push(("(scope row)", Want::Num(scope_row as u64)));
                row.extend(want_resource(rl));
                row.extend(want_scope(sl));
                e.logs.push(row);
            }
            e.scopes.push(scope);
        }
        e.resources.push(resource);
    }
    e
}

/// The `otel_logs` columns of one record, before the resource and scope ones.
fn want_record(r: &LogRecord) -> Row<Want> {
    let timestamp = if r.time_unix_nano != 0 {
        r.time_unix_nano
    } else {
        r.observed_time_unix_nano
    };
    vec![
        ("Timestamp", Want::Num(timestamp)),
        ("TraceId", id(&r.trace_id, 16)),
        ("SpanId", id(&r.span_id, 8)),
        ("TraceFlags", Want::Num(u64::from(r.flags & 0xff))),
        ("SeverityText", text_cell(&r.severity_text)),
        // Go's `uint8(SeverityNumber)` keeps the low byte.
        (
            "SeverityNumber",
            Want::Num(u64::from(r.severity_number as u8)),
        ),
        ("Body", Want::Str(go_as_string(r.body.as_ref()))),
        ("LogAttributes", go_map(&r.attributes)),
        ("EventName", text_cell(&r.event_name)),
    ]
}

fn want_resource(rl: &ResourceLogs) -> Row<Want> {
    let attrs = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes);
    vec![
        ("ServiceName", text_cell(service_name(attrs))),
        ("ResourceSchemaUrl", text_cell(&rl.schema_url)),
        ("ResourceAttributes", go_map(attrs)),
    ]
}

fn want_scope(sl: &ScopeLogs) -> Row<Want> {
    let default = InstrumentationScope::default();
    let scope = sl.scope.as_ref().unwrap_or(&default);
    vec![
        ("ScopeName", text_cell(&scope.name)),
        ("ScopeVersion", text_cell(&scope.version)),
        ("ScopeSchemaUrl", text_cell(&sl.schema_url)),
        ("ScopeAttributes", go_map(&scope.attributes)),
    ]
}

// ---- what the decoder wrote ----

fn got_resource(b: &LogsBatch, i: usize) -> Row<Got> {
    let r = &b.resources;
    vec![
        ("ServiceName", got_str(&r.service_name, i)),
        ("ResourceSchemaUrl", got_str(&r.schema_url, i)),
        ("ResourceAttributes", got_map(&r.attributes, i)),
    ]
}

fn got_scope(b: &LogsBatch, i: usize) -> Row<Got> {
    let s = &b.scopes;
    vec![
        ("ScopeName", got_str(&s.name, i)),
        ("ScopeVersion", got_str(&s.version, i)),
        ("ScopeSchemaUrl", got_str(&s.schema_url, i)),
        ("ScopeAttributes", got_map(&s.attributes, i)),
    ]
}

/// An `otel_logs` row, its resource and scope columns looked up through
/// `LogRows::resource` / `LogRows::scope`.
fn got_log(b: &LogsBatch, i: usize) -> Row<Got> {
    let l = &b.logs;
    let mut row = vec![
        ("Timestamp", Got::Num(l.timestamp[i])),
        ("TraceId", Got::Bytes(l.trace_id[i].to_vec())),
        ("SpanId", Got::Bytes(l.span_id[i].to_vec())),
        ("TraceFlags", Got::Num(u64::from(l.trace_flags[i]))),
        ("SeverityText", got_str(&l.severity_text, i)),
        ("SeverityNumber", Got::Num(u64::from(l.severity_number[i]))),
        ("Body", got_str(&l.body, i)),
        ("LogAttributes", got_map(&l.attributes, i)),
        ("EventName", got_str(&l.event_name, i)),
        ("(resource row)", Got::Num(l.resource[i] as u64)),
        ("(scope row)", Got::Num(l.scope[i] as u64)),
    ];
    row.extend(got_resource(b, l.resource[i]));
    row.extend(got_scope(b, l.scope[i]));
    row
}

// ---- comparing ----

/// Reads one row of a table of the batch.
type GotRow = fn(&LogsBatch, usize) -> Row<Got>;

/// Every column of every row `want` expects, against the batch.
pub(crate) fn check(b: &LogsBatch, want: &Expected) -> Result<(), String> {
    let (from, now) = (want.base, Base::of(b));
    let tables = [
        (
            "resources",
            &want.resources,
            from.resources,
            now.resources,
            got_resource as GotRow,
        ),
        ("scopes", &want.scopes, from.scopes, now.scopes, got_scope),
        ("otel_logs", &want.logs, from.logs, now.logs, got_log),
    ];
    for (table, rows, first, len, got) in tables {
        ensure!(
            first + rows.len() <= len,
            "{table}: {len} rows, expected at least {}",
            first + rows.len()
        );
        for (n, want) in rows.iter().enumerate() {
            check_row(table, first + n, want, &got(b, first + n))?;
        }
    }
    Ok(())
}

/// The batch's columns agree with each other: every table's columns have the same
/// length, no map row is half built, and every row's resource and scope exist.
pub(crate) fn consistent(b: &LogsBatch) -> Result<(), String> {
    let r = &b.resources;
    let resources = r.service_name.len();
    same_len(
        "resources",
        resources,
        &[r.schema_url.len(), r.attributes.len()],
    )?;
    ensure!(
        r.attributes.pending() == 0,
        "a resource map row is half built"
    );
    let s = &b.scopes;
    let scopes = s.name.len();
    let lens = [s.version.len(), s.schema_url.len(), s.attributes.len()];
    same_len("scopes", scopes, &lens)?;
    ensure!(s.attributes.pending() == 0, "a scope map row is half built");
    for rows in [&b.logs, &b.sessions] {
        let lens = [
            rows.trace_id.len(),
            rows.span_id.len(),
            rows.trace_flags.len(),
            rows.severity_text.len(),
            rows.severity_number.len(),
            rows.body.len(),
            rows.attributes.len(),
            rows.event_name.len(),
            rows.resource.len(),
            rows.scope.len(),
        ];
        same_len("log rows", rows.len(), &lens)?;
        ensure!(
            rows.attributes.pending() == 0,
            "a log map row is half built"
        );
        ensure!(
            rows.resource.iter().all(|&i| i < resources),
            "a log row's resource is missing"
        );
        ensure!(
            rows.scope.iter().all(|&i| i < scopes),
            "a log row's scope is missing"
        );
    }
    Ok(())
}
