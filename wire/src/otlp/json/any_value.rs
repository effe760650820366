//! `KeyValue` and `AnyValue` messages, read onto the tape (or, for resource and scope
//! attributes, straight into their row).

use serde::de::MapAccess;

use crate::otlp::common::{ResourceRow, ScopeRow, service_name};
use crate::otlp::metrics::{Kind, attribute, exemplar_attribute};
use crate::otlp::traces::{event_attribute, link_attribute, span_attribute};
use crate::otlp::value::MAX_DEPTH;

use super::JsonErrorKind;
use super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, fields, set};
use super::scalar::{Base64Seed, BoolSeed, NumberSeed, TextSeed};
use super::tape::{Mark, Node, Text};

fields!(KeyValueField {
    Key = "key",
    Value = "value",
});
fields!(AnyValueField {
    String = "stringValue" | "string_value",
    Bool = "boolValue" | "bool_value",
    Int = "intValue" | "int_value",
    Double = "doubleValue" | "double_value",
    Bytes = "bytesValue" | "bytes_value",
    Array = "arrayValue" | "array_value",
    Kvlist = "kvlistValue" | "kvlist_value",
});
fields!(ValuesField {
    Values = "values",
});

/// Reads an `AnyValue` field (a body, a `KeyValue`'s value) at `depth` into a new slot
/// at the tape's end: the slot, or `None` (and no trace on the tape) if it sets no
/// oneof field, which leaves an earlier value of the same field in place.
pub(super) fn value<'a, A: MapAccess<'a>>(
    ctx: &mut Ctx<'a, '_>,
    map: &mut A,
    depth: u32,
) -> Result<Option<usize>, A::Error> {
    let slot = ctx.tape.push(Node::Empty);
    let read = map.next_value_seed(ObjectSeed::new(
        &mut *ctx,
        AnyValue {
            slot,
            depth,
            set: false,
        },
    ))?;
    if read.set {
        return Ok(Some(slot));
    }
    ctx.tape.truncate_nodes(slot);
    Ok(None)
}

/// Where the `KeyValue`s of a list go.
#[derive(Clone, Copy, Debug)]
pub(super) enum To {
    /// Straight into the resource row being built.
    Resource,
    /// Straight into the scope row being built.
    Scope,
    /// Into the record's attribute list (written with the record).
    Record,
    /// Straight into the span being read (`SpanAttributes`).
    Span,
    /// Straight into the span event being read.
    Event,
    /// Straight into the span link being read.
    Link,
    /// Straight into the data point being read, in the table of its kind.
    Point(Kind),
    /// Straight into the exemplar being read, of a point of that kind
    /// (`filteredAttributes`).
    Exemplar(Kind),
    /// Nowhere: read (so a bad one is refused) and dropped (`Metric.metadata`).
    Dropped,
    /// Into the kvlist being read: an [`Node::Entry`] each.
    Kvlist,
}

/// A list of `KeyValue`s whose values sit at `depth`.
pub(super) struct KeyValues {
    pub to: To,
    pub depth: u32,
}

/// A `KeyValue` being read.
pub(super) struct KeyValue<'a> {
    key: Text<'a>,
    value: Option<usize>,
    depth: u32,
    /// The tape before it: the kvlist entry's node, or where to truncate back to.
    mark: Mark,
    entry: usize,
}

impl<'a> Element<'a> for KeyValues {
    type Object = KeyValue<'a>;
    const WHAT: &'static str = "an array of KeyValue objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> KeyValue<'a> {
        let mark = ctx.tape.mark();
        let entry = match self.to {
            To::Kvlist => ctx.tape.push(Node::Entry {
                key: Text::EMPTY,
                value: 0,
                end: 0,
            }),
            _ => ctx.tape.len(),
        };
        KeyValue {
            key: Text::EMPTY,
            value: None,
            depth: self.depth,
            mark,
            entry,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, kv: KeyValue<'a>) -> Result<(), JsonErrorKind> {
        // A `KeyValue` without a value holds an empty one.
        let value = match kv.value {
            Some(at) => at,
            None => ctx.tape.push(Node::Empty),
        };
        match self.to {
            To::Resource => {
                let (key, value) = (ctx.tape.text(kv.key), ctx.tape.value(value));
                ResourceRow::push_attribute(ctx.out.resources(), key, &value)?;
                if !ctx.has_service
                    && let Some(name) = service_name(key, &value)
                {
                    ctx.service.push_str(name);
                    ctx.has_service = true;
                }
                ctx.tape.truncate(kv.mark);
            }
            To::Scope => {
                let (key, value) = (ctx.tape.text(kv.key), ctx.tape.value(value));
                ScopeRow::attribute(ctx.out.scopes(), key, &value)?;
                ctx.tape.truncate(kv.mark);
            }
            To::Span | To::Event | To::Link => {
                let (key, value) = (ctx.tape.text(kv.key), ctx.tape.value(value));
                let spans = &mut ctx.out.traces().spans;
                match self.to {
                    To::Span => span_attribute(spans, key, &value)?,
                    To::Event => event_attribute(spans, key, &value)?,
                    _ => link_attribute(spans, key, &value)?,
                }
                ctx.tape.truncate(kv.mark);
            }
            To::Point(kind) | To::Exemplar(kind) => {
                let (key, value) = (ctx.tape.text(kv.key), ctx.tape.value(value));
                let out = ctx.out.metrics();
                match self.to {
                    To::Point(_) => attribute(kind.attributes(out), key, &value)?,
                    _ => exemplar_attribute(kind.exemplars(out), key, &value)?,
                }
                ctx.tape.truncate(kv.mark);
            }
            To::Dropped => ctx.tape.truncate(kv.mark),
            To::Record => ctx.attrs.push((kv.key, value)),
            To::Kvlist => {
                let end = ctx.tape.len();
                ctx.tape.set(
                    kv.entry,
                    Node::Entry {
                        key: kv.key,
                        value,
                        end,
                    },
                );
            }
        }
        Ok(())
    }
}

impl<'a> Object<'a> for KeyValue<'a> {
    type Field = KeyValueField;
    const WHAT: &'static str = "a KeyValue object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: KeyValueField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            KeyValueField::Key => set(&mut self.key, map.next_value_seed(TextSeed(ctx))?),
            KeyValueField::Value => {
                if let Some(slot) = value(ctx, map, self.depth)? {
                    self.value = Some(slot);
                }
            }
        }
        Ok(())
    }
}

/// An `AnyValue` being read into tape node `slot`, at `depth` (a body or attribute
/// value is at 0; the members of an array or kvlist at `depth` are at `depth + 1`).
struct AnyValue {
    slot: usize,
    depth: u32,
    /// A oneof field was set.
    set: bool,
}

impl<'a> Object<'a> for AnyValue {
    type Field = AnyValueField;
    const WHAT: &'static str = "an AnyValue object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: AnyValueField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let node = match field {
            AnyValueField::String => map.next_value_seed(TextSeed(ctx))?.map(Node::Str),
            AnyValueField::Bool => map.next_value_seed(BoolSeed)?.map(Node::Bool),
            AnyValueField::Int => map.next_value_seed(NumberSeed::i64(ctx))?.map(Node::Int),
            AnyValueField::Double => map.next_value_seed(NumberSeed::f64(ctx))?.map(Node::Double),
            AnyValueField::Bytes => map
                .next_value_seed(Base64Seed(ctx))?
                .map(|(start, end)| Node::Bytes { start, end }),
            AnyValueField::Array | AnyValueField::Kvlist => {
                let kvlist = matches!(field, AnyValueField::Kvlist);
                let container = Container {
                    slot: self.slot,
                    depth: self.depth,
                    kvlist,
                    present: false,
                };
                let read = map.next_value_seed(ObjectSeed::new(&mut *ctx, container))?;
                if read.present {
                    let end = ctx.tape.len();
                    let node = if kvlist {
                        Node::Kvlist { end }
                    } else {
                        Node::Array { end }
                    };
                    ctx.tape.set(self.slot, node);
                    self.set = true;
                }
                return Ok(());
            }
        };
        if let Some(node) = node {
            // The oneof's last field wins: drop what an earlier array or kvlist left.
            ctx.tape.truncate_nodes(self.slot + 1);
            ctx.tape.set(self.slot, node);
            self.set = true;
        }
        Ok(())
    }
}

/// An `ArrayValue` or `KeyValueList` whose members follow node `slot` on the tape.
struct Container {
    slot: usize,
    depth: u32,
    kvlist: bool,
    /// It was there (not `null`).
    present: bool,
}

impl<'a> Object<'a> for Container {
    type Field = ValuesField;
    const WHAT: &'static str = "an object with \"values\"";

    fn begin(&mut self, ctx: &mut Ctx<'a, '_>) -> Result<(), JsonErrorKind> {
        // As `otlp::value` walks it: a container at `MAX_DEPTH` is refused, even empty.
        if self.depth >= MAX_DEPTH {
            return Err(JsonErrorKind::TooDeep);
        }
        // It replaces whatever the oneof held before.
        ctx.tape.truncate_nodes(self.slot + 1);
        self.present = true;
        Ok(())
    }

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ValuesField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let ValuesField::Values = field;
        let depth = self.depth + 1;
        if self.kvlist {
            map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Kvlist,
                    depth,
                },
            })
        } else {
            map.next_value_seed(ListSeed {
                ctx,
                each: AnyValues { depth },
            })
        }
    }
}

/// The elements of an `ArrayValue`, at `depth`.
struct AnyValues {
    depth: u32,
}

impl<'a> Element<'a> for AnyValues {
    type Object = AnyValue;
    const WHAT: &'static str = "an array of AnyValue objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> AnyValue {
        AnyValue {
            slot: ctx.tape.push(Node::Empty),
            depth: self.depth,
            set: false,
        }
    }

    fn finish(&mut self, _ctx: &mut Ctx<'a, '_>, _value: AnyValue) -> Result<(), JsonErrorKind> {
        // An element that sets nothing (`{}`, `null`) stays an empty value.
        Ok(())
    }
}
