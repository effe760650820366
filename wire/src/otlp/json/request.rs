//! The messages of `ExportLogsServiceRequest` down to `LogRecord`: each resource,
//! scope and record row is written (through `otlp::logs`'s shared row writers) when its
//! object closes.

use serde::de::{DeserializeSeed, MapAccess};

use crate::otlp::logs::{Record, ResourceRow, ScopeRow, write_record};

use super::JsonErrorKind;
use super::any_value::{KeyValues, To, value};
use super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, fields, set};
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
fields!(ResourceField {
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
});
fields!(ScopeLogsField {
    Scope = "scope",
    LogRecords = "logRecords" | "log_records",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(ScopeField {
    Name = "name",
    Version = "version",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
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

/// Reads an `ExportLogsServiceRequest` from `de` into `ctx.out`.
pub(super) fn request<'a>(
    ctx: &mut Ctx<'a, '_>,
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>,
) -> Result<(), serde_json::Error> {
    ObjectSeed::new(ctx, Request).deserialize(de).map(drop)
}

/// `ExportLogsServiceRequest`.
struct Request;

impl<'a> Object<'a> for Request {
    type Field = RequestField;
    const WHAT: &'static str = "an ExportLogsServiceRequest object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: RequestField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            RequestField::ResourceLogs => map.next_value_seed(ListSeed {
                ctx,
                each: ResourceLogsList,
            }),
        }
    }
}

/// `resourceLogs`.
struct ResourceLogsList;

/// A `ResourceLogs`: its row is written when it closes (its records point at it by index).
struct ResourceLogs<'a> {
    index: usize,
    mark: Mark,
    schema_url: Text<'a>,
}

impl<'a> Element<'a> for ResourceLogsList {
    type Object = ResourceLogs<'a>;
    const WHAT: &'static str = "an array of ResourceLogs objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> ResourceLogs<'a> {
        ctx.service.clear();
        ctx.has_service = false;
        ResourceLogs {
            index: ResourceRow::start(ctx.out).index,
            mark: ctx.tape.mark(),
            schema_url: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, rl: ResourceLogs<'a>) -> Result<(), JsonErrorKind> {
        let row = ResourceRow {
            index: rl.index,
            service_name: ctx.has_service.then_some(ctx.service.as_str()),
            schema_url: ctx.tape.text(rl.schema_url),
        };
        row.finish(ctx.out);
        ctx.tape.truncate(rl.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for ResourceLogs<'a> {
    type Field = ResourceLogsField;
    const WHAT: &'static str = "a ResourceLogs object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ResourceLogsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceLogsField::Resource => {
                map.next_value_seed(ObjectSeed::new(ctx, Resource))?;
            }
            ResourceLogsField::ScopeLogs => map.next_value_seed(ListSeed {
                ctx,
                each: ScopeLogsList {
                    resource: self.index,
                },
            })?,
            ResourceLogsField::SchemaUrl => {
                if let Some(t) = map.next_value_seed(TextSeed(ctx))? {
                    self.schema_url = t;
                }
            }
        }
        Ok(())
    }
}

/// `Resource`: its attributes go straight into the resource row.
struct Resource;

impl<'a> Object<'a> for Resource {
    type Field = ResourceField;
    const WHAT: &'static str = "a Resource object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ResourceField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceField::Attributes => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Resource,
                    depth: 0,
                },
            }),
            ResourceField::DroppedAttributesCount => {
                map.next_value_seed(NumberSeed::u32(ctx)).map(drop)
            }
        }
    }
}

/// `scopeLogs` of the resource row `resource`.
struct ScopeLogsList {
    resource: usize,
}

/// A `ScopeLogs`: its row is written when it closes.
struct ScopeLogs<'a> {
    resource: usize,
    index: usize,
    mark: Mark,
    scope: Scope<'a>,
    schema_url: Text<'a>,
}

impl<'a> Element<'a> for ScopeLogsList {
    type Object = ScopeLogs<'a>;
    const WHAT: &'static str = "an array of ScopeLogs objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> ScopeLogs<'a> {
        ScopeLogs {
            resource: self.resource,
            index: ScopeRow::start(ctx.out).index,
            mark: ctx.tape.mark(),
            scope: Scope {
                name: Text::EMPTY,
                version: Text::EMPTY,
            },
            schema_url: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, sl: ScopeLogs<'a>) -> Result<(), JsonErrorKind> {
        let row = ScopeRow {
            index: sl.index,
            name: ctx.tape.text(sl.scope.name),
            version: ctx.tape.text(sl.scope.version),
            schema_url: ctx.tape.text(sl.schema_url),
        };
        row.finish(ctx.out);
        ctx.tape.truncate(sl.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for ScopeLogs<'a> {
    type Field = ScopeLogsField;
    const WHAT: &'static str = "a ScopeLogs object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ScopeLogsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeLogsField::Scope => {
                self.scope = map.next_value_seed(ObjectSeed::new(ctx, self.scope))?
            }
            ScopeLogsField::LogRecords => map.next_value_seed(ListSeed {
                ctx,
                each: LogRecords {
                    resource: self.resource,
                    scope: self.index,
                },
            })?,
            ScopeLogsField::SchemaUrl => {
                if let Some(t) = map.next_value_seed(TextSeed(ctx))? {
                    self.schema_url = t;
                }
            }
        }
        Ok(())
    }
}

/// `InstrumentationScope`: name and version for the scope row; attributes go straight
/// into it.
#[derive(Clone, Copy)]
struct Scope<'a> {
    name: Text<'a>,
    version: Text<'a>,
}

impl<'a> Object<'a> for Scope<'a> {
    type Field = ScopeField;
    const WHAT: &'static str = "an InstrumentationScope object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ScopeField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeField::Name => {
                if let Some(t) = map.next_value_seed(TextSeed(ctx))? {
                    self.name = t;
                }
            }
            ScopeField::Version => {
                if let Some(t) = map.next_value_seed(TextSeed(ctx))? {
                    self.version = t;
                }
            }
            ScopeField::Attributes => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Scope,
                    depth: 0,
                },
            })?,
            // Read (so a bad one is refused, as pdata refuses it) and dropped.
            ScopeField::DroppedAttributesCount => {
                map.next_value_seed(NumberSeed::u32(ctx))?;
            }
        }
        Ok(())
    }
}

/// `logRecords` of a scope.
struct LogRecords {
    resource: usize,
    scope: usize,
}

/// A `LogRecord` being read: scalars decoded, strings and values on the tape. Its row
/// is written when it closes, by the shared [`write_record`].
struct LogRecord<'a> {
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
        let written = write_record(ctx.out, ctx.opts, &mut ctx.key, &rec, attrs);
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
