//! JSON strings written straight into a buffer. Message texts (ids, event
//! names, trace context, sources) almost never need an escape, so the
//! check for one runs eight bytes at a time and a plain string is copied
//! as it is; serde_json looks at each byte through a table, which was a
//! tenth of writing a message's envelope.

/// Appends `s` as a JSON string, exactly as serde_json writes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to memory cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Whether `s` needs no escape: no control character, quote or backslash
/// (the only bytes serde_json escapes).
fn plain(s: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `w` is below `n` (n ≤ 128): exact for the
    // question "any?", which is all that is asked.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH != 0;
    let zero = |w: u64| below(w, 1);
    let mut words = s.as_bytes().chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        if below(w, 0x20) || zero(w ^ (ONES * u64::from(b'"'))) || zero(w ^ (ONES * u64::from(b'\\'))) {
            return false;
        }
    }
    words.remainder().iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte that serde_json escapes, and its neighbours, at every
    /// position of strings of every length around a word, is written as
    /// serde_json writes it.
    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut cases: Vec<String> = vec![String::new(), "é".into(), "ü\u{7f}€".repeat(5)];
        for len in 0..20 {
            for at in 0..len {
                for special in [
                    0x00u8, 0x01, 0x1f, 0x20, 0x21, b'"', b'\\', b'#', b'[', b']', 0x5d, 0x7f,
                ] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    cases.push(String::from_utf8(bytes).unwrap());
                }
            }
        }
        for s in &cases {
            let mut ours = Vec::new();
            write_str(&mut ours, s);
            assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }
}
