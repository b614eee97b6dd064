//! The publish time of an event as the engine writes it
//! (`2026-12-06T21:20:00.123Z`), read without a general RFC 3339 parser.
//!
//! Every event a handler receives carries it, and chrono's parser took a
//! tenth of a small Rust event handler's work. The generated event types
//! read `timestamp` through [`engine_timestamp`] and fall back to chrono
//! for any other shape, so nothing is refused that was taken before.

/// Seconds since the Unix epoch and nanoseconds for exactly
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`; `None` for anything else (another shape, a
/// date that does not exist), which the caller reads the general way.
pub fn engine_timestamp(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second, milli) = (
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 23)?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    Some((seconds, (milli * 1_000_000) as u32))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (the well-known "days from civil" count over 400-year eras).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_own_shape_is_read_to_the_millisecond() {
        assert_eq!(engine_timestamp("1970-01-01T00:00:00.000Z"), Some((0, 0)));
        assert_eq!(
            engine_timestamp("2024-12-06T15:46:40.123Z"),
            Some((1_733_500_000, 123_000_000))
        );
        assert_eq!(
            engine_timestamp("2024-02-29T23:59:59.999Z"),
            Some((1_709_251_199, 999_000_000))
        );
        assert_eq!(
            engine_timestamp("2000-03-01T00:00:00.000Z"),
            Some((951_868_800, 0))
        );
        assert_eq!(engine_timestamp("1969-12-31T23:59:59.000Z"), Some((-1, 0)));
    }

    #[test]
    fn any_other_shape_is_left_to_the_general_parser() {
        for other in [
            "2024-12-06T15:46:40Z",
            "2024-12-06T15:46:40.123+00:00",
            "2024-12-06T15:46:40.123456Z",
            "2024-12-06 15:46:40.123Z",
            "2023-02-29T00:00:00.000Z",
            "2024-13-01T00:00:00.000Z",
            "2024-12-06T24:00:00.000Z",
            "2024-12-06T15:46:60.000Z",
            "2024-12-0xT15:46:40.123Z",
            "",
        ] {
            assert_eq!(engine_timestamp(other), None, "{other}");
        }
    }
}
