//! The receiver's address, read once from `otlp_endpoint` with errors
//! that say what to write instead.

use super::{OtlpError, OtlpProtocol};

/// Where requests go: a host and port to connect to and the request paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` as written (the `Host` header and HTTP/2 `:authority`).
    pub authority: String,
    /// The host to connect to, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// A path prefix before `/v1/traces` (HTTP only), without a trailing `/`.
    pub prefix: String,
}

/// The two signals sent, each with its own path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
}

impl Endpoint {
    pub fn parse(endpoint: &str, protocol: OtlpProtocol) -> Result<Endpoint, OtlpError> {
        let written = endpoint.trim();
        // What errors repeat: never a password written into the URL.
        let shown = rohas_config::without_credentials(written);
        let bad = |reason: &str| OtlpError::BadEndpoint {
            endpoint: shown.clone(),
            reason: reason.to_string(),
        };
        if written.is_empty() {
            return Err(bad("it is empty"));
        }
        let uri: http::Uri = written
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(OtlpError::Https(shown.clone())),
            Some(other) => {
                return Err(OtlpError::Scheme {
                    endpoint: shown.clone(),
                    scheme: other.to_string(),
                })
            }
            None => return Err(bad("it has no `http://` in front")),
        }
        let authority = uri.authority().ok_or_else(|| bad("it has no host"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        if authority.as_str().contains('@') {
            return Err(bad("user names and passwords go in otlp_headers, not in the URL"));
        }
        if uri.query().is_some() {
            return Err(bad("a query (`?…`) is not allowed"));
        }
        let mut prefix = uri.path().trim_end_matches('/').to_string();
        // The per-signal form (`…/v1/traces`) is the same receiver: accept it.
        for signal_path in ["/v1/traces", "/v1/logs"] {
            if let Some(base) = prefix.strip_suffix(signal_path) {
                prefix = base.to_string();
            }
        }
        if protocol == OtlpProtocol::Grpc && !prefix.is_empty() {
            return Err(bad(
                "a gRPC endpoint takes no path; write only `http://host:port` (usually port 4317)",
            ));
        }
        Ok(Endpoint {
            authority: authority.as_str().to_string(),
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            prefix,
        })
    }

    /// The request path for a signal.
    pub fn path(&self, protocol: OtlpProtocol, signal: Signal) -> String {
        match (protocol, signal) {
            (OtlpProtocol::Http, Signal::Traces) => format!("{}/v1/traces", self.prefix),
            (OtlpProtocol::Http, Signal::Logs) => format!("{}/v1/logs", self.prefix),
            (OtlpProtocol::Grpc, Signal::Traces) => {
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export".into()
            }
            (OtlpProtocol::Grpc, Signal::Logs) => "/opentelemetry.proto.collector.logs.v1.LogsService/Export".into(),
        }
    }

    /// `http://authority` for messages.
    pub fn display(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(s: &str) -> Result<Endpoint, OtlpError> {
        Endpoint::parse(s, OtlpProtocol::Http)
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_repeating_it() {
        for written in [
            "http://user:hunter2-secret@collector:4318",
            "https://user:hunter2-secret@collector:4318/v1/traces",
            "ftp://user:hunter2-secret@collector",
            "http://user:hunter2-secret@collector:4318/a b",
        ] {
            let message = http(written).unwrap_err().to_string();
            assert!(!message.contains("hunter2-secret"), "{message}");
            assert!(message.contains("***@collector"), "{message}");
        }
    }

    #[test]
    fn endpoints_are_read_with_their_port_and_prefix() {
        let e = http("http://localhost:4318").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.prefix.as_str()), ("localhost", 4318, ""));
        assert_eq!(e.path(OtlpProtocol::Http, Signal::Traces), "/v1/traces");
        let e = http("http://collector/otlp/").unwrap();
        assert_eq!(
            (e.port, e.path(OtlpProtocol::Http, Signal::Logs).as_str()),
            (80, "/otlp/v1/logs")
        );
        let e = http("http://[::1]:4318/v1/traces").unwrap();
        assert_eq!(
            (e.host.as_str(), e.authority.as_str(), e.prefix.as_str()),
            ("::1", "[::1]:4318", "")
        );
        let e = Endpoint::parse("http://127.0.0.1:4317", OtlpProtocol::Grpc).unwrap();
        assert_eq!(
            e.path(OtlpProtocol::Grpc, Signal::Traces),
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        );
    }

    #[test]
    fn bad_endpoints_say_what_to_write() {
        let said = |s: &str, p| Endpoint::parse(s, p).unwrap_err().to_string();
        assert!(said("https://api.example.com", OtlpProtocol::Http).contains("no TLS"));
        assert!(said("localhost:4318", OtlpProtocol::Http).contains("http://"));
        assert!(said("grpc://x:4317", OtlpProtocol::Grpc).contains("only `http://`"));
        assert!(said("", OtlpProtocol::Http).contains("empty"));
        assert!(said("http://a b", OtlpProtocol::Http).contains("not a valid URL"));
        assert!(said("http://x:4318/?a=b", OtlpProtocol::Http).contains("query"));
        assert!(said("http://u:p@x:4318", OtlpProtocol::Http).contains("otlp_headers"));
        assert!(said("http://x:4317/otlp", OtlpProtocol::Grpc).contains("no path"));
        assert!("http/json"
            .parse::<OtlpProtocol>()
            .unwrap_err()
            .to_string()
            .contains("\"grpc\""));
    }
}
