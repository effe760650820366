//! The values of the record being read: a flat tape of `AnyValue` nodes.
//!
//! JSON fields come in any order, so a record's body and attributes must be held until
//! its object closes. They are held here, in three buffers that live for the whole
//! request and are truncated back (LIFO, by [`Mark`]) when a record, scope or resource
//! is written: no allocation per record once they have grown.
//!
//! - `nodes`: one [`Node`] per value, in document order. An array or kvlist is followed
//!   by its members and knows where they end, so a cursor skips a member's subtree in
//!   one step. A kvlist member is an [`Node::Entry`] pointing at its value.
//! - `text`: strings that had escapes, unescaped; a string without escapes stays in the
//!   request and is borrowed from there ([`Text::Request`]).
//! - `bytes`: `bytesValue`s, base64-decoded.
//!
//! [`JsonValue`] is the [`ValueView`] over a node, so the writers of `otlp::value`
//! stringify a JSON value with the same code as a protobuf one.

use crate::otlp::value::{ValueKind, ValueView};

use super::JsonErrorKind;

/// A string of the request: borrowed when it had no escapes, else unescaped into the
/// tape's text.
#[derive(Clone, Copy, Debug)]
pub(super) enum Text<'a> {
    Request(&'a str),
    Tape { start: usize, end: usize },
}

impl Text<'_> {
    pub const EMPTY: Text<'static> = Text::Request("");
}

/// One value on the tape.
#[derive(Clone, Copy, Debug)]
pub(super) enum Node<'a> {
    /// No oneof field set (also a placeholder while a value is read).
    Empty,
    Str(Text<'a>),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// `bytes[start..end]`.
    Bytes {
        start: usize,
        end: usize,
    },
    /// Elements follow, up to node `end` (exclusive).
    Array {
        end: usize,
    },
    /// [`Node::Entry`]s follow, up to node `end` (exclusive).
    Kvlist {
        end: usize,
    },
    /// A kvlist entry: its key, the node of its value, and the end of the entry's
    /// subtree (a value replaced by a later `value` field of the same `KeyValue` stays
    /// in there, unreferenced).
    Entry {
        key: Text<'a>,
        value: usize,
        end: usize,
    },
}

/// Where the tape stood: truncating back to it drops what was read since.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    nodes: usize,
    text: usize,
    bytes: usize,
}

/// The held values: nodes, unescaped strings, decoded bytes.
#[derive(Debug, Default)]
pub(super) struct Tape<'a> {
    nodes: Vec<Node<'a>>,
    text: String,
    bytes: Vec<u8>,
}

impl<'a> Tape<'a> {
    pub fn mark(&self) -> Mark {
        Mark {
            nodes: self.nodes.len(),
            text: self.text.len(),
            bytes: self.bytes.len(),
        }
    }

    pub fn truncate(&mut self, mark: Mark) {
        self.nodes.truncate(mark.nodes);
        self.text.truncate(mark.text);
        self.bytes.truncate(mark.bytes);
    }

    /// The index the next node gets.
    #[inline]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Appends a node; returns its index.
    #[inline]
    pub fn push(&mut self, node: Node<'a>) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Replaces node `at`.
    #[inline]
    pub fn set(&mut self, at: usize, node: Node<'a>) {
        self.nodes[at] = node;
    }

    /// Drops nodes `len..` (the members of a value that is being replaced).
    #[inline]
    pub fn truncate_nodes(&mut self, len: usize) {
        self.nodes.truncate(len);
    }

    /// Where unescaped strings are appended ([`Text::Tape`] ranges index into it).
    #[inline]
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Where decoded bytes are appended ([`Node::Bytes`] ranges index into it).
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    #[inline]
    pub fn text(&self, t: Text<'a>) -> &str {
        match t {
            Text::Request(s) => s,
            Text::Tape { start, end } => &self.text[start..end],
        }
    }

    /// The view of node `at` (a value node, not an entry).
    #[inline]
    pub fn value(&self, at: usize) -> JsonValue<'_, 'a> {
        JsonValue { tape: self, at }
    }

    /// The node after `at`'s subtree.
    #[inline]
    fn next(&self, at: usize) -> usize {
        match self.nodes[at] {
            Node::Array { end } | Node::Kvlist { end } | Node::Entry { end, .. } => end,
            _ => at + 1,
        }
    }
}

/// An `AnyValue` on the tape, as the shared writers see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonValue<'t, 'a> {
    tape: &'t Tape<'a>,
    at: usize,
}

/// The members of an array or kvlist on the tape: nodes `next..end`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonList<'t, 'a> {
    tape: &'t Tape<'a>,
    next: usize,
    end: usize,
}

impl<'t, 'a> ValueView<'t> for JsonValue<'t, 'a> {
    /// The tape holds validated values only; reading them cannot fail. (Nesting is
    /// checked while the JSON is read, so `too_deep` is never called.)
    type Error = JsonErrorKind;
    type List = JsonList<'t, 'a>;

    #[inline]
    fn kind(&self) -> ValueKind<'t, JsonList<'t, 'a>> {
        let tape = self.tape;
        let list = |end| JsonList {
            tape,
            next: self.at + 1,
            end,
        };
        match tape.nodes[self.at] {
            Node::Str(t) => ValueKind::Str(tape.text(t)),
            Node::Bool(b) => ValueKind::Bool(b),
            Node::Int(i) => ValueKind::Int(i),
            Node::Double(d) => ValueKind::Double(d),
            Node::Bytes { start, end } => ValueKind::Bytes(&tape.bytes[start..end]),
            Node::Array { end } => ValueKind::Array(list(end)),
            Node::Kvlist { end } => ValueKind::Kvlist(list(end)),
            // A value index never points at an entry (the reader makes sure).
            Node::Empty | Node::Entry { .. } => ValueKind::Empty,
        }
    }

    #[inline]
    fn next_element(list: &mut JsonList<'t, 'a>) -> Result<Option<Self>, JsonErrorKind> {
        if list.next >= list.end {
            return Ok(None);
        }
        let at = list.next;
        list.next = list.tape.next(at);
        Ok(Some(JsonValue {
            tape: list.tape,
            at,
        }))
    }

    #[inline]
    fn next_entry(list: &mut JsonList<'t, 'a>) -> Result<Option<(&'t str, Self)>, JsonErrorKind> {
        while list.next < list.end {
            let at = list.next;
            list.next = list.tape.next(at);
            if let Node::Entry { key, value, .. } = list.tape.nodes[at] {
                return Ok(Some((
                    list.tape.text(key),
                    JsonValue {
                        tape: list.tape,
                        at: value,
                    },
                )));
            }
        }
        Ok(None)
    }

    #[cold]
    fn too_deep(_: &JsonList<'t, 'a>) -> JsonErrorKind {
        JsonErrorKind::TooDeep
    }
}
