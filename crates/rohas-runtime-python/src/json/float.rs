//! A float as Python's `repr` writes it, which is what `json` writes: the
//! shortest digits that read back as the same float, laid out the way
//! CPython's `float_repr_style = 'short'` lays them out (`0.1`, `1e+16`,
//! `1.5e-07`, `100.0`, `-0.0`). The digits come from `zmij` (the shortest
//! round-trip digits, which `serde_json` already uses); only the layout is
//! ours, read from whatever layout `zmij` chose so that a change there
//! cannot change ours.

/// Append `value` (finite) as `float.__repr__` would.
pub(crate) fn write_repr(out: &mut Vec<u8>, value: f64) {
    debug_assert!(value.is_finite());
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(value).as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // `text` is `digits[.digits][e±exp]`: collect the significant digits
    // and where the decimal point falls among them (`decpt`, as CPython
    // names it: the value is 0.DIGITS × 10^decpt).
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&text[..at], parse_exponent(&text[at + 1..])),
        None => (text, 0),
    };
    let mut digits = [0u8; 32];
    let mut count = 0usize;
    let mut point = None;
    for &b in mantissa {
        if b == b'.' {
            point = Some(count);
        } else if count < digits.len() {
            digits[count] = b;
            count += 1;
        }
    }
    let mut decpt = point.unwrap_or(count) as i32 + exponent;
    // Leading zeros (`0.001`) move the point; trailing ones (`100.0`) are
    // not significant.
    let leading = digits[..count].iter().take_while(|&&d| d == b'0').count();
    let digits = if leading == count {
        decpt = 1;
        &b"0"[..]
    } else {
        decpt -= leading as i32;
        let end = count - digits[..count].iter().rev().take_while(|&&d| d == b'0').count();
        &digits[leading..end]
    };
    if negative {
        out.push(b'-');
    }
    lay_out(out, digits, decpt);
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (sign, text) = match text.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, text),
    };
    sign * text.iter().fold(0i32, |n, &d| n * 10 + i32::from(d - b'0'))
}

/// CPython's `format_float_short` for `repr`: positional notation when
/// `-4 < decpt <= 16`, else `d.ddde±XX` with at least two exponent digits;
/// a whole number gets `.0`.
fn lay_out(out: &mut Vec<u8>, digits: &[u8], decpt: i32) {
    let n = digits.len() as i32;
    if decpt <= -4 || decpt > 16 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let exponent = decpt - 1;
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let exponent = exponent.unsigned_abs();
        if exponent < 10 {
            out.push(b'0');
        }
        let mut text = itoa::Buffer::new();
        out.extend_from_slice(text.format(exponent).as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits);
    } else if decpt < n {
        out.extend_from_slice(&digits[..decpt as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[decpt as usize..]);
    } else {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (decpt - n) as usize));
        out.extend_from_slice(b".0");
    }
}

#[cfg(test)]
mod tests {
    use super::write_repr;

    fn repr(value: f64) -> String {
        let mut out = Vec::new();
        write_repr(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_read_as_python_writes_them() {
        for (value, text) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (1.5, "1.5"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (1e100, "1e+100"),
            (9007199254740993.0, "9007199254740992.0"),
            (0.30000000000000004, "0.30000000000000004"),
        ] {
            assert_eq!(repr(value), text, "{value:?}");
        }
    }
}
