//! The flags `rohas traces` and `rohas logs` share, read as people write
//! them (`--since 10m`, `--slower-than 250ms`, `--level warn`), each
//! refusal naming what would have been accepted.

use rohas_telemetry::{Level, SpanKind};
use std::time::Duration;

/// `500ms`, `30s`, `10m`, `2h`, `1d`; a unit is required (`100` could be
/// anything).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let example = "use a number and a unit, e.g. 250ms, 30s, 10m, 2h or 1d";
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: {example}"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        "" => return Err(format!("`{text}` needs a unit: {example}")),
        other => return Err(format!("unknown unit `{other}` in `{text}`: {example}")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

/// `--since`: a duration back from now (`10m`) or a time (RFC 3339,
/// `2026-12-05T10:00:00Z`); nanoseconds since the Unix epoch.
pub fn parse_since(text: &str) -> Result<u64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return t
            .timestamp_nanos_opt()
            .map(|n| n.max(0) as u64)
            .ok_or_else(|| format!("`{text}` is out of range"));
    }
    let back = parse_duration(text).map_err(|_| {
        format!("`{text}` is neither a duration back from now nor a time: e.g. 10m, 2h, 1d or 2026-12-05T10:00:00Z")
    })?;
    let back = u64::try_from(back.as_nanos()).unwrap_or(u64::MAX);
    Ok(rohas_telemetry::now_ns().saturating_sub(back))
}

pub fn parse_level(text: &str) -> Result<Level, String> {
    Level::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        format!("unknown level `{text}`: use one of {}", known.join(", "))
    })
}

pub fn parse_kind(text: &str) -> Result<SpanKind, String> {
    SpanKind::parse(text).ok_or_else(|| {
        let known: Vec<&str> = SpanKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind `{text}`: use one of {}", known.join(", "))
    })
}

/// Nanoseconds as the Unix milliseconds the API's `since` takes.
pub fn unix_ms(ns: u64) -> String {
    (ns / 1_000_000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit_and_name_an_example() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("100")
            .unwrap_err()
            .contains("needs a unit: use a number and a unit, e.g. 250ms"));
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .contains("unknown unit `parsecs`"));
        assert!(parse_duration("soon").unwrap_err().contains("e.g. 250ms"));
    }

    #[test]
    fn since_takes_a_duration_or_a_time() {
        assert_eq!(parse_since("2026-12-05T10:00:00Z"), Ok(1_796_464_800_000_000_000));
        let ten_minutes_ago = parse_since("10m").unwrap();
        let now = rohas_telemetry::now_ns();
        assert!(now - ten_minutes_ago >= 600_000_000_000 && now - ten_minutes_ago < 660_000_000_000);
        assert!(parse_since("yesterday").unwrap_err().contains("e.g. 10m"));
    }

    #[test]
    fn unknown_levels_and_kinds_name_the_known_ones() {
        assert_eq!(parse_level("WARNING"), Ok(Level::Warn));
        assert_eq!(
            parse_level("loud").unwrap_err(),
            "unknown level `loud`: use one of trace, debug, info, warn, error"
        );
        assert_eq!(parse_kind("delivery"), Ok(SpanKind::Delivery));
        assert!(parse_kind("job")
            .unwrap_err()
            .contains("request, middleware, handler, delivery, publish, cron"));
    }
}
