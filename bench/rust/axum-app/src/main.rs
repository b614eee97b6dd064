//! The Rust HTTP benchmark's baseline: bare axum serving the three handlers
//! of bench/rust/rohas-app, so `bench/rust/run.py` can put Rohas's Rust
//! runtime beside what axum alone costs.
//!
//! ```sh
//! axum-bench PORT
//! ```
//!
//! One tokio runtime, multi-thread as `rohas` builds its own; under
//! `taskset -c 0` tokio sees one CPU and starts one worker. Set
//! `AXUM_BENCH_CURRENT_THREAD=1` for a current-thread runtime instead.

use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Serialize)]
struct HealthResponse {
    status: String,
}

/// `POST /users`'s body: `Json` rejects a body without both strings (422),
/// as Rohas does against the schema's `CreateUserInput`.
#[derive(Serialize, Deserialize)]
struct CreateUserInput {
    name: String,
    email: String,
}

#[derive(Serialize)]
struct Item {
    id: i64,
    name: String,
    price: f64,
    active: bool,
    tags: Vec<String>,
}

async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".to_string(),
    })
}

async fn create_user(Json(input): Json<CreateUserInput>) -> Json<CreateUserInput> {
    Json(input)
}

async fn objects() -> Json<Vec<Item>> {
    Json(
        (0..100)
            .map(|i| Item {
                id: i,
                name: format!("item-{i}"),
                price: i as f64 * 1.5,
                active: i % 2 == 0,
                tags: vec!["bench".to_string(), "rohas".to_string()],
            })
            .collect(),
    )
}

fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(port)) => port,
        _ => {
            eprintln!("usage: axum-bench PORT");
            std::process::exit(2);
        }
    };
    let runtime = if std::env::var_os("AXUM_BENCH_CURRENT_THREAD").is_some_and(|v| v == "1") {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?
    };
    runtime.block_on(async move {
        let app = Router::new()
            .route("/health", get(health))
            .route("/users", post(create_user))
            .route("/objects", get(objects));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await
    })
}
