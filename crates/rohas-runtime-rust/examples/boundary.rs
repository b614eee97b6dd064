//! The per-call cost of the C ABI boundary: a project from `rohas init --lang
//! rust` is built in release, loaded, and its `Health` handler invoked
//! through [`Runtime::invoke`] (no HTTP), one call at a time and 64 at once.
//!
//! ```sh
//! cargo run --release -p rohas-runtime-rust --example boundary [CALLS]
//! ```
//!
//! User builds go to `ROHAS_CARGO_TARGET_DIR` (default: the project's
//! `.rohas/target`, in a temporary folder, so set it to reuse a build).

use rohas_codegen::{handler_specs, rust};
use rohas_runtime::{HandlerKind, Host, Invocation, Language, LogRecord, Runtime, RuntimeOptions};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct QuietHost;

impl Host for QuietHost {
    fn log(&self, record: LogRecord) {
        if record.handler == "cargo" {
            eprintln!("{}", record.message);
        }
    }
    fn broadcast(&self, _: &str, _: Value) {}
    fn send(&self, _: &str, _: Value) {}
}

fn call() -> Invocation {
    Invocation {
        handler: rohas_runtime::HandlerId::api("Health"),
        kind: HandlerKind::Api,
        trace_id: "0123456789abcdef0123456789abcdef".into(),
        request: json!({"query_params": {}, "headers": {}}),
        payload: Value::Null,
        payload_json: None,
        request_json: None,
        query_params: Map::new(),
        metadata: Map::new(),
        connection_id: None,
        endpoint: None,
        deadline: None,
        needs: rohas_runtime::Needs::ALL,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let tmp = std::env::temp_dir().join(format!("rohas-boundary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    rohas_codegen::init::init_project(&tmp, "boundary", Language::Rust, None)?;
    let schema = rohas_schema::check_path(&tmp.join("schema"))?
        .schema
        .ok_or("the init schema is invalid")?;
    for file in rust::generate_in(&schema, &tmp) {
        let path = tmp.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(path, file.contents)?;
    }
    let specs = handler_specs(&schema, Language::Rust);

    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let runtime = rohas_runtime_rust::RustRuntime::start(RuntimeOptions {
            project_dir: tmp.clone(),
            dev: false,
            workers: 1,
            max_heap_mb: None,
            host: Arc::new(QuietHost),
        })?;
        if let Err(errors) = runtime.load(&specs).await {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(text.join("\n").into());
        }
        for _ in 0..1000 {
            runtime.invoke(call()).await?;
        }

        let started = Instant::now();
        for _ in 0..calls {
            runtime.invoke(call()).await?;
        }
        let one = started.elapsed();
        report("one at a time", calls, one);

        let started = Instant::now();
        let per_task = calls / 64;
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let runtime = Arc::clone(&runtime);
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        runtime.invoke(call()).await.expect("call succeeds");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await?;
        }
        report("64 in flight", per_task * 64, started.elapsed());
        runtime.shutdown().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn report(case: &str, calls: usize, took: Duration) {
    println!(
        "{case:>14}: {calls} calls in {:.2} s: {:.2} µs/call, {:.0} calls/s",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / calls as f64,
        calls as f64 / took.as_secs_f64()
    );
}
