//! The admin and telemetry APIs seen from another machine: a client in a
//! network namespace the test creates, joined to the engine's address by a
//! veth pair, so the engine sees a real non-loopback peer (not a reading
//! of the code, and not a second loopback address).
//!
//! Needs root and `ip netns` (iproute2); without them the test says why it
//! skips. The namespace and the link are removed however the test ends.

use crate::support::{fixture, serve_with, FakeRuntime, Options, Served};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;

const KEY: &str = "s3cret-workbench-key";

/// A network namespace with one veth link to this one: the engine's side
/// is `host`, the namespace's side `peer`.
struct Namespace {
    name: String,
    host_link: String,
    host: Ipv4Addr,
}

impl Namespace {
    /// Set it up, or say why not.
    fn create() -> Result<Namespace, String> {
        let pid = std::process::id();
        let (a, b) = (((pid >> 6) & 0xff) as u8, ((pid & 0x3f) * 4) as u8);
        let ns = Namespace {
            name: format!("rohas-test-{pid}"),
            host_link: format!("rh{}", pid % 1_000_000),
            host: Ipv4Addr::new(198, 19, a, b + 1),
        };
        let peer_link = format!("{}p", ns.host_link);
        let peer = Ipv4Addr::new(198, 19, a, b + 2);
        ip(&["netns", "add", &ns.name])?;
        // From here on, dropping `ns` removes what was made.
        ip(&["link", "add", &ns.host_link, "type", "veth", "peer", "name", &peer_link])?;
        ip(&["link", "set", &peer_link, "netns", &ns.name])?;
        ip(&["addr", "add", &format!("{}/30", ns.host), "dev", &ns.host_link])?;
        ip(&["link", "set", &ns.host_link, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &ns.name, "ip"];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&["addr", "add", &format!("{peer}/30"), "dev", &peer_link])?;
        inside(&["link", "set", &peer_link, "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// `curl` inside the namespace: status and body.
    async fn request(&self, method: &str, url: &str, bearer: Option<&str>) -> (u16, String) {
        let mut args: Vec<String> = ["netns", "exec", &self.name, "curl", "-sS", "-m", "10", "-X", method]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(key) = bearer {
            args.push("-H".into());
            args.push(format!("authorization: Bearer {key}"));
        }
        if method == "POST" {
            args.extend([
                "-H".into(),
                "content-type: application/json".into(),
                "-d".into(),
                "{}".into(),
            ]);
        }
        args.extend(["-w".into(), "\n%{http_code}".into(), url.to_string()]);
        // The engine runs on this test's thread: wait for curl elsewhere.
        let out = tokio::task::spawn_blocking(move || Command::new("ip").args(&args).output())
            .await
            .expect("the curl thread")
            .expect("running ip netns exec curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        let status = status
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("curl {url}: {text} {}", String::from_utf8_lossy(&out.stderr)));
        (status, body.to_string())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_link]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("running `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

async fn serve_on(host: Ipv4Addr, key: Option<&str>, metrics_public: bool) -> Served {
    let fake = FakeRuntime::new();
    fake.answer("api:Ping", json!("pong"));
    let mut options = Options {
        bind: IpAddr::V4(host),
        ..Options::default()
    };
    options.config.workbench.api_key = key.map(rohas_config::Secret::from);
    options.config.telemetry.metrics_public = metrics_public;
    serve_with(&fixture("bodies.ro"), &fake, options).await
}

#[tokio::test]
async fn from_another_network_the_admin_and_telemetry_apis_need_the_key() {
    let ns = match Namespace::create() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: cannot create a network namespace (needs root and iproute2): {why}");
            return;
        }
    };
    let app = serve_on(ns.host, Some(KEY), false).await;
    let at = |path: &str| format!("{}{path}", app.url);

    // The application itself answers everyone.
    assert_eq!(ns.request("POST", &at("/ping"), None).await.0, 200);

    for (method, path) in [
        ("GET", "/_rohas/queues"),
        ("GET", "/_rohas/dead-letters"),
        ("POST", "/_rohas/dead-letters/purge"),
        ("POST", "/_rohas/events/Anything"),
        ("GET", "/telemetry/traces"),
        ("GET", "/telemetry/logs"),
        ("GET", "/metrics"),
    ] {
        let (status, body) = ns.request(method, &at(path), None).await;
        assert_eq!(status, 401, "{method} {path} without a key: {body}");
        assert!(
            body.contains("api_key"),
            "{method} {path}: the refusal says what to send: {body}"
        );
        assert!(
            !body.contains(KEY),
            "{method} {path}: the refusal shows the key: {body}"
        );
        let (status, body) = ns.request(method, &at(path), Some("not-the-key")).await;
        assert_eq!(status, 401, "{method} {path} with a wrong key: {body}");
        assert!(!body.contains(KEY), "{method} {path}: {body}");
    }
    // With the key it is let in.
    assert_eq!(ns.request("GET", &at("/_rohas/queues"), Some(KEY)).await.0, 200);
    assert_eq!(ns.request("GET", &at("/metrics"), Some(KEY)).await.0, 200);
    app.stop().await.expect("the engine stops");

    // No key configured: closed to everyone but loopback.
    let app = serve_on(ns.host, None, false).await;
    let (status, body) = ns
        .request("GET", &format!("{}/_rohas/queues", app.url), Some(KEY))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("loopback clients only"), "{body}");
    app.stop().await.expect("the engine stops");

    // `metrics_public` opens `/metrics` alone.
    let app = serve_on(ns.host, Some(KEY), true).await;
    assert_eq!(ns.request("GET", &format!("{}/metrics", app.url), None).await.0, 200);
    assert_eq!(
        ns.request("GET", &format!("{}/_rohas/queues", app.url), None).await.0,
        401
    );
    app.stop().await.expect("the engine stops");
}
