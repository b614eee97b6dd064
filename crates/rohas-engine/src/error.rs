//! Every error answer is JSON with the trace id (docs/handlers.md, "Errors"):
//! `{"error": {"message", "details"?, "trace_id", "stack"?}}`.

use crate::validate::Problem;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub details: Option<Value>,
    /// Shown in `rohas dev` only.
    pub stack: Option<String>,
    pub trace_id: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>, trace_id: &str) -> Self {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
            details: None,
            stack: None,
            trace_id: trace_id.to_string(),
        }
    }

    pub fn invalid(status: u16, message: &str, problems: Vec<Problem>, trace_id: &str) -> Self {
        let mut e = ApiError::new(status, message, trace_id);
        e.details = serde_json::to_value(problems).ok();
        e
    }

    pub fn body(&self) -> Value {
        let mut error = json!({ "message": self.message, "trace_id": self.trace_id });
        if let Some(details) = &self.details {
            error["details"] = details.clone();
        }
        if let Some(stack) = &self.stack {
            error["stack"] = Value::String(stack.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Ok(v) = HeaderValue::from_str(&self.trace_id) {
            response.headers_mut().insert(crate::http::TRACE_ID, v);
        }
        response
    }
}
