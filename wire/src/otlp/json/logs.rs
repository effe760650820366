//! The logs request's own messages: `LogRecord` (its row written, by the shared
//! [`write_record`], when its object closes), and the field names of
//! `ExportLogsServiceRequest`, `ResourceLogs` and `ScopeLogs` (`request` reads them).

use serde::de::MapAccess;

use crate::otlp::logs::{Record, write_record};

use super::JsonErrorKind;
use super::any_value::{KeyValues, To, value};
use super::read::{Ctx, Element, Field, ListSeed, Object, fields, set};
use super::request::{Part, Signal};
use super::scalar::{IdSeed, NumberSeed, TextSeed};
use super::tape::{Mark, Text};

fields!(RequestField {
    ResourceLogs = "resourceLogs" | "resource_logs",
});
fields!(ResourceLogsField {
    Resource = "resource",
    ScopeLogs = "scopeLogs" | "scope_logs",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(ScopeLogsField {
    Scope = "scope",
    LogRecords = "logRecords" | "log_records",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(LogRecordField {
    Time = "timeUnixNano" | "time_unix_nano",
    ObservedTime = "observedTimeUnixNano" | "observed_time_unix_nano",
    SeverityNumber = "severityNumber" | "severity_number",
    SeverityText = "severityText" | "severity_text",
    Body = "body",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    Flags = "flags",
    TraceId = "traceId" | "trace_id",
    SpanId = "spanId" | "span_id",
    EventName = "eventName" | "event_name",
});

/// `ExportLogsServiceRequest`.
pub(super) struct Logs;

impl Signal for Logs {
    type RequestField = RequestField;
    type ResourceField = ResourceLogsField;
    type ScopeField = ScopeLogsField;
    type Records = LogRecords;
    const REQUEST: &'static str = "an ExportLogsServiceRequest object";
    const RESOURCE_LIST: &'static str = "an array of ResourceLogs objects";
    const RESOURCE: &'static str = "a ResourceLogs object";
    const SCOPE_LIST: &'static str = "an array of ScopeLogs objects";
    const SCOPE: &'static str = "a ScopeLogs object";

    fn resource_part(field: ResourceLogsField) -> Part {
        match field {
            ResourceLogsField::Resource => Part::Own,
            ResourceLogsField::ScopeLogs => Part::Children,
            ResourceLogsField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn scope_part(field: ScopeLogsField) -> Part {
        match field {
            ScopeLogsField::Scope => Part::Own,
            ScopeLogsField::LogRecords => Part::Children,
            ScopeLogsField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn records(resource: usize, scope: usize) -> LogRecords {
        LogRecords { resource, scope }
    }
}

/// `logRecords` of a scope.
pub(super) struct LogRecords {
    resource: usize,
    scope: usize,
}

/// A `LogRecord` being read: scalars decoded, strings and values on the tape. Its row
/// is written when it closes, by the shared [`write_record`].
pub(super) struct LogRecord<'a> {
    mark: Mark,
    time: u64,
    observed: u64,
    severity_number: i32,
    severity_text: Text<'a>,
    body: Option<usize>,
    flags: u32,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    event_name: Text<'a>,
}

impl<'a> Element<'a> for LogRecords {
    type Object = LogRecord<'a>;
    const WHAT: &'static str = "an array of LogRecord objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> LogRecord<'a> {
        ctx.attrs.clear();
        LogRecord {
            mark: ctx.tape.mark(),
            time: 0,
            observed: 0,
            severity_number: 0,
            severity_text: Text::EMPTY,
            body: None,
            flags: 0,
            trace_id: [0; 16],
            span_id: [0; 8],
            event_name: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, r: LogRecord<'a>) -> Result<(), JsonErrorKind> {
        let tape = &ctx.tape;
        let rec = Record {
            time: r.time,
            observed: r.observed,
            severity_number: r.severity_number,
            severity_text: tape.text(r.severity_text),
            body: r.body.map(|at| tape.value(at)),
            flags: r.flags,
            trace_id: r.trace_id,
            span_id: r.span_id,
            event_name: tape.text(r.event_name),
            resource: self.resource,
            scope: self.scope,
        };
        let attrs = ctx
            .attrs
            .iter()
            .map(|&(key, at)| (tape.text(key), tape.value(at)));
        let (out, opts) = ctx.out.logs();
        let written = write_record(out, opts, &mut ctx.key, &rec, attrs);
        ctx.tape.truncate(r.mark);
        written
    }
}

impl<'a> Object<'a> for LogRecord<'a> {
    type Field = LogRecordField;
    const WHAT: &'static str = "a LogRecord object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: LogRecordField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            LogRecordField::Time => set(&mut self.time, map.next_value_seed(NumberSeed::u64(ctx))?),
            LogRecordField::ObservedTime => set(
                &mut self.observed,
                map.next_value_seed(NumberSeed::u64(ctx))?,
            ),
            LogRecordField::SeverityNumber => {
                set(
                    &mut self.severity_number,
                    map.next_value_seed(NumberSeed::severity(ctx))?,
                );
            }
            LogRecordField::SeverityText => {
                set(&mut self.severity_text, map.next_value_seed(TextSeed(ctx))?)
            }
            LogRecordField::Body => {
                if let Some(slot) = value(ctx, map, 0)? {
                    self.body = Some(slot);
                }
            }
            LogRecordField::Attributes => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Record,
                    depth: 0,
                },
            })?,
            // Read (so a bad one is refused, as pdata refuses it) and dropped.
            LogRecordField::DroppedAttributesCount => {
                map.next_value_seed(NumberSeed::u32(ctx))?;
            }
            LogRecordField::Flags => {
                set(&mut self.flags, map.next_value_seed(NumberSeed::u32(ctx))?)
            }
            LogRecordField::TraceId => set(&mut self.trace_id, map.next_value_seed(IdSeed(ctx))?),
            LogRecordField::SpanId => set(&mut self.span_id, map.next_value_seed(IdSeed(ctx))?),
            LogRecordField::EventName => {
                set(&mut self.event_name, map.next_value_seed(TextSeed(ctx))?)
            }
        }
        Ok(())
    }
}
