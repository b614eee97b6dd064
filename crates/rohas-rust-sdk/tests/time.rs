//! The event `timestamp` reader of the project's runtime crate
//! (`rohas_runtime::time`) against chrono, which generated event types
//! fall back to: for every time the engine can write, both read the same
//! instant.

use rohas_rust_sdk::time::engine_timestamp;

#[test]
fn the_fast_reader_agrees_with_chrono_across_five_centuries() {
    // A step that is not a whole number of days or seconds, so the sweep
    // meets every month, leap days and every millisecond digit.
    let step = 86_400_000 * 3 + 3_600_000 * 7 + 60_000 * 13 + 1_000 * 17 + 389;
    let mut millis: i64 = chrono::DateTime::parse_from_rfc3339("1800-01-01T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let end = chrono::DateTime::parse_from_rfc3339("2300-01-01T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let mut checked = 0;
    while millis < end {
        let time = chrono::DateTime::from_timestamp_millis(millis).unwrap();
        let text = time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        assert_eq!(
            engine_timestamp(&text),
            Some((time.timestamp(), time.timestamp_subsec_nanos())),
            "{text}"
        );
        millis += step;
        checked += 1;
    }
    assert!(checked > 50_000, "{checked}");
}
