//! A small HTTP client for the tests: ureq (blocking, already a dev
//! dependency of rohas-cli) on tokio's blocking pool, one fresh connection
//! per request so no test sees another's pooled connection.
//!
//! Every answer is returned whatever its status: a test asserts on the
//! status, headers and body together.

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-cased; a repeated header keeps its last value.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Answer {
    /// The body as JSON; fails the test if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `error.message` of an error answer.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.message in {}", self.body))
            .to_string()
    }
}

/// A request being built: method, URL, headers, body.
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

pub fn get(url: &str) -> Request {
    request("GET", url)
}

pub fn post(url: &str) -> Request {
    request("POST", url)
}

pub fn request(method: &str, url: &str) -> Request {
    Request {
        method: method.to_string(),
        url: url.to_string(),
        headers: Vec::new(),
        body: None,
    }
}

impl Request {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A body sent as it is, with `content-type: application/json`.
    pub fn body(mut self, text: &str) -> Self {
        self.body = Some(text.to_string());
        self.header("content-type", "application/json")
    }

    pub fn json(self, value: &Value) -> Self {
        self.body(&value.to_string())
    }

    /// Send and read the whole answer. A transport error (connection
    /// closed, refused) is an `Err` with its description.
    pub async fn try_send(self) -> Result<Answer, String> {
        tokio::task::spawn_blocking(move || self.send_blocking())
            .await
            .expect("the request thread panicked")
    }

    /// Send and read the whole answer; fails the test on a transport error.
    pub async fn send(self) -> Answer {
        let what = format!("{} {}", self.method, self.url);
        self.try_send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
    }

    fn send_blocking(self) -> Result<Answer, String> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .max_idle_connections(0)
            .build();
        let mut request = agent.request(&self.method, &self.url);
        for (name, value) in &self.headers {
            request = request.set(name, value);
        }
        let result = match &self.body {
            Some(body) => request.send_string(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(e)) => return Err(e.to_string()),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                let value = response.header(&name)?.to_string();
                Some((name.to_ascii_lowercase(), value))
            })
            .collect();
        let body = if self.method == "HEAD" {
            String::new()
        } else {
            response.into_string().map_err(|e| e.to_string())?
        };
        Ok(Answer { status, headers, body })
    }
}
