//! Requests a web page of another origin sent to the engine's own APIs.
//!
//! The admin and telemetry APIs need no key from loopback, so that the CLI
//! works without one. A page open in the developer's browser is on
//! loopback too: without this check, any site could publish events or
//! purge dead letters on a `rohas dev` server with a form post or a
//! `fetch` (a "simple" request needs no preflight), and read the telemetry
//! if CORS let it. Browsers name the page's origin in `Origin` on such
//! requests; the CLI and curl send none. So a request whose `Origin` is
//! not the server's own address is refused, key or no key, and these APIs
//! never carry CORS headers.

use axum::http::{header, HeaderMap};

/// The `Origin` of a request from another origin than `Host`: what to name
/// in the refusal. `None` for a request without `Origin` (the CLI, curl)
/// or from a page the engine served itself.
pub(crate) fn foreign(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?;
    let text = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = text.strip_prefix("http://").or_else(|| text.strip_prefix("https://"));
    match (authority, host) {
        (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => None,
        _ => Some(text),
    }
}

/// Whether the request names the server by a loopback name (`Host:
/// 127.0.0.1:3000`, `localhost`, `[::1]`), or names nothing (HTTP/1.0).
pub(crate) fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for host in [
            "127.0.0.1:3000",
            "localhost",
            "LOCALHOST:8080",
            "[::1]:3000",
            "127.0.0.2",
            "app.localhost:3000",
        ] {
            assert!(loopback_host(&headers(None, host)), "{host}");
        }
        for host in [
            "evil.example:3000",
            "192.168.1.5:3000",
            "[fe80::1]:3000",
            "localhost.evil.example",
        ] {
            assert!(!loopback_host(&headers(None, host)), "{host}");
        }
        assert!(loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn only_another_origin_is_foreign() {
        assert_eq!(foreign(&headers(None, "127.0.0.1:3000")), None);
        assert_eq!(foreign(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000")), None);
        assert_eq!(foreign(&headers(Some("http://LOCALHOST:3000"), "localhost:3000")), None);
        for other in ["http://evil.example", "http://127.0.0.1:3001", "null", "file://"] {
            assert_eq!(
                foreign(&headers(Some(other), "127.0.0.1:3000")).as_deref(),
                Some(other),
                "{other}"
            );
        }
    }
}
