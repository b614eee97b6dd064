//! Config loading against real fixture files.

use rohas_config::{load_file, ConfigError};
use std::path::Path;

fn fixture(name: &str) -> (std::path::PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    (path, text)
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn defaults_without_a_file() {
    let loaded = load_file(None, None, no_env()).unwrap();
    let c = loaded.config;
    assert_eq!(c.server.host, "127.0.0.1");
    assert_eq!(c.server.port, 3000);
    assert!(c.server.enable_cors);
    assert_eq!(c.server.max_body_bytes, 1_048_576);
    assert_eq!(c.runtime.timeouts.api, 30.0);
    assert_eq!(c.adapter.kind, "local", "the durable queue is the default");
    assert_eq!(c.adapter.sync, rohas_config::SyncMode::Batch);
    assert_eq!(c.events.concurrency, 256);
    assert_eq!(c.telemetry.path, ".rohas/telemetry");
    assert_eq!(c.telemetry.retention_days, 30);
    assert!(loaded.warnings.is_empty());
}

#[test]
fn full_file_is_read() {
    let (path, text) = fixture("full.toml");
    let loaded = load_file(Some(&path), Some(&text), no_env()).unwrap();
    let c = loaded.config;
    assert_eq!(c.project.name, "shop");
    assert_eq!(c.project.language.as_deref(), Some("python"));
    assert_eq!(c.server.port, 8080);
    assert!(!c.server.enable_cors);
    assert_eq!(c.runtime.workers, Some(4));
    assert_eq!(c.runtime.timeouts.api, 5.0);
    assert_eq!(c.runtime.timeouts.event, 60.5);
    assert_eq!(c.runtime.timeouts.cron, 30.0, "unset keys keep defaults");
    assert_eq!(c.adapter.kind, "nats");
    assert_eq!(c.adapter.options["url"].as_str(), Some("nats://127.0.0.1:4222"));
    assert_eq!(
        c.workbench.api_key.as_ref().map(rohas_config::Secret::expose),
        Some("secret")
    );
    assert_eq!(c.cron.timezone.as_deref(), Some("Europe/Berlin"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn unknown_key_is_a_warning_naming_key_and_line() {
    let (path, text) = fixture("unknown_key.toml");
    let loaded = load_file(Some(&path), Some(&text), no_env()).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    let w = loaded.warnings[0].to_string();
    assert!(w.contains("unknown_key.toml:5"), "{w}");
    assert!(w.contains("`server.prot`"), "{w}");
    assert!(w.contains("did you mean `port`?"), "{w}");
}

#[test]
fn wrong_type_is_an_error_naming_file_line_key_and_type() {
    let (path, text) = fixture("wrong_type.toml");
    let err = load_file(Some(&path), Some(&text), no_env()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("wrong_type.toml:5"), "{msg}");
    assert!(msg.contains("server.port"), "{msg}");
    assert!(msg.contains("u16"), "{msg}");
}

#[test]
fn syntax_error_names_the_line() {
    let (path, text) = fixture("syntax.toml");
    let err = load_file(Some(&path), Some(&text), no_env()).unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { line: 1, .. }), "{err}");
}

#[test]
fn environment_overrides_file_with_types() {
    let (path, text) = fixture("full.toml");
    let env = vec![
        ("ROHAS_SERVER_PORT".to_string(), "9090".to_string()),
        ("ROHAS_PROJECT_VERSION".to_string(), "2.0".to_string()),
        ("ROHAS_RUNTIME_TIMEOUTS_API".to_string(), "1.5".to_string()),
        ("ROHAS_SERVER_ENABLE_CORS".to_string(), "true".to_string()),
        (
            "ROHAS_WORKBENCH_ALLOWED_ORIGINS".to_string(),
            "http://a, http://b".to_string(),
        ),
        ("ROHAS_ADAPTER_STREAM".to_string(), "events".to_string()),
        ("ROHAS_LOG_LEVEL".to_string(), "debug".to_string()),
        ("PATH".to_string(), "/bin".to_string()),
    ];
    let loaded = load_file(Some(&path), Some(&text), env).unwrap();
    let c = loaded.config;
    assert_eq!(c.server.port, 9090);
    assert_eq!(c.project.version, "2.0", "a version stays a string");
    assert_eq!(c.runtime.timeouts.api, 1.5);
    assert!(c.server.enable_cors);
    assert_eq!(c.workbench.allowed_origins, vec!["http://a", "http://b"]);
    assert_eq!(c.adapter.options["stream"].as_str(), Some("events"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn bad_environment_value_names_the_variable() {
    let env = vec![("ROHAS_SERVER_PORT".to_string(), "lots".to_string())];
    let msg = load_file(None, None, env).unwrap_err().to_string();
    assert!(msg.contains("ROHAS_SERVER_PORT"), "{msg}");
    assert!(msg.contains("an integer"), "{msg}");
}

#[test]
fn unknown_environment_variable_is_a_warning() {
    let env = vec![("ROHAS_SERVER_PROT".to_string(), "1".to_string())];
    let loaded = load_file(None, None, env).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    let message = &loaded.warnings[0].message;
    assert!(message.contains("ROHAS_SERVER_PROT"), "{message}");
    assert!(message.contains("did you mean ROHAS_SERVER_PORT?"), "{message}");
}

#[test]
fn rohas_variables_of_no_config_section_are_not_judged() {
    // Test tools, deploy scripts: `ROHAS_*` names that are not config keys.
    let env = vec![
        ("ROHAS_MYPY".to_string(), "/usr/bin/mypy".to_string()),
        ("ROHAS_TEST_PYTHON".to_string(), "/venv/bin/python".to_string()),
        ("ROHAS_VERSION".to_string(), "1.2".to_string()),
    ];
    let loaded = load_file(None, None, env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn invalid_enum_values_are_errors() {
    let text = "[project]\nlanguage = \"cobol\"\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains(":2:"), "{msg}");
    assert!(msg.contains("cobol"), "{msg}");
    let text = "[adapter]\ntype = \"carrier-pigeon\"\n";
    assert!(load_file(None, Some(text), no_env()).is_err());
    let text = "[runtime.timeouts]\napi = -1\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains("runtime.timeouts.api"), "{msg}");
}

#[test]
fn event_delivery_settings_are_read() {
    let text = "[adapter]\nsync = \"always\"\npath = \"var/queue\"\n\n[events]\nconcurrency = 8\nretry_base_ms = 50\n\n[events.handler_concurrency]\n\"OrderPlaced.reserve\" = 1\nAudit = 2\n";
    let loaded = load_file(None, Some(text), no_env()).unwrap();
    let c = loaded.config;
    assert_eq!(c.adapter.sync, rohas_config::SyncMode::Always);
    assert_eq!(c.adapter.path, "var/queue");
    assert_eq!(c.events.retry_base_ms, 50);
    assert_eq!(c.events.concurrency_of("OrderPlaced", "reserve"), 1);
    assert_eq!(c.events.concurrency_of("OrderPlaced", "email"), 8);
    assert_eq!(c.events.concurrency_of("Audit", "write"), 2);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_bad_sync_mode_names_the_key() {
    let text = "[adapter]\ntype = \"local\"\nsync = \"sometimes\"\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains(":3"), "{msg}");
    assert!(msg.contains("sometimes") || msg.contains("batch"), "{msg}");
}

#[test]
fn variables_the_runtimes_read_are_not_called_unknown() {
    let env = vec![
        ("ROHAS_NODE".to_string(), "/opt/node/bin/node".to_string()),
        ("ROHAS_NODE_LOAD_TIMEOUT".to_string(), "300".to_string()),
    ];
    let loaded = load_file(None, None, env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn upstream_style_config_loads_with_its_aws_keys_kept() {
    let (path, text) = fixture("upstream.toml");
    let loaded = load_file(Some(&path), Some(&text), no_env()).unwrap();
    let c = loaded.config;
    assert_eq!(c.project.language.as_deref(), Some("python"), "`py` is read as python");
    // `aws` loads (the CLI refuses to serve with it, saying what to use).
    assert_eq!(c.adapter.kind, "aws");
    assert_eq!(c.adapter.options["aws_type"].as_str(), Some("sqs"));
    assert_eq!(c.adapter.options["region"].as_str(), Some("eu-west-1"));
    assert_eq!(c.adapter.options["queue_prefix"].as_str(), Some("orders-"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn short_language_names_are_the_long_ones() {
    for (short, long) in [
        ("py", "python"),
        ("ts", "typescript"),
        ("rs", "rust"),
        ("python", "python"),
    ] {
        let text = format!("[project]\nlanguage = \"{short}\"\n");
        let loaded = load_file(None, Some(&text), no_env()).unwrap();
        assert_eq!(loaded.config.project.language.as_deref(), Some(long), "{short}");
    }
    let env = vec![("ROHAS_PROJECT_LANGUAGE".to_string(), "ts".to_string())];
    let loaded = load_file(None, None, env).unwrap();
    assert_eq!(loaded.config.project.language.as_deref(), Some("typescript"));
    // Other names are still errors.
    assert!(load_file(None, Some("[project]\nlanguage = \"js\"\n"), no_env()).is_err());
}

#[test]
fn connection_limits_have_defaults_and_are_read_from_file_and_environment() {
    let c = load_file(None, None, no_env()).unwrap().config;
    assert_eq!(c.server.header_read_timeout_ms, 10_000);
    assert_eq!(c.server.body_read_timeout_ms, 30_000);
    assert_eq!(c.server.idle_timeout_ms, 60_000);
    assert_eq!(c.server.max_connections, 10_000);
    assert_eq!(c.websocket.max_message_bytes, 1_048_576);
    assert_eq!(c.websocket.ping_interval_ms, 20_000);
    assert_eq!(c.websocket.idle_timeout_ms, 60_000);
    assert_eq!(c.websocket.max_queued_messages, 1024);

    let text =
        "[server]\nheader_read_timeout_ms = 2000\nmax_connections = 50\n\n[websocket]\nmax_message_bytes = 4096\n";
    let env = vec![
        ("ROHAS_SERVER_IDLE_TIMEOUT_MS".to_string(), "5000".to_string()),
        ("ROHAS_WEBSOCKET_MAX_QUEUED_MESSAGES".to_string(), "16".to_string()),
    ];
    let loaded = load_file(None, Some(text), env).unwrap();
    let c = loaded.config;
    assert_eq!(c.server.header_read_timeout_ms, 2000);
    assert_eq!(c.server.max_connections, 50);
    assert_eq!(c.server.idle_timeout_ms, 5000);
    assert_eq!(c.server.body_read_timeout_ms, 30_000, "unset keys keep defaults");
    assert_eq!(c.websocket.max_message_bytes, 4096);
    assert_eq!(c.websocket.max_queued_messages, 16);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_zero_connection_limit_is_an_error_naming_the_key() {
    let text = "[server]\nport = 3000\nmax_connections = 0\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains(":3:"), "{msg}");
    assert!(msg.contains("server.max_connections"), "{msg}");
    let env = vec![("ROHAS_WEBSOCKET_IDLE_TIMEOUT_MS".to_string(), "0".to_string())];
    let msg = load_file(None, None, env).unwrap_err().to_string();
    assert!(msg.contains("websocket.idle_timeout_ms"), "{msg}");
}

#[test]
fn the_per_client_limit_defaults_to_an_eighth_of_max_connections() {
    let c = load_file(None, None, no_env()).unwrap().config;
    assert_eq!(c.server.max_connections_per_client, None);
    assert_eq!(c.server.connections_per_client(), Some(1250));
    // Never below 8 by default; with so few connections that 8 is the
    // whole cap, there is no separate per-client limit.
    let c = load_file(None, Some("[server]\nmax_connections = 40\n"), no_env())
        .unwrap()
        .config;
    assert_eq!(c.server.connections_per_client(), Some(8));
    let c = load_file(None, Some("[server]\nmax_connections = 8\n"), no_env())
        .unwrap()
        .config;
    assert_eq!(c.server.connections_per_client(), None);
}

#[test]
fn the_per_client_limit_is_read_from_file_and_environment_and_zero_turns_it_off() {
    let text = "[server]\nmax_connections_per_client = 100\n";
    let loaded = load_file(None, Some(text), no_env()).unwrap();
    assert_eq!(loaded.config.server.connections_per_client(), Some(100));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let env = vec![("ROHAS_SERVER_MAX_CONNECTIONS_PER_CLIENT".to_string(), "0".to_string())];
    let loaded = load_file(None, Some(text), env).unwrap();
    assert_eq!(loaded.config.server.max_connections_per_client, Some(0));
    assert_eq!(loaded.config.server.connections_per_client(), None);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_bad_per_client_limit_is_an_error_naming_the_key() {
    let text = "[server]\nport = 3000\nmax_connections_per_client = -5\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains(":3"), "{msg}");
    assert!(msg.contains("server.max_connections_per_client"), "{msg}");
    let text = "[server]\nmax_connections_per_client = \"lots\"\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains("server.max_connections_per_client"), "{msg}");
    let env = vec![(
        "ROHAS_SERVER_MAX_CONNECTIONS_PER_CLIENT".to_string(),
        "many".to_string(),
    )];
    let msg = load_file(None, None, env).unwrap_err().to_string();
    assert!(msg.contains("ROHAS_SERVER_MAX_CONNECTIONS_PER_CLIENT"), "{msg}");
    let env = vec![("ROHAS_SERVER_MAX_CONNECTIONS_PER_CLIENT".to_string(), "-1".to_string())];
    let msg = load_file(None, None, env).unwrap_err().to_string();
    assert!(msg.contains("max_connections_per_client"), "{msg}");
}

#[test]
fn a_per_client_limit_not_below_max_connections_is_a_warning() {
    let text = "[server]\nmax_connections = 100\nmax_connections_per_client = 100\n";
    let loaded = load_file(None, Some(text), no_env()).unwrap();
    assert_eq!(loaded.config.server.connections_per_client(), None);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let w = loaded.warnings[0].to_string();
    assert!(w.contains(":3"), "{w}");
    assert!(w.contains("server.max_connections_per_client"), "{w}");
}

#[test]
fn a_ping_interval_not_below_the_idle_timeout_is_a_warning() {
    let text = "[websocket]\nping_interval_ms = 60000\nidle_timeout_ms = 30000\n";
    let loaded = load_file(None, Some(text), no_env()).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let w = loaded.warnings[0].to_string();
    assert!(w.contains(":2:"), "{w}");
    assert!(w.contains("ping_interval_ms"), "{w}");
}

#[test]
fn the_node_heap_limit_is_unset_by_default_read_from_environment_and_not_zero() {
    assert_eq!(
        load_file(None, None, no_env()).unwrap().config.runtime.node_max_heap_mb,
        None
    );
    let env = vec![("ROHAS_RUNTIME_NODE_MAX_HEAP_MB".to_string(), "256".to_string())];
    let loaded = load_file(None, None, env).unwrap();
    assert_eq!(loaded.config.runtime.node_max_heap_mb, Some(256));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let text = "[runtime]\nworkers = 2\nnode_max_heap_mb = 0\n";
    let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
    assert!(msg.contains(":3:"), "{msg}");
    assert!(
        msg.contains("runtime.node_max_heap_mb") && msg.contains("greater than 0"),
        "{msg}"
    );
}

#[test]
fn a_secret_of_the_wrong_type_is_refused_without_repeating_it() {
    for (text, line, key) in [
        ("[workbench]\napi_key = 4242424242\n", ":2:", "workbench.api_key"),
        (
            "[telemetry]\notlp_headers = { authorization = 4242424242 }\n",
            ":2:",
            "telemetry.otlp_headers",
        ),
        (
            "[telemetry.otlp_headers]\nx-tenant = \"acme\"\nauthorization = 4242424242\n",
            ":3:",
            "telemetry.otlp_headers.authorization",
        ),
    ] {
        let msg = load_file(None, Some(text), no_env()).unwrap_err().to_string();
        assert!(!msg.contains("4242424242"), "{msg}");
        assert!(msg.contains(line) && msg.contains(key), "{msg}");
        assert!(msg.contains("string"), "it still says what is expected: {msg}");
    }
    // Other keys keep the value in the message: it helps, and is no secret.
    let msg = load_file(None, Some("[server]\nport = \"eighty\"\n"), no_env())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("eighty"), "{msg}");
}

#[test]
fn printing_a_configuration_shows_no_secret() {
    let text = "[adapter]\ntype = \"rabbitmq\"\nurl = \"amqp://guest:hunter2@127.0.0.1:5672/%2f\"\n\
                password = \"hunter3\"\n\n[telemetry.otlp_headers]\nauthorization = \"Bearer hunter4\"\n\n\
                [workbench]\napi_key = \"hunter5\"\n";
    let loaded = load_file(None, Some(text), no_env()).unwrap();
    let shown = format!("{:?} {:#?}", loaded, loaded.config);
    assert!(!shown.contains("hunter"), "{shown}");
    assert!(shown.contains("amqp://***@127.0.0.1:5672"), "{shown}");
    let c = &loaded.config;
    assert_eq!(
        c.workbench.api_key.as_ref().map(rohas_config::Secret::expose),
        Some("hunter5")
    );
    assert_eq!(c.telemetry.otlp_headers["authorization"].expose(), "Bearer hunter4");
    assert_eq!(
        c.adapter.options["url"].as_str(),
        Some("amqp://guest:hunter2@127.0.0.1:5672/%2f")
    );
}
