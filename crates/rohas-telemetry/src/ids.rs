//! Trace and span identities, and the W3C `traceparent` header that
//! carries them between processes (HTTP requests, event messages).
//!
//! A trace id stays a string: a client's `x-trace-id` is honoured as given
//! (any short printable value), so not every trace id is 32 hex digits.
//! Where the W3C form is needed (a `traceparent` answer, OTLP export) a
//! non-hex id is hashed to 16 bytes, the same way every time.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One span's id: 8 bytes, never zero (W3C reserves zero for "none").
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(u64);

impl SpanId {
    /// A new id, unique in this process and unlikely to collide across
    /// processes (a per-process random seed mixed with a counter; no
    /// system call per id).
    pub fn random() -> SpanId {
        let (seed, _) = seeds();
        let n = next();
        let id = mix(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        SpanId(if id == 0 { 1 } else { id })
    }

    pub fn from_u64(v: u64) -> Option<SpanId> {
        (v != 0).then_some(SpanId(v))
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }

    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// 16 lowercase hex digits, not all zero.
    pub fn parse(s: &str) -> Option<SpanId> {
        let digits: &[u8; 16] = s.as_bytes().try_into().ok()?;
        lower_hex_value(digits).and_then(SpanId::from_u64)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only ASCII hex digits.
        f.write_str(std::str::from_utf8(&hex16(self.0)).unwrap_or_default())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl Serialize for SpanId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SpanId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SpanId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a span id (16 hex digits)")))
    }
}

/// A new trace id: 32 lowercase hex digits, the first 12 the time in
/// milliseconds, the other 20 random (as a UUIDv7 is laid out). Ids made
/// one after another sort one after another, so the store's index of trace
/// ids grows at its end instead of at random pages: a random id dirties a
/// page of the index per span, which measured as most of telemetry's cost.
pub fn new_trace_id() -> String {
    new_trace_id_at(crate::now_ns())
}

/// [`new_trace_id`] for a trace that begins at `now_ns` (a span's start
/// already read from the clock: a request reads it once for both).
pub fn new_trace_id_at(now_ns: u64) -> String {
    let (high, low) = seeds();
    let n = next();
    let millis = (now_ns / 1_000_000) & 0xffff_ffff_ffff;
    let random = (u128::from(mix(high ^ n)) << 64 | u128::from(mix(low.wrapping_add(n)))) & ((1u128 << 80) - 1);
    hex32_string((u128::from(millis) << 80) | random)
}

/// The 16 bytes a trace id stands for in W3C form: its own digits when it
/// is 32 hex digits (not all zero), else a hash of it.
pub fn trace_id_bytes(trace_id: &str) -> [u8; 16] {
    if trace_id.len() == 32 && is_lower_hex(trace_id) {
        if let Ok(v) = u128::from_str_radix(trace_id, 16) {
            if v != 0 {
                return v.to_be_bytes();
            }
        }
    }
    // FNV-1a over the bytes, spread to 128 bits: stable across processes
    // and versions (a std hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in trace_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let high = mix(h);
    let low = mix(h ^ 0x5851_f42d_4c95_7f2d) | 1;
    ((u128::from(high) << 64) | u128::from(low)).to_be_bytes()
}

/// A W3C trace id as 32 hex digits (see [`trace_id_bytes`]).
pub fn w3c_trace_id(trace_id: &str) -> String {
    if is_w3c(trace_id) {
        return trace_id.to_string();
    }
    hex32_string(u128::from_be_bytes(trace_id_bytes(trace_id)))
}

/// 32 lowercase hex digits, not all zero.
fn is_w3c(trace_id: &str) -> bool {
    trace_id.len() == 32 && is_lower_hex(trace_id) && trace_id.bytes().fold(false, |any, c| any | (c != b'0'))
}

/// `v` as 32 lowercase hex digits, in a `String`.
fn hex32_string(v: u128) -> String {
    // Only ASCII hex digits were written.
    String::from_utf8(hex32(v).to_vec()).unwrap_or_default()
}

/// `v` as 32 lowercase hex digits.
fn hex32(v: u128) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&hex16((v >> 64) as u64));
    out[16..].copy_from_slice(&hex16(v as u64));
    out
}

/// `v` as 16 lowercase hex digits, eight at a time in a register (a
/// table lookup per digit was most of writing a `traceparent`).
fn hex16(v: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&hex8((v >> 32) as u32));
    out[8..].copy_from_slice(&hex8(v as u32));
    out
}

/// `v` as 8 lowercase hex digits: each nibble spread into its own byte,
/// then `'0'` added, and `'a' - '0' - 10` more where the nibble is ten
/// or over.
fn hex8(v: u32) -> [u8; 8] {
    let mut x = u64::from(v);
    x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    x = (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (x + 0x3030_3030_3030_3030 + letters * 39).to_be_bytes()
}

/// The parsed `traceparent` header: `00-<trace id>-<parent span>-<flags>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lowercase hex digits, not all zero.
    pub trace_id: String,
    pub parent: SpanId,
    pub sampled: bool,
}

impl TraceParent {
    /// Parses a header as the W3C Trace Context spec asks: version `00`
    /// exactly 55 characters; a higher version at least that, its first
    /// four fields read; `ff`, uppercase hex, zero ids or any other shape
    /// refused. A refused header is ignored (a new trace starts), never
    /// an error for the caller.
    pub fn parse(header: &str) -> Option<TraceParent> {
        let (trace_id, parent, sampled) = TraceParent::read(header)?;
        Some(TraceParent {
            trace_id: trace_id.to_string(),
            parent,
            sampled,
        })
    }

    /// The parent span a header names, checked as [`TraceParent::parse`]
    /// checks it, without copying its trace id (an event delivery needs
    /// only the parent: its message carries the trace id).
    pub fn parent_in(header: &str) -> Option<SpanId> {
        TraceParent::read(header).map(|(_, parent, _)| parent)
    }

    /// The header's trace id, parent and sampled flag, if it is one.
    fn read(header: &str) -> Option<(&str, SpanId, bool)> {
        let header = header.trim();
        if header.len() < 55 || !header.is_ascii() {
            return None;
        }
        let version = &header[0..2];
        if !is_lower_hex(version) || version == "ff" {
            return None;
        }
        if version == "00" && header.len() != 55 {
            return None;
        }
        if header.len() > 55 && header.as_bytes()[55] != b'-' {
            return None;
        }
        let bytes = header.as_bytes();
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let trace_id = &header[3..35];
        let parent = &header[36..52];
        let flags: &[u8; 2] = bytes[53..55].try_into().ok()?;
        if !is_w3c(trace_id) {
            return None;
        }
        let parent = SpanId::parse(parent)?;
        let flags = lower_hex_value(flags)?;
        Some((trace_id, parent, flags & 1 == 1))
    }

    /// The header value for a span of `trace_id`, as text (an event
    /// message's `traceparent`).
    pub fn format(trace_id: &str, span: SpanId, sampled: bool) -> String {
        let out = TraceParent::encode(trace_id, span, sampled);
        // Only ASCII was written.
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    /// The header value's 55 ASCII bytes, in a fixed buffer: what an HTTP
    /// answer's header is made from without a `String` or a UTF-8 check
    /// (it answers every request; callgrind counted 771 instructions per
    /// request for the `String` way, 276 for this). Only hex digits and
    /// `-` are written, whatever `trace_id` holds: the engine makes the
    /// header value from them without checking each byte again.
    pub fn encode(trace_id: &str, span: SpanId, sampled: bool) -> [u8; 55] {
        let mut out = [0u8; 55];
        out[..3].copy_from_slice(b"00-");
        if is_w3c(trace_id) {
            out[3..35].copy_from_slice(trace_id.as_bytes());
        } else {
            out[3..35].copy_from_slice(&hex32(u128::from_be_bytes(trace_id_bytes(trace_id))));
        }
        out[35] = b'-';
        out[36..52].copy_from_slice(&hex16(span.0));
        out[52..].copy_from_slice(if sampled { b"-01" } else { b"-00" });
        out
    }
}

/// The value of up to 16 digits `0-9a-f`, or `None` for any other byte.
/// Eight digits at a time ([`eight_hex`]): the writer reads a trace id's
/// time this way for every request, and a loop over the digits (a
/// compare, a select and a shift each) was a twentieth of what telemetry
/// cost a Rust `/health`.
pub(crate) fn lower_hex_value<const N: usize>(digits: &[u8; N]) -> Option<u64> {
    const { assert!(N <= 16) };
    // Right-aligned among '0's, which add nothing to the value. (`N` is
    // known where this is inlined: the copy is a move or two, not a call.)
    let mut padded = [b'0'; 16];
    padded[16 - N..].copy_from_slice(digits);
    let (high, low) = padded.split_at(8);
    let word = |half: &[u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(half);
        u64::from_le_bytes(word)
    };
    let high = eight_hex(word(high))?;
    let low = eight_hex(word(low))?;
    Some(u64::from(high) << 32 | u64::from(low))
}

/// Eight characters (the first in the lowest byte) read as hex digits
/// `0-9a-f`, all at once (SWAR), or `None` if any is another byte.
fn eight_hex(x: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // Below 0x80 every byte may have up to 0x80 added without carrying
    // into the next; a byte from 0x80 up is no digit anyway.
    let ascii = x & HIGH == 0;
    // Each byte's top bit: the byte is `c` or more.
    let at_least = |c: u8| x.wrapping_add(ONES * u64::from(0x80 - c));
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    let ok = ascii && (digit | letter) & HIGH == HIGH;
    // `0-9` are 0x30-0x39 and `a-f` 0x61-0x66: the low four bits, plus 9
    // where bit 6 (a letter's) is set.
    let nibbles = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
    // The first character is the most significant digit: reverse the
    // bytes, then pack pairs of nibbles, pairs of bytes, pairs of halves.
    let v = nibbles.swap_bytes();
    let v = (v | v >> 4) & 0x00ff_00ff_00ff_00ff;
    let v = (v | v >> 8) & 0x0000_ffff_0000_ffff;
    let v = (v | v >> 16) & 0xffff_ffff;
    ok.then_some(v as u32)
}

/// Only `0-9a-f`. Branch-free over the bytes: it runs for every
/// `traceparent` written and every trace id a span block holds.
pub(crate) fn is_lower_hex(s: &str) -> bool {
    s.bytes().fold(true, |ok, c| {
        ok & ((c.wrapping_sub(b'0') < 10) | (c.wrapping_sub(b'a') < 6))
    })
}

fn seeds() -> (u64, u64) {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::OnceLock;
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    *SEED.get_or_init(|| {
        // RandomState is seeded from the OS once per process.
        let state = std::collections::hash_map::RandomState::new();
        let mut a = state.build_hasher();
        a.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let mut b = state.build_hasher();
        b.write_u32(std::process::id());
        (a.finish(), b.finish())
    })
}

/// A number no other call in this process gets: each thread counts
/// through its own range of 2^40, taken once from a shared counter.
/// (One shared counter cost every span an atomic add on a cache line
/// that the serving threads passed back and forth between cores.)
fn next() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    const RANGE: u64 = 1 << 40;
    static RANGES: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static NEXT: Cell<u64> = const { Cell::new(0) };
    }
    NEXT.with(|next| {
        let mut n = next.get();
        // 0 (the start, or a range used up) takes a new range; a range
        // starts at 1 so that 0 never stands for a number in use.
        if n % RANGE == 0 {
            n = RANGES.fetch_add(RANGE, Ordering::Relaxed) + 1;
        }
        next.set(n + 1);
        n
    })
}

/// splitmix64's finaliser: consecutive inputs give unrelated outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_traceparent_is_hex_and_dashes_whatever_the_trace_id() {
        let span = SpanId::from_u64(0xfeed).unwrap();
        for trace_id in [
            "0af7651916cd43dd8448eb211c80319c",
            "client's id: é\r\n",
            "",
            "00000000000000000000000000000000",
        ] {
            let out = TraceParent::encode(trace_id, span, true);
            assert!(
                out.iter()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase() || *c == b'-'),
                "{trace_id:?}"
            );
            assert!(
                TraceParent::parse(std::str::from_utf8(&out).unwrap()).is_some(),
                "{trace_id:?}"
            );
        }
    }

    #[test]
    fn span_ids_made_on_many_threads_at_once_are_all_different() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..20_000).map(|_| SpanId::random().as_u64()).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let made = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), made);
        assert!(!all.contains(&0));
    }

    /// `text` after as many '0's as make sixteen digits.
    fn sixteen(text: &[u8]) -> [u8; 16] {
        let mut out = [b'0'; 16];
        out[16 - text.len()..].copy_from_slice(text);
        out
    }

    #[test]
    fn hex_values_are_read_as_from_str_radix_reads_lowercase() {
        for v in [0u64, 1, 0xa, 0xf0, 0xdead_beef, u64::MAX, 0x0123_4567_89ab_cdef] {
            let text = format!("{v:016x}");
            assert_eq!(lower_hex_value(&sixteen(text.as_bytes())), Some(v), "{text}");
        }
        assert_eq!(lower_hex_value(b""), Some(0));
        assert_eq!(lower_hex_value(b"0a"), Some(10));
        assert_eq!(lower_hex_value(b"019aef012345"), Some(0x019a_ef01_2345));
        // Every length, every digit at every place.
        for len in 1..=16 {
            for d in "0123456789abcdef".chars() {
                for at in 0..len {
                    let mut text = vec![b'7'; len];
                    text[at] = d as u8;
                    let want = u64::from_str_radix(std::str::from_utf8(&text).unwrap(), 16).ok();
                    assert_eq!(
                        lower_hex_value(&sixteen(&text)),
                        want,
                        "{}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
        // Every byte that is not `0-9a-f`, at the first and last place.
        for c in (0..=255u8).filter(|c| !c.is_ascii_digit() && !(b'a'..=b'f').contains(c)) {
            assert_eq!(lower_hex_value(&[c, b'1']), None, "byte {c}");
            assert_eq!(lower_hex_value(&[b'1', c]), None, "byte {c}");
            assert_eq!(lower_hex_value(&[b'1', b'2', b'3', c, b'4']), None, "byte {c}");
            let mut long = *b"0123456789abcdef";
            long[9] = c;
            assert_eq!(lower_hex_value(&long), None, "byte {c} among sixteen");
        }
    }

    #[test]
    fn hex_digits_are_those_of_the_formatter() {
        for v in [
            0,
            1,
            9,
            10,
            15,
            16,
            0xdead_beef,
            u64::MAX,
            0x0123_4567_89ab_cdef,
            0xa0a0_9f9f_0a0a_f9f9,
        ] {
            assert_eq!(std::str::from_utf8(&hex16(v)).unwrap(), format!("{v:016x}"));
            let wide = u128::from(v) << 64 | u128::from(!v);
            assert_eq!(std::str::from_utf8(&hex32(wide)).unwrap(), format!("{wide:032x}"));
        }
        let id = new_trace_id_at(1_800_000_000_000_000_000);
        assert_eq!(id.len(), 32);
        assert!(is_lower_hex(&id));
        assert_eq!(&id[..12], &format!("{:012x}", 1_800_000_000_000u64));
    }

    #[test]
    fn a_valid_traceparent_is_read() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.parent.to_string(), "00f067aa0ba902b7");
        assert!(tp.sampled);
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(TraceParent::parent_in(header), Some(tp.parent));
    }

    #[test]
    fn hostile_or_malformed_traceparents_are_refused() {
        for bad in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{e9}",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
            assert_eq!(TraceParent::parent_in(bad), None, "{bad:?}");
        }
        let long = format!("00-{}-00f067aa0ba902b7-01", "a".repeat(10_000));
        assert_eq!(TraceParent::parse(&long), None);
    }

    #[test]
    fn a_future_version_is_read_by_its_first_fields() {
        let tp = TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes").unwrap();
        assert!(!tp.sampled);
    }

    #[test]
    fn formatting_round_trips_and_hashes_non_hex_ids() {
        let span = SpanId::random();
        let header = TraceParent::format("4bf92f3577b34da6a3ce929d0e0e4736", span, true);
        let back = TraceParent::parse(&header).unwrap();
        assert_eq!(back.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(back.parent, span);
        let hashed = TraceParent::format("req-7f3a", span, true);
        let back = TraceParent::parse(&hashed).unwrap();
        assert_eq!(back.trace_id, w3c_trace_id("req-7f3a"));
        assert_eq!(w3c_trace_id("req-7f3a"), w3c_trace_id("req-7f3a"));
        assert_ne!(w3c_trace_id("req-7f3a"), w3c_trace_id("req-7f3b"));
    }

    #[test]
    fn ids_are_distinct_and_well_formed() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_eq!(a.len(), 32);
        assert!(is_lower_hex(&a));
        assert_ne!(a, b);
        let later = {
            std::thread::sleep(std::time::Duration::from_millis(2));
            new_trace_id()
        };
        assert!(later > a, "ids sort by time: {a} then {later}");
        let s = SpanId::random();
        assert_eq!(SpanId::parse(&s.to_string()), Some(s));
        assert_ne!(SpanId::random(), SpanId::random());
    }
}
