//! A db.json's text as json-server writes it (`JSON.stringify(db, null,
//! 2)`, which is serde_json's pretty form), each record's text kept from one
//! write back to the next: records are shared and never change (a write
//! replaces one), so a record written before is copied, not serialised again.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// What a write back writes: the text of a whole database.
pub trait Snapshot {
    /// Appends the database's pretty-printed text to `out`, the text of
    /// records written before taken from `texts`.
    fn write_text(&self, out: &mut Vec<u8>, texts: &mut RecordTexts);
}

impl Snapshot for Value {
    fn write_text(&self, out: &mut Vec<u8>, _: &mut RecordTexts) {
        serde_json::to_writer_pretty(out, self).expect("JSON values serialise");
    }
}

/// Each collection's records and their texts as items of its array, in
/// the order last written (a record is held, so that it is known again by
/// its address).
#[derive(Debug, Default)]
pub struct RecordTexts {
    /// The texts written by the current write back, by collection.
    current: HashMap<String, Vec<Written>>,
    /// The texts the write back before wrote.
    before: HashMap<String, Vec<Written>>,
}

/// A record and its text as written.
type Written = (Arc<Value>, Arc<[u8]>);

/// The indentation of a record, an item of an array that is a member of the database.
const RECORD_INDENT: &[u8] = b"    ";

impl RecordTexts {
    /// Begins a write back: the texts it does not write are dropped at the next.
    pub fn begin(&mut self) {
        self.before = std::mem::take(&mut self.current);
    }

    /// Appends the records of the collection `name` as a member's array value to `out`.
    pub fn write_array(&mut self, name: &str, records: &[Arc<Value>], out: &mut Vec<u8>) {
        let before = self.before.remove(name).unwrap_or_default();
        let mut earlier = Earlier::new(&before);
        let mut written = Vec::with_capacity(records.len());
        out.push(b'[');
        for (position, record) in records.iter().enumerate() {
            out.extend_from_slice(if position == 0 { b"\n" } else { b",\n" });
            let text = earlier.text_of(record).unwrap_or_else(|| {
                let mut text = RECORD_INDENT.to_vec();
                write_indented(record, RECORD_INDENT, &mut text);
                text.into()
            });
            out.extend_from_slice(&text);
            written.push((Arc::clone(record), text));
        }
        out.extend_from_slice(if records.is_empty() { b"]" } else { b"\n  ]" });
        self.current.insert(name.to_string(), written);
    }
}

/// Finds records in the texts written before: mostly in the same order
/// (a write appends, replaces or removes one), so each is looked for just
/// after the last found, and by address only when it is not there.
struct Earlier<'a> {
    written: &'a [Written],
    next: usize,
    by_address: Option<HashMap<*const Value, usize>>,
}

impl<'a> Earlier<'a> {
    fn new(written: &'a [Written]) -> Earlier<'a> {
        Earlier {
            written,
            next: 0,
            by_address: None,
        }
    }

    /// The text written before for `record`, if it was.
    fn text_of(&mut self, record: &Arc<Value>) -> Option<Arc<[u8]>> {
        // Where it was, or one further (the record before it removed or replaced).
        for position in [self.next, self.next + 1] {
            if let Some((held, text)) = self.written.get(position)
                && Arc::ptr_eq(held, record)
            {
                self.next = position + 1;
                return Some(Arc::clone(text));
            }
        }
        let written = self.written;
        if self.next >= written.len() {
            // Past the last found: an added record (a collection keeps its order).
            return None;
        }
        let by_address = self.by_address.get_or_insert_with(|| {
            written
                .iter()
                .enumerate()
                .map(|(position, (held, _))| (Arc::as_ptr(held), position))
                .collect()
        });
        let position = *by_address.get(&Arc::as_ptr(record))?;
        self.next = position + 1;
        Some(Arc::clone(&self.written[position].1))
    }
}

/// Appends `value` pretty-printed as a value nested in lines that start with `indent`.
pub fn write_indented(value: &Value, indent: &[u8], out: &mut Vec<u8>) {
    let text = serde_json::to_vec_pretty(value).expect("JSON values serialise");
    // Line breaks inside strings are escaped: each one here starts a line.
    for line in text.split_inclusive(|&byte| byte == b'\n') {
        out.extend_from_slice(line);
        if line.ends_with(b"\n") {
            out.extend_from_slice(indent);
        }
    }
}

/// Appends the start of a database member, `"name": `, after those before it.
pub fn write_member(name: &str, first: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(if first { b"\n  " } else { b",\n  " });
    serde_json::to_writer(&mut *out, name).expect("strings serialise");
    out.extend_from_slice(b": ");
}
