//! The traces request's own messages: `Span`, `Span.Event`, `Span.Link`, `Status`
//! (rows written by `otlp::traces`' shared writers: events and links when their
//! objects close, the span when it closes), and the field names of
//! `ExportTraceServiceRequest`, `ResourceSpans` and `ScopeSpans` (`request` reads them).

use serde::de::MapAccess;

use crate::otlp::traces::{Event, Link, Span, finish_event, finish_link, finish_span};

use super::JsonErrorKind;
use super::any_value::{KeyValues, To};
use super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, fields, set};
use super::request::{Part, Signal};
use super::scalar::{IdSeed, NumberSeed, TextSeed};
use super::tape::{Mark, Text};

fields!(RequestField {
    ResourceSpans = "resourceSpans" | "resource_spans",
});
fields!(ResourceSpansField {
    Resource = "resource",
    ScopeSpans = "scopeSpans" | "scope_spans",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(ScopeSpansField {
    Scope = "scope",
    Spans = "spans",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(SpanField {
    TraceId = "traceId" | "trace_id",
    SpanId = "spanId" | "span_id",
    TraceState = "traceState" | "trace_state",
    ParentSpanId = "parentSpanId" | "parent_span_id",
    Flags = "flags",
    Name = "name",
    Kind = "kind",
    StartTime = "startTimeUnixNano" | "start_time_unix_nano",
    EndTime = "endTimeUnixNano" | "end_time_unix_nano",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    Events = "events",
    DroppedEventsCount = "droppedEventsCount" | "dropped_events_count",
    Links = "links",
    DroppedLinksCount = "droppedLinksCount" | "dropped_links_count",
    Status = "status",
});
fields!(EventField {
    Time = "timeUnixNano" | "time_unix_nano",
    Name = "name",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
});
fields!(LinkField {
    TraceId = "traceId" | "trace_id",
    SpanId = "spanId" | "span_id",
    TraceState = "traceState" | "trace_state",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    Flags = "flags",
});
fields!(StatusField {
    Message = "message",
    Code = "code",
});

/// `ExportTraceServiceRequest`.
pub(super) struct Traces;

impl Signal for Traces {
    type RequestField = RequestField;
    type ResourceField = ResourceSpansField;
    type ScopeField = ScopeSpansField;
    type Records = Spans;
    const REQUEST: &'static str = "an ExportTraceServiceRequest object";
    const RESOURCE_LIST: &'static str = "an array of ResourceSpans objects";
    const RESOURCE: &'static str = "a ResourceSpans object";
    const SCOPE_LIST: &'static str = "an array of ScopeSpans objects";
    const SCOPE: &'static str = "a ScopeSpans object";

    fn resource_part(field: ResourceSpansField) -> Part {
        match field {
            ResourceSpansField::Resource => Part::Own,
            ResourceSpansField::ScopeSpans => Part::Children,
            ResourceSpansField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn scope_part(field: ScopeSpansField) -> Part {
        match field {
            ScopeSpansField::Scope => Part::Own,
            ScopeSpansField::Spans => Part::Children,
            ScopeSpansField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn records(resource: usize, scope: usize) -> Spans {
        Spans { resource, scope }
    }
}

/// `spans` of a scope.
pub(super) struct Spans {
    resource: usize,
    scope: usize,
}

/// A `Span` being read: scalars decoded, strings borrowed or on the tape; its
/// attributes, events and links are pushed as they close. Its row is written when it
/// closes.
pub(super) struct SpanObj<'a> {
    mark: Mark,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent_span_id: [u8; 8],
    trace_state: Text<'a>,
    name: Text<'a>,
    kind: i32,
    start: u64,
    end: u64,
    status: Status<'a>,
}

impl<'a> Element<'a> for Spans {
    type Object = SpanObj<'a>;
    const WHAT: &'static str = "an array of Span objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> SpanObj<'a> {
        SpanObj {
            mark: ctx.tape.mark(),
            trace_id: [0; 16],
            span_id: [0; 8],
            parent_span_id: [0; 8],
            trace_state: Text::EMPTY,
            name: Text::EMPTY,
            kind: 0,
            start: 0,
            end: 0,
            status: Status {
                message: Text::EMPTY,
                code: 0,
            },
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, s: SpanObj<'a>) -> Result<(), JsonErrorKind> {
        let tape = &ctx.tape;
        let span = Span {
            trace_id: s.trace_id,
            span_id: s.span_id,
            parent_span_id: s.parent_span_id,
            trace_state: tape.text(s.trace_state),
            name: tape.text(s.name),
            kind: s.kind,
            start: s.start,
            end: s.end,
            status_code: s.status.code,
            status_message: tape.text(s.status.message),
            resource: self.resource,
            scope: self.scope,
        };
        finish_span(&mut ctx.out.traces().spans, &span);
        ctx.tape.truncate(s.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for SpanObj<'a> {
    type Field = SpanField;
    const WHAT: &'static str = "a Span object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: SpanField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            SpanField::TraceId => set(&mut self.trace_id, map.next_value_seed(IdSeed(ctx))?),
            SpanField::SpanId => set(&mut self.span_id, map.next_value_seed(IdSeed(ctx))?),
            SpanField::ParentSpanId => {
                set(&mut self.parent_span_id, map.next_value_seed(IdSeed(ctx))?)
            }
            SpanField::TraceState => {
                set(&mut self.trace_state, map.next_value_seed(TextSeed(ctx))?)
            }
            SpanField::Name => set(&mut self.name, map.next_value_seed(TextSeed(ctx))?),
            SpanField::Kind => set(
                &mut self.kind,
                map.next_value_seed(NumberSeed::span_kind(ctx))?,
            ),
            SpanField::StartTime => {
                set(&mut self.start, map.next_value_seed(NumberSeed::u64(ctx))?)
            }
            SpanField::EndTime => set(&mut self.end, map.next_value_seed(NumberSeed::u64(ctx))?),
            SpanField::Attributes => attributes(ctx, map, To::Span)?,
            SpanField::Events => map.next_value_seed(ListSeed { ctx, each: Events })?,
            SpanField::Links => map.next_value_seed(ListSeed { ctx, each: Links })?,
            // A status that occurs twice is merged, as protobuf merges it.
            SpanField::Status => {
                self.status = map.next_value_seed(ObjectSeed::new(ctx, self.status))?
            }
            // Read (so a bad one is refused, as pdata refuses it) and dropped.
            SpanField::Flags
            | SpanField::DroppedAttributesCount
            | SpanField::DroppedEventsCount
            | SpanField::DroppedLinksCount => {
                map.next_value_seed(NumberSeed::u32(ctx))?;
            }
        }
        Ok(())
    }
}

/// A list of `KeyValue`s that go straight into the span, event or link being read.
fn attributes<'a, A: MapAccess<'a>>(
    ctx: &mut Ctx<'a, '_>,
    map: &mut A,
    to: To,
) -> Result<(), A::Error> {
    map.next_value_seed(ListSeed {
        ctx,
        each: KeyValues { to, depth: 0 },
    })
}

/// `Status`: merged into the span's.
#[derive(Clone, Copy)]
struct Status<'a> {
    message: Text<'a>,
    code: i32,
}

impl<'a> Object<'a> for Status<'a> {
    type Field = StatusField;
    const WHAT: &'static str = "a Status object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: StatusField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            StatusField::Message => set(&mut self.message, map.next_value_seed(TextSeed(ctx))?),
            StatusField::Code => set(
                &mut self.code,
                map.next_value_seed(NumberSeed::status_code(ctx))?,
            ),
        }
        Ok(())
    }
}

/// `events` of a span.
struct Events;

/// A `Span.Event` being read; its row is written when it closes.
struct EventObj<'a> {
    mark: Mark,
    time: u64,
    name: Text<'a>,
}

impl<'a> Element<'a> for Events {
    type Object = EventObj<'a>;
    const WHAT: &'static str = "an array of Event objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> EventObj<'a> {
        EventObj {
            mark: ctx.tape.mark(),
            time: 0,
            name: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, e: EventObj<'a>) -> Result<(), JsonErrorKind> {
        let event = Event {
            time: e.time,
            name: ctx.tape.text(e.name),
        };
        finish_event(&mut ctx.out.traces().spans, &event);
        ctx.tape.truncate(e.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for EventObj<'a> {
    type Field = EventField;
    const WHAT: &'static str = "an Event object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: EventField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            EventField::Time => set(&mut self.time, map.next_value_seed(NumberSeed::u64(ctx))?),
            EventField::Name => set(&mut self.name, map.next_value_seed(TextSeed(ctx))?),
            EventField::Attributes => attributes(ctx, map, To::Event)?,
            EventField::DroppedAttributesCount => {
                map.next_value_seed(NumberSeed::u32(ctx))?;
            }
        }
        Ok(())
    }
}

/// `links` of a span.
struct Links;

/// A `Span.Link` being read; its row is written when it closes.
struct LinkObj<'a> {
    mark: Mark,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    trace_state: Text<'a>,
}

impl<'a> Element<'a> for Links {
    type Object = LinkObj<'a>;
    const WHAT: &'static str = "an array of Link objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> LinkObj<'a> {
        LinkObj {
            mark: ctx.tape.mark(),
            trace_id: [0; 16],
            span_id: [0; 8],
            trace_state: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, l: LinkObj<'a>) -> Result<(), JsonErrorKind> {
        let link = Link {
            trace_id: l.trace_id,
            span_id: l.span_id,
            trace_state: ctx.tape.text(l.trace_state),
        };
        finish_link(&mut ctx.out.traces().spans, &link);
        ctx.tape.truncate(l.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for LinkObj<'a> {
    type Field = LinkField;
    const WHAT: &'static str = "a Link object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: LinkField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            LinkField::TraceId => set(&mut self.trace_id, map.next_value_seed(IdSeed(ctx))?),
            LinkField::SpanId => set(&mut self.span_id, map.next_value_seed(IdSeed(ctx))?),
            LinkField::TraceState => {
                set(&mut self.trace_state, map.next_value_seed(TextSeed(ctx))?)
            }
            LinkField::Attributes => attributes(ctx, map, To::Link)?,
            LinkField::DroppedAttributesCount | LinkField::Flags => {
                map.next_value_seed(NumberSeed::u32(ctx))?;
            }
        }
        Ok(())
    }
}
