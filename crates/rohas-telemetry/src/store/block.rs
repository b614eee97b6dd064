//! Spans packed into one blob per written batch.
//!
//! A row per span cost the writer about 3.5 µs a span (binding seventeen
//! values, a B-tree insert, an index entry): with two spans a request that
//! was a fifth of a Python server's core. A batch written as one blob costs
//! a B-tree insert for hundreds of spans; the names, handlers and trace ids
//! that repeat from span to span are written once per block (a string
//! table), which also makes the file a fraction of the size.
//!
//! ```text
//! block  = version:u8 first_start:varint table_at:u32le count:varint span*
//!          strings:varint (len:varint bytes)*      (the table is written
//!          last, so the spans go straight into the output)
//! span   = flags:varint trace:str# span_id:u64le [parent:u64le] name:str#
//!          kind:u8 [handler:str#] start:zigzag(Δ first start) duration:varint
//!          [status_code:varint] [error:len+bytes] [event:str#] [attempt:varint]
//!          [message_id:len+bytes] [attributes:len+json]
//! ```
//! `str#` is an index into the block's strings; a bracketed field is there
//! when its flag is set. A blob that does not decode is reported as damage.

use crate::ids::SpanId;
use crate::span::{Span, SpanKind, SpanStatus};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

const VERSION: u8 = 1;

const HAS_PARENT: u64 = 1;
const REMOTE_PARENT: u64 = 1 << 1;
const HAS_HANDLER: u64 = 1 << 2;
const FAILED: u64 = 1 << 3;
const HAS_STATUS_CODE: u64 = 1 << 4;
const HAS_ERROR: u64 = 1 << 5;
const HAS_EVENT: u64 = 1 << 6;
const HAS_ATTEMPT: u64 = 1 << 7;
const HAS_MESSAGE_ID: u64 = 1 << 8;
const DEAD_LETTERED: u64 = 1 << 9;
const HAS_ATTRIBUTES: u64 = 1 << 10;

/// A blob that is not a block this version wrote.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadBlock(pub &'static str);

impl std::fmt::Display for BadBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a span block does not decode: {}", self.0)
    }
}

/// Packs `spans` into one blob (appended to `out`).
pub(crate) fn encode(spans: &[&Span], out: &mut Vec<u8>) {
    let mut strings = Strings::for_spans(spans.len());
    let first_start = spans.first().map_or(0, |s| s.start_ns);
    let begin = out.len();
    out.push(VERSION);
    put_varint(out, first_start);
    let table_at = out.len();
    out.extend_from_slice(&[0; 4]);
    put_varint(out, spans.len() as u64);
    for s in spans {
        let mut flags = 0;
        if s.parent_id.is_some() {
            flags |= HAS_PARENT;
        }
        if s.remote_parent {
            flags |= REMOTE_PARENT;
        }
        if s.handler.is_some() {
            flags |= HAS_HANDLER;
        }
        if s.status == SpanStatus::Error {
            flags |= FAILED;
        }
        if s.status_code.is_some() {
            flags |= HAS_STATUS_CODE;
        }
        if s.error.is_some() {
            flags |= HAS_ERROR;
        }
        if s.event.is_some() {
            flags |= HAS_EVENT;
        }
        if s.attempt.is_some() {
            flags |= HAS_ATTEMPT;
        }
        if s.message_id.is_some() {
            flags |= HAS_MESSAGE_ID;
        }
        if s.dead_lettered {
            flags |= DEAD_LETTERED;
        }
        if !s.attributes.is_empty() {
            flags |= HAS_ATTRIBUTES;
        }
        put_varint(out, flags);
        put_varint(out, strings.trace(&s.trace_id));
        out.extend_from_slice(&s.span_id.as_u64().to_le_bytes());
        if let Some(p) = s.parent_id {
            out.extend_from_slice(&p.as_u64().to_le_bytes());
        }
        put_varint(out, strings.shared(&s.name));
        out.push(s.kind.code() as u8);
        if let Some(h) = &s.handler {
            put_varint(out, strings.shared(h));
        }
        put_varint(out, zigzag(s.start_ns.wrapping_sub(first_start) as i64));
        put_varint(out, s.duration_ns);
        if let Some(c) = s.status_code {
            put_varint(out, u64::from(c));
        }
        if let Some(e) = &s.error {
            put_bytes(out, e.as_bytes());
        }
        if let Some(e) = &s.event {
            put_varint(out, strings.shared(e));
        }
        if let Some(a) = s.attempt {
            put_varint(out, u64::from(a));
        }
        if let Some(m) = &s.message_id {
            put_bytes(out, m.as_bytes());
        }
        if !s.attributes.is_empty() {
            let json = serde_json::to_vec(&s.attributes).unwrap_or_default();
            put_bytes(out, &json);
        }
    }
    let offset = u32::try_from(out.len() - begin).unwrap_or(u32::MAX);
    out[table_at..table_at + 4].copy_from_slice(&offset.to_le_bytes());
    put_varint(out, strings.list.len() as u64);
    for s in &strings.list {
        put_bytes(out, s.as_bytes());
    }
}

/// A block's string table as it is written. Names, handlers and events
/// are `Arc`s shared by every span of a route: found by pointer, without
/// hashing their text. A trace id usually repeats the previous span's or
/// one of the last few: it is looked for there only, never hashed, and
/// one not found is added again (a table may hold a text twice; a block
/// is read whole, so only its size notices).
struct Strings<'a> {
    list: Vec<&'a str>,
    /// Names, handlers and events by text, each looked up once per
    /// `Arc` (`by_pointer` first). Fx, not SipHash: hashing was a tenth of
    /// the writer's work, and these are the schema's texts, not a client's
    /// (trace ids never go in here: see [`Strings::trace`]).
    by_text: FxHashMap<&'a str, u64>,
    by_pointer: HashMap<usize, u64, BuildHasherDefault<PointerHasher>>,
    /// The last few strings found by pointer, direct-mapped by address:
    /// a block's spans name the same few routes and handlers, and looking
    /// here first skips the hash table (a fifth of encoding a span).
    recent: [(usize, u64); RECENT],
    last_trace: Option<(&'a str, u64)>,
    /// Recent trace ids, direct-mapped by their last digits (the random
    /// part of the engine's ids).
    traces: [Option<(&'a str, u64)>; RECENT],
}

/// Slots of [`Strings::recent`] (a power of two).
const RECENT: usize = 16;

impl<'a> Strings<'a> {
    /// The list sized for `spans` spans' strings at once: a trace id every
    /// span or two (growing it step by step was 3 % of the writer's work).
    fn for_spans(spans: usize) -> Strings<'a> {
        Strings {
            list: Vec::with_capacity(spans),
            by_text: FxHashMap::default(),
            by_pointer: HashMap::default(),
            recent: [(0, 0); RECENT],
            last_trace: None,
            traces: [None; RECENT],
        }
    }

    fn text(&mut self, s: &'a str) -> u64 {
        // One hash of the text, found or added.
        let list = &mut self.list;
        *self.by_text.entry(s).or_insert_with(|| {
            list.push(s);
            list.len() as u64 - 1
        })
    }

    fn shared(&mut self, s: &'a Arc<str>) -> u64 {
        // The pointer and the text live as long as `s`: while the block is
        // written no other string can take that address.
        // Never 0 (an `Arc`'s pointer is not null; a user-space address
        // is below 2^48): 0 marks an empty slot of `recent`.
        let key = s.as_ptr() as usize ^ (s.len() << 48);
        // Allocations are at least 16 bytes apart.
        let slot = (key >> 4) % RECENT;
        if self.recent[slot].0 == key {
            return self.recent[slot].1;
        }
        let i = match self.by_pointer.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.text(s);
                self.by_pointer.insert(key, i);
                i
            }
        };
        self.recent[slot] = (key, i);
        i
    }

    fn trace(&mut self, s: &'a str) -> u64 {
        if let Some((last, i)) = self.last_trace {
            if same_id(last, s) {
                return i;
            }
        }
        let slot = trace_slot(s);
        let i = match self.traces[slot] {
            Some((seen, i)) if same_id(seen, s) => i,
            _ => {
                self.list.push(s);
                let i = self.list.len() as u64 - 1;
                self.traces[slot] = Some((s, i));
                i
            }
        };
        self.last_trace = Some((s, i));
        i
    }
}

/// The slot of [`Strings::traces`] for a trace id: its last eight bytes
/// mixed (the engine's ids end in random digits; a client's any text).
fn trace_slot(id: &str) -> usize {
    let bytes = id.as_bytes();
    let tail = bytes.len().saturating_sub(8);
    let mut last = [0u8; 8];
    last[..bytes.len() - tail].copy_from_slice(&bytes[tail..]);
    (u64::from_le_bytes(last).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize % RECENT
}

/// Hashes a pointer (a few multiplications; pointers are not chosen by
/// anyone outside, so no flooding to guard against).
#[derive(Default)]
struct PointerHasher(u64);

impl Hasher for PointerHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Unpacks a blob [`encode`] wrote.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<Span>, BadBlock> {
    let mut r = Reader { data, at: 0 };
    if r.byte()? != VERSION {
        return Err(BadBlock("unknown version"));
    }
    let first_start = r.varint()?;
    let table_at = r.u32()? as usize;
    let spans_at = r.at;
    if table_at < spans_at || table_at > data.len() {
        return Err(BadBlock("the string table is out of place"));
    }
    r.at = table_at;
    let count = r.varint()? as usize;
    if count > data.len() {
        return Err(BadBlock("more strings than bytes"));
    }
    let mut strings: Vec<&str> = Vec::with_capacity(count);
    for _ in 0..count {
        strings.push(std::str::from_utf8(r.bytes()?).map_err(|_| BadBlock("a string is not UTF-8"))?);
    }
    if r.at != data.len() {
        return Err(BadBlock("bytes after the string table"));
    }
    let mut r = Reader {
        data: &data[..table_at],
        at: spans_at,
    };
    // Names, handlers and events repeat: one `Arc` each per block.
    let mut shared: Vec<Option<Arc<str>>> = vec![None; strings.len()];
    let mut arc = |i: u64| -> Result<Arc<str>, BadBlock> {
        let i = usize::try_from(i).map_err(|_| BadBlock("string index"))?;
        let s = strings.get(i).ok_or(BadBlock("string index out of range"))?;
        Ok(Arc::clone(shared[i].get_or_insert_with(|| Arc::from(*s))))
    };
    let n = r.varint()? as usize;
    if n > data.len() {
        return Err(BadBlock("more spans than bytes"));
    }
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        let flags = r.varint()?;
        let trace = usize::try_from(r.varint()?).map_err(|_| BadBlock("string index"))?;
        let trace_id = *strings.get(trace).ok_or(BadBlock("string index out of range"))?;
        let span_id = SpanId::from_u64(r.u64()?).ok_or(BadBlock("a zero span id"))?;
        let parent_id = if flags & HAS_PARENT != 0 {
            Some(SpanId::from_u64(r.u64()?).ok_or(BadBlock("a zero parent id"))?)
        } else {
            None
        };
        let name = arc(r.varint()?)?;
        let kind = SpanKind::from_code(i64::from(r.byte()?));
        let mut span = Span::new(trace_id, span_id, parent_id, name, kind);
        span.remote_parent = flags & REMOTE_PARENT != 0;
        if flags & HAS_HANDLER != 0 {
            span.handler = Some(arc(r.varint()?)?);
        }
        span.start_ns = first_start.wrapping_add(unzigzag(r.varint()?) as u64);
        span.duration_ns = r.varint()?;
        if flags & FAILED != 0 {
            span.status = SpanStatus::Error;
        }
        if flags & HAS_STATUS_CODE != 0 {
            span.status_code = Some(u16::try_from(r.varint()?).map_err(|_| BadBlock("status code"))?);
        }
        if flags & HAS_ERROR != 0 {
            span.error = Some(r.text()?);
        }
        if flags & HAS_EVENT != 0 {
            span.event = Some(arc(r.varint()?)?);
        }
        if flags & HAS_ATTEMPT != 0 {
            span.attempt = Some(u32::try_from(r.varint()?).map_err(|_| BadBlock("attempt"))?);
        }
        if flags & HAS_MESSAGE_ID != 0 {
            span.message_id = Some(r.text()?.into());
        }
        span.dead_lettered = flags & DEAD_LETTERED != 0;
        if flags & HAS_ATTRIBUTES != 0 {
            span.attributes = serde_json::from_slice(r.bytes()?).map_err(|_| BadBlock("attributes are not JSON"))?;
        }
        spans.push(span);
    }
    if r.at != table_at {
        return Err(BadBlock("bytes after the last span"));
    }
    Ok(spans)
}

/// How far a span may start from its trace's time (the engine's trace ids
/// begin with it) and still be found by the block's trace range: later
/// than this (a retry, a delayed event, a long request), it is `late`.
const IN_PLACE_AFTER_NS: u64 = 10_000_000_000;
/// Clocks of two engines sharing a trace may disagree a little.
const IN_PLACE_BEFORE_NS: u64 = 2_000_000_000;

/// What the block's row says of its spans, for the lookups to skip it.
pub(crate) struct Block<'a> {
    pub bound_ns: u64,
    pub max_start_ns: u64,
    pub min_trace: Option<&'a str>,
    pub max_trace: Option<&'a str>,
    pub roots: i64,
    /// Trace ids (each once) of the spans kept out of the trace range.
    pub late: Vec<&'a str>,
}

impl<'a> Block<'a> {
    /// `previous_bound`: the last block's `bound_ns`.
    pub fn of(spans: &[&'a Span], previous_bound: u64) -> Block<'a> {
        let mut block = Block {
            bound_ns: previous_bound.max(crate::now_ns()),
            max_start_ns: 0,
            min_trace: None,
            max_trace: None,
            roots: 0,
            late: Vec::new(),
        };
        // The previous span's trace id (they often repeat), its trace time,
        // and whether it is already inside the block's range.
        let mut last: Option<(&str, Option<u64>, bool)> = None;
        // The range's ends with their first 16 bytes as a number, which
        // orders them as their text does: compared inline, the text only
        // on a tie (comparing texts was a third of this function's work).
        let mut min: Option<(u128, &str)> = None;
        let mut max: Option<(u128, &str)> = None;
        for s in spans {
            block.max_start_ns = block.max_start_ns.max(s.start_ns);
            if s.is_root() {
                block.roots += 1;
                block.bound_ns = block.bound_ns.max(s.start_ns);
            }
            let id = s.trace_id.as_str();
            let (time, ranged) = match last {
                Some((l, t, ranged)) if same_id(l, id) => (t, ranged),
                _ => (trace_time_ns(id), false),
            };
            if time.is_some_and(|t| near(t, s.start_ns)) {
                if !ranged {
                    let key = (prefix(id), id);
                    if min.is_none_or(|m| key < m) {
                        min = Some(key);
                    }
                    if max.is_none_or(|m| key > m) {
                        max = Some(key);
                    }
                }
                last = Some((id, time, true));
            } else {
                if !block.late.contains(&id) {
                    block.late.push(id);
                }
                last = Some((id, time, ranged));
            }
        }
        block.min_trace = min.map(|(_, id)| id);
        block.max_trace = max.map(|(_, id)| id);
        block
    }
}

/// A trace id's first 16 bytes, big-endian (zero-padded): numbers that
/// order as the texts do.
fn prefix(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = id.len().min(16);
    bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// `a == b`, for the engine's 32-byte ids without a call to `memcmp`.
fn same_id(a: &str, b: &str) -> bool {
    match (<&[u8; 32]>::try_from(a.as_bytes()), <&[u8; 32]>::try_from(b.as_bytes())) {
        (Ok(a), Ok(b)) => {
            let half = |x: &[u8; 32], i: usize| u128::from_ne_bytes(x[i..i + 16].try_into().unwrap_or_default());
            half(a, 0) == half(b, 0) && half(a, 16) == half(b, 16)
        }
        _ => a == b,
    }
}

/// Whether a span of `trace_id` that started at `start_ns` is near the
/// time its trace id begins with (32 lowercase hex digits, the first 12 the
/// milliseconds: the engine's ids).
#[cfg(test)]
fn in_place(trace_id: &str, start_ns: u64) -> bool {
    trace_time_ns(trace_id).is_some_and(|t| near(t, start_ns))
}

/// The time a trace id of the engine's shape (32 characters, the first 12
/// lowercase hex digits of milliseconds) begins with. Only those 12 are
/// read: a client's id that happens to begin so is ranged like the
/// engine's, which any id may be (the range only has to hold it), and
/// checking all 32 was a third of this function's work.
fn trace_time_ns(trace_id: &str) -> Option<u64> {
    let id: &[u8; 32] = trace_id.as_bytes().try_into().ok()?;
    let (time, _) = id.split_first_chunk::<12>()?;
    let ms = crate::ids::lower_hex_value(time)?;
    Some(ms.saturating_mul(1_000_000))
}

fn near(trace_time_ns: u64, start_ns: u64) -> bool {
    start_ns.saturating_add(IN_PLACE_BEFORE_NS) >= trace_time_ns
        && start_ns <= trace_time_ns.saturating_add(IN_PLACE_AFTER_NS)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, BadBlock> {
        let b = *self.data.get(self.at).ok_or(BadBlock("cut short"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, BadBlock> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(BadBlock("a number is too long"))
    }

    fn u32(&mut self) -> Result<u32, BadBlock> {
        let end = self.at.checked_add(4).ok_or(BadBlock("cut short"))?;
        let b = self.data.get(self.at..end).ok_or(BadBlock("cut short"))?;
        self.at = end;
        Ok(u32::from_le_bytes(b.try_into().map_err(|_| BadBlock("cut short"))?))
    }

    fn u64(&mut self) -> Result<u64, BadBlock> {
        let end = self.at.checked_add(8).ok_or(BadBlock("cut short"))?;
        let b = self.data.get(self.at..end).ok_or(BadBlock("cut short"))?;
        self.at = end;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| BadBlock("cut short"))?))
    }

    fn bytes(&mut self) -> Result<&'a [u8], BadBlock> {
        let len = usize::try_from(self.varint()?).map_err(|_| BadBlock("length"))?;
        let end = self.at.checked_add(len).ok_or(BadBlock("cut short"))?;
        let b = self.data.get(self.at..end).ok_or(BadBlock("cut short"))?;
        self.at = end;
        Ok(b)
    }

    fn text(&mut self) -> Result<String, BadBlock> {
        let b = self.bytes()?;
        Ok(std::str::from_utf8(b)
            .map_err(|_| BadBlock("text is not UTF-8"))?
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(trace: &str, id: u64, parent: Option<u64>, start: u64) -> Span {
        let mut s = Span::new(
            trace,
            SpanId::from_u64(id).unwrap(),
            parent.and_then(SpanId::from_u64),
            Arc::from("GET /users/{id}"),
            SpanKind::Request,
        );
        s.start_ns = start;
        s.duration_ns = 1234;
        s
    }

    fn roundtrip(spans: &[Span]) -> Vec<Span> {
        let refs: Vec<&Span> = spans.iter().collect();
        let mut out = Vec::new();
        encode(&refs, &mut out);
        decode(&out).unwrap()
    }

    #[test]
    fn every_field_comes_back() {
        let mut full = span(
            "0123456789abcdef0123456789abcdef",
            7,
            Some(9),
            1_700_000_000_000_000_000,
        );
        full.remote_parent = true;
        full.kind = SpanKind::Delivery;
        full.handler = Some(Arc::from("event:UserCreated:sendWelcome"));
        full.failed("boom ✗");
        full.status_code = Some(503);
        full.event = Some(Arc::from("UserCreated"));
        full.attempt = Some(3);
        full.message_id = Some("m-1".into());
        full.dead_lettered = true;
        full.attributes
            .insert("k".into(), serde_json::json!({"n": [1, 2.5, null]}));
        // Starts before the block's first, and none at all.
        let earlier = span("0123456789abcdef0123456789abcdef", 8, None, 1_699_999_999_000_000_000);
        let zero = span("x", 10, None, 0);
        let spans = vec![full, earlier, zero];
        assert_eq!(roundtrip(&spans), spans);
    }

    #[test]
    fn repeated_strings_are_written_once() {
        let spans: Vec<Span> = (1..=100)
            .map(|i| span("0123456789abcdef0123456789abcdef", i, None, 1_000 + i))
            .collect();
        let refs: Vec<&Span> = spans.iter().collect();
        let mut out = Vec::new();
        encode(&refs, &mut out);
        assert!(out.len() < 100 * 16, "{} bytes for 100 spans", out.len());
        assert_eq!(decode(&out).unwrap(), spans);
    }

    #[test]
    fn interleaved_trace_ids_come_back_each_its_own() {
        // More ids than the recent ones' slots, some sharing a slot, in a
        // repeating order: each span keeps its own id.
        let mut ids: Vec<String> = (0..40u128).map(|i| format!("{:032x}", i << 64 | 7)).collect();
        ids.extend(["req-1", "é", "a longer client id, 40 bytes or so…"].map(String::from));
        let spans: Vec<Span> = (0..300u64)
            .map(|i| span(&ids[(i as usize * 7) % ids.len()], i + 1, None, 1_000 + i))
            .collect();
        assert_eq!(roundtrip(&spans), spans);
    }

    #[test]
    fn spans_far_from_their_trace_time_are_late() {
        let trace = crate::ids::new_trace_id();
        let now = crate::now_ns();
        assert!(in_place(&trace, now));
        assert!(!in_place(&trace, now + 60_000_000_000), "a retry a minute later");
        assert!(!in_place("client-chosen", now));
        assert!(!in_place(&trace.to_uppercase(), now));
        let a = span(&trace, 1, None, now);
        let b = span(&trace, 2, Some(1), now + 3_600_000_000_000);
        let other = span("4bf92f3577b34da6a3ce929d0e0e4736", 3, None, now);
        let block = Block::of(&[&a, &b, &other, &b], 0);
        assert_eq!(block.min_trace, Some(trace.as_str()));
        assert_eq!(block.max_trace, Some(trace.as_str()));
        assert_eq!(block.late, vec![trace.as_str(), "4bf92f3577b34da6a3ce929d0e0e4736"]);
        assert_eq!(block.roots, 2);
        assert!(block.bound_ns >= now);
    }

    #[test]
    fn a_repeated_trace_id_is_in_the_range_once_one_of_its_spans_is_near() {
        // Consecutive spans of one trace skip the range's comparisons; a
        // late span first must not make the near one after it skip too.
        let late_first = crate::ids::new_trace_id();
        let other = crate::ids::new_trace_id();
        let now = crate::now_ns();
        let near_other = span(&other, 9, None, now);
        let late = span(&late_first, 1, None, now + 3_600_000_000_000);
        let near = span(&late_first, 2, Some(1), now);
        let block = Block::of(&[&near_other, &late, &near, &near], 0);
        let (lo, hi) = (late_first.as_str().min(&other), late_first.as_str().max(&other));
        assert_eq!((block.min_trace, block.max_trace), (Some(lo), Some(hi)));
        assert_eq!(block.late, vec![late_first.as_str()]);
    }

    #[test]
    fn prefixes_order_trace_ids_as_their_texts_do() {
        let ids = [
            "0193a0000000aaaaaaaaaaaaaaaaaaaa",
            "0193a0000000aaaaaaaaaaaaaaaaaaab",
            "0193a0000001aaaaaaaaaaaaaaaaaaaa",
            "0193a000000",
            "ffffffffffffffffffffffffffffffff",
            "",
        ];
        for a in ids {
            for b in ids {
                let (ka, kb) = ((prefix(a), a), (prefix(b), b));
                assert_eq!(ka.cmp(&kb), a.cmp(b), "{a} vs {b}");
                assert_eq!(same_id(a, b), a == b, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let spans = [span("t", 1, Some(2), 5)];
        let refs: Vec<&Span> = spans.iter().collect();
        let mut out = Vec::new();
        encode(&refs, &mut out);
        for cut in 0..out.len() {
            assert!(decode(&out[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = out.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        for i in 0..out.len() {
            for b in [0u8, 0x7f, 0x80, 0xff] {
                let mut bad = out.clone();
                bad[i] = b;
                let _ = decode(&bad);
            }
        }
        assert_eq!(decode(&[2]), Err(BadBlock("unknown version")));
    }
}
