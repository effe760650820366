//! The request, resource and scope messages every signal shares
//! (`Export*ServiceRequest`, `Resource*`, `Scope*`): each resource and scope row is
//! written (through `otlp::common`'s shared rows) when its object closes. A signal
//! ([`Signal`]) gives its field names and its records' objects (`logs`, `traces`,
//! `metrics`).

use core::marker::PhantomData;

use serde::de::{DeserializeSeed, MapAccess};

use crate::otlp::common::{ResourceRow, ScopeRow};

use super::JsonErrorKind;
use super::any_value::{KeyValues, To};
use super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, fields};
use super::scalar::{NumberSeed, TextSeed};
use super::tape::{Mark, Text};

/// Which part of a `Resource*` / `Scope*` message a field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    /// `resource` / `scope`.
    Own,
    /// The list below it: `scopeLogs`, `logRecords`, `scopeSpans`, `spans`,
    /// `scopeMetrics`, `metrics`.
    Children,
    SchemaUrl,
}

/// What a signal's request differs in: its field names, and the records' objects.
pub(super) trait Signal: 'static {
    /// The request's one field (`resourceLogs`, `resourceSpans`, `resourceMetrics`).
    type RequestField: Field;
    type ResourceField: Field;
    type ScopeField: Field;
    /// The records of a scope (`logRecords`, `spans`, `metrics`), of resource and scope rows.
    type Records: for<'a> Element<'a>;
    /// What each message is, for "expected …" in type errors.
    const REQUEST: &'static str;
    const RESOURCE_LIST: &'static str;
    const RESOURCE: &'static str;
    const SCOPE_LIST: &'static str;
    const SCOPE: &'static str;

    fn resource_part(field: Self::ResourceField) -> Part;
    fn scope_part(field: Self::ScopeField) -> Part;
    fn records(resource: usize, scope: usize) -> Self::Records;
}

fields!(ResourceField {
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
});
fields!(ScopeField {
    Name = "name",
    Version = "version",
    Attributes = "attributes",
    DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
});

/// Reads a signal's `Export*ServiceRequest` from `de` into `ctx.out`.
pub(super) fn request<'a, S: Signal>(
    ctx: &mut Ctx<'a, '_>,
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>,
) -> Result<(), serde_json::Error> {
    ObjectSeed::new(ctx, Request::<S>(PhantomData))
        .deserialize(de)
        .map(drop)
}

/// `Export*ServiceRequest`.
struct Request<S>(PhantomData<S>);

impl<'a, S: Signal> Object<'a> for Request<S> {
    type Field = S::RequestField;
    const WHAT: &'static str = S::REQUEST;

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        _field: S::RequestField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        // The request has one field: the resources.
        map.next_value_seed(ListSeed {
            ctx,
            each: ResourceList::<S>(PhantomData),
        })
    }
}

/// `resourceLogs`, `resourceSpans`, `resourceMetrics`.
struct ResourceList<S>(PhantomData<S>);

/// A `Resource*` message: its row is written when it closes (its records point at
/// it by index).
struct ResourceObj<'a, S> {
    index: usize,
    mark: Mark,
    schema_url: Text<'a>,
    signal: PhantomData<S>,
}

impl<'a, S: Signal> Element<'a> for ResourceList<S> {
    type Object = ResourceObj<'a, S>;
    const WHAT: &'static str = S::RESOURCE_LIST;

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> ResourceObj<'a, S> {
        ctx.service.clear();
        ctx.has_service = false;
        ResourceObj {
            index: ResourceRow::start(ctx.out.resources()).index,
            mark: ctx.tape.mark(),
            schema_url: Text::EMPTY,
            signal: PhantomData,
        }
    }

    fn finish(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        rl: ResourceObj<'a, S>,
    ) -> Result<(), JsonErrorKind> {
        let row = ResourceRow {
            index: rl.index,
            service_name: ctx.has_service.then_some(ctx.service.as_str()),
            schema_url: ctx.tape.text(rl.schema_url),
        };
        row.finish(ctx.out.resources());
        ctx.tape.truncate(rl.mark);
        Ok(())
    }
}

impl<'a, S: Signal> Object<'a> for ResourceObj<'a, S> {
    type Field = S::ResourceField;
    const WHAT: &'static str = S::RESOURCE;

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: S::ResourceField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match S::resource_part(field) {
            Part::Own => {
                map.next_value_seed(ObjectSeed::new(ctx, Resource))?;
            }
            Part::Children => map.next_value_seed(ListSeed {
                ctx,
                each: ScopeList::<S> {
                    resource: self.index,
                    signal: PhantomData,
                },
            })?,
            Part::SchemaUrl => {
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

/// `scopeLogs` / `scopeSpans` / `scopeMetrics` of the resource row `resource`.
struct ScopeList<S> {
    resource: usize,
    signal: PhantomData<S>,
}

/// A `Scope*` message: its row is written when it closes.
struct ScopeObj<'a, S> {
    resource: usize,
    index: usize,
    mark: Mark,
    scope: Scope<'a>,
    schema_url: Text<'a>,
    signal: PhantomData<S>,
}

impl<'a, S: Signal> Element<'a> for ScopeList<S> {
    type Object = ScopeObj<'a, S>;
    const WHAT: &'static str = S::SCOPE_LIST;

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> ScopeObj<'a, S> {
        ScopeObj {
            resource: self.resource,
            index: ScopeRow::start(ctx.out.scopes()).index,
            mark: ctx.tape.mark(),
            scope: Scope {
                name: Text::EMPTY,
                version: Text::EMPTY,
                dropped_attributes: 0,
            },
            schema_url: Text::EMPTY,
            signal: PhantomData,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, sl: ScopeObj<'a, S>) -> Result<(), JsonErrorKind> {
        let row = ScopeRow {
            index: sl.index,
            name: ctx.tape.text(sl.scope.name),
            version: ctx.tape.text(sl.scope.version),
            schema_url: ctx.tape.text(sl.schema_url),
            dropped_attributes: sl.scope.dropped_attributes,
        };
        row.finish(ctx.out.scopes());
        ctx.tape.truncate(sl.mark);
        Ok(())
    }
}

impl<'a, S: Signal> Object<'a> for ScopeObj<'a, S> {
    type Field = S::ScopeField;
    const WHAT: &'static str = S::SCOPE;

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: S::ScopeField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match S::scope_part(field) {
            Part::Own => self.scope = map.next_value_seed(ObjectSeed::new(ctx, self.scope))?,
            Part::Children => map.next_value_seed(ListSeed {
                ctx,
                each: S::records(self.resource, self.index),
            })?,
            Part::SchemaUrl => {
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
    dropped_attributes: u32,
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
            ScopeField::DroppedAttributesCount => {
                if let Some(n) = map.next_value_seed(NumberSeed::u32(ctx))? {
                    self.dropped_attributes = n;
                }
            }
        }
        Ok(())
    }
}
