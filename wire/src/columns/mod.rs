//! Column buffers: where decoded records wait, column by column, until a batch is
//! sealed and encoded to RowBinary.
//!
//! Each ClickHouse column is one buffer: numbers in a `Vec`, strings in one byte arena
//! with an end offset per row ([`Strings`]), `Map(String, String)` as two string
//! arenas with an end index per row ([`Maps`]). Resource and scope values, which
//! every signal has, are kept once per resource / scope ([`Resources`], [`Scopes`]);
//! rows point at them by index. Decoders append; nothing is
//! allocated per record once the buffers have grown to the batch's size, because
//! `clear` keeps their capacity for the next batch.
//!
//! # Invariants
//!
//! - Every column of a table holds the same number of rows once a record is complete.
//! - A request that fails to decode leaves no trace: decoders take a mark first
//!   ([`logs::LogsBatch::mark`], [`traces::TracesBatch::mark`]) and
//!   [`truncate`](Strings::truncate) back to it on error.

pub mod logs;
pub mod metrics;
pub mod traces;

/// A column of strings: all bytes in one arena, the end offset of each row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Strings {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Strings {
    #[inline]
    pub fn push(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
    }

    /// Appends a row written in place by `write` (stringified values, hex ids).
    #[inline]
    pub fn push_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.bytes.len();
        match write(&mut self.bytes) {
            Ok(()) => {
                self.ends.push(self.bytes.len());
                Ok(())
            }
            Err(e) => {
                self.bytes.truncate(start);
                Err(e)
            }
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `i`'s bytes.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The last row's bytes, if any.
    #[inline]
    pub fn last(&self) -> Option<&[u8]> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        if rows < self.ends.len() {
            let end = if rows == 0 { 0 } else { self.ends[rows - 1] };
            self.bytes.truncate(end);
            self.ends.truncate(rows);
        }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Bytes held (for batch sealing by size).
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.bytes.len() + self.ends.len() * size_of::<usize>()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// A `Map(LowCardinality(String), String)` column: the entries of all rows in two
/// arenas, and the end entry index of each row.
///
/// Entries of one row are appended with [`push_entry`](Maps::push_entry) and closed
/// with [`finish_row`](Maps::finish_row). A later entry with the key of an earlier
/// one replaces it when the row is finished (the OTel collector builds a Go map,
/// so the last value of a repeated key wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maps {
    keys: Strings,
    values: Strings,
    ends: Vec<usize>,
}

impl Maps {
    /// Index of the first entry of the row being built.
    #[inline]
    fn row_start(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    #[inline]
    pub fn push_entry(&mut self, key: &[u8], value: &[u8]) {
        self.keys.push(key);
        self.values.push(value);
    }

    /// Appends an entry whose value is written in place by `write`.
    #[inline]
    pub fn push_entry_with<E>(
        &mut self,
        key: &[u8],
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.values.push_with(write)?;
        self.keys.push(key);
        Ok(())
    }

    /// Entries of the row being built so far.
    #[inline]
    pub fn pending(&self) -> usize {
        self.keys.len() - self.row_start()
    }

    /// Key and value of entry `i` of the row being built.
    #[inline]
    pub fn pending_entry(&self, i: usize) -> (&[u8], &[u8]) {
        let j = self.row_start() + i;
        (self.keys.get(j), self.values.get(j))
    }

    /// Closes the row being built, dropping entries whose key repeats later in it.
    pub fn finish_row(&mut self) {
        let start = self.row_start();
        let end = self.keys.len();
        if end - start > 1 && self.has_repeated_key(start, end) {
            self.drop_overridden(start, end);
        }
        self.ends.push(self.keys.len());
    }

    fn has_repeated_key(&self, start: usize, end: usize) -> bool {
        // Rows are small (a handful to a few dozen attributes): a quadratic scan with
        // no allocation beats hashing. Long rows are rare; they pay n² compares once.
        (start..end).any(|i| ((i + 1)..end).any(|j| self.keys.get(i) == self.keys.get(j)))
    }

    /// The rare path: rebuild the row without the overridden entries.
    #[cold]
    fn drop_overridden(&mut self, start: usize, end: usize) {
        let keep: Vec<(Vec<u8>, Vec<u8>)> = (start..end)
            .filter(|&i| !((i + 1)..end).any(|j| self.keys.get(i) == self.keys.get(j)))
            .map(|i| (self.keys.get(i).to_vec(), self.values.get(i).to_vec()))
            .collect();
        self.keys.truncate(start);
        self.values.truncate(start);
        for (k, v) in keep {
            self.push_entry(&k, &v);
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The entries of row `i`, in order.
    #[inline]
    pub fn row(&self, i: usize) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start..self.ends[i]).map(|j| (self.keys.get(j), self.values.get(j)))
    }

    /// Keeps the first `rows` rows (and drops a row being built).
    pub fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows);
        let entries = self.row_start();
        self.keys.truncate(entries);
        self.values.truncate(entries);
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.ends.clear();
    }

    #[inline]
    pub fn byte_len(&self) -> usize {
        self.keys.byte_len() + self.values.byte_len() + self.ends.len() * size_of::<usize>()
    }
}

/// Resource-level values, one row per OTLP `ResourceLogs` / `ResourceSpans`.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    /// `ServiceName`: the `service.name` attribute when it is a string, else empty.
    pub service_name: Strings,
    /// `ResourceSchemaUrl`.
    pub schema_url: Strings,
    /// `ResourceAttributes`.
    pub attributes: Maps,
}

/// Scope-level values, one row per OTLP `ScopeLogs` / `ScopeSpans` / `ScopeMetrics`.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    pub name: Strings,
    pub version: Strings,
    pub schema_url: Strings,
    pub attributes: Maps,
    /// `ScopeDroppedAttrCount` (the metric tables have the column).
    pub dropped_attributes: Vec<u32>,
}

impl Resources {
    /// Resource rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.service_name.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.service_name.is_empty()
    }

    /// Keeps the first `rows` rows (and drops a row being built).
    pub fn truncate(&mut self, rows: usize) {
        self.service_name.truncate(rows);
        self.schema_url.truncate(rows);
        self.attributes.truncate(rows);
    }

    /// Approximate bytes held.
    pub fn byte_len(&self) -> usize {
        self.service_name.byte_len() + self.schema_url.byte_len() + self.attributes.byte_len()
    }
}

impl Scopes {
    /// Scope rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.name.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
    }

    /// Keeps the first `rows` rows (and drops a row being built).
    pub fn truncate(&mut self, rows: usize) {
        self.name.truncate(rows);
        self.version.truncate(rows);
        self.schema_url.truncate(rows);
        self.attributes.truncate(rows);
        self.dropped_attributes.truncate(rows);
    }

    /// Approximate bytes held.
    pub fn byte_len(&self) -> usize {
        self.dropped_attributes.len() * 4
            + self.name.byte_len()
            + self.version.byte_len()
            + self.schema_url.byte_len()
            + self.attributes.byte_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_push_get_truncate() {
        let mut s = Strings::default();
        s.push(b"ab");
        s.push(b"");
        s.push_with(|b| {
            b.extend_from_slice(b"xyz");
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), [&b"ab"[..], b"", b"xyz"]);
        assert_eq!(
            s.push_with(|b| {
                b.push(b'!');
                Err("bad")
            }),
            Err("bad")
        );
        assert_eq!(s.len(), 3, "a failed write leaves nothing");
        assert_eq!(s.last(), Some(&b"xyz"[..]));
        s.truncate(1);
        assert_eq!(s.iter().collect::<Vec<_>>(), [&b"ab"[..]]);
        s.push(b"c");
        assert_eq!(s.get(1), b"c");
    }

    #[test]
    fn maps_keep_rows_apart_and_the_last_repeated_key_wins() {
        let mut m = Maps::default();
        m.push_entry(b"a", b"1");
        m.push_entry(b"b", b"2");
        m.push_entry(b"a", b"3");
        m.finish_row();
        m.finish_row(); // an empty row
        m.push_entry(b"k", b"v");
        m.finish_row();
        let rows: Vec<Vec<_>> = (0..m.len()).map(|i| m.row(i).collect()).collect();
        assert_eq!(rows[0], [(&b"b"[..], &b"2"[..]), (b"a", b"3")]);
        assert!(rows[1].is_empty());
        assert_eq!(rows[2], [(&b"k"[..], &b"v"[..])]);

        m.push_entry(b"half", b"built");
        m.truncate(1);
        assert_eq!(m.len(), 1);
        m.push_entry(b"z", b"9");
        assert_eq!(m.pending(), 1);
        assert_eq!(m.pending_entry(0), (&b"z"[..], &b"9"[..]));
        m.finish_row();
        assert_eq!(m.row(1).collect::<Vec<_>>(), [(&b"z"[..], &b"9"[..])]);
    }
}
