//! Running the real `rohas` binary as a server in tests: copy a fixture
//! project into a temporary folder, start `rohas dev --port 0`, wait for
//! the ready line, and collect everything it logs.

#![allow(dead_code)]

pub mod scenarios;
pub mod telemetry;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `rohas -C root <args>` with `NO_COLOR` and `envs` set: exit code,
/// stdout, stderr. Fails the test if the binary panicked.
pub fn rohas_in(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// `rohas <args>` run in `cwd`, with `NO_COLOR` set and the variables
/// that would point it elsewhere (`ROHAS_SCHEMA_PATH`, `ROHAS_CONFIG_PATH`,
/// and `also_unset`) removed: exit code, stdout, stderr. Fails the test if
/// the binary panicked.
pub fn rohas_at(cwd: &Path, args: &[&str], also_unset: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rohas"));
    command
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ROHAS_SCHEMA_PATH")
        .env_remove("ROHAS_CONFIG_PATH");
    for var in also_unset {
        command.env_remove(var);
    }
    let out = command.output().expect("run rohas");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "rohas {args:?} panicked:\n{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "generated"
            || name == "__pycache__"
            || name == ".rohas"
            || name == "node_modules"
            || name == "target"
        {
            continue;
        }
        let target = to.join(&name);
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of fixture `name` in a temporary folder (kept while the
/// `TempDir` lives), at `<tmp>/project`.
pub fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    copy_dir(&fixture(name), &root);
    (tmp, root)
}

/// `rohas -C root <args>` with `envs`, which must fail to start (exit 1,
/// no panic): its stderr.
pub fn start_error(root: &Path, args: &[&str], envs: &[(&str, &std::ffi::OsStr)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(root)
        .args(args)
        .envs(envs.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub root: PathBuf,
    /// stdout and stderr lines, in arrival order.
    pub lines: Arc<Mutex<Vec<String>>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// Copy `fixture` to a temporary project and serve it with `rohas dev`.
    pub fn start(fixture_name: &str, extra: &[&str]) -> Server {
        let (tmp, root) = project(fixture_name);
        let mut server = Server::start_in(&root, "dev", extra);
        server._tmp = Some(tmp);
        server
    }

    pub fn start_in(root: &Path, command: &str, extra: &[&str]) -> Server {
        Server::start_with_env(root, command, extra, &[])
    }

    /// Like [`Server::start_in`], with extra environment variables.
    pub fn start_with_env(root: &Path, command: &str, extra: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rohas"))
            .arg("-C")
            .arg(root)
            .arg(command)
            .args(["--port", "0"])
            .args(extra)
            .envs(envs.iter().copied())
            .env("NO_COLOR", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rohas");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(addr) = line.split("Rohas ready on ").nth(1) {
                        let _ = ready_tx.send(addr.trim().to_string());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        drop(ready_tx);
        let base = match ready_rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!("rohas did not get ready:\n{}", lines.lock().unwrap().join("\n"));
            }
        };
        Server {
            child,
            base,
            root: root.to_path_buf(),
            lines,
            _tmp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Wait (up to 20 s) until a logged line contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        self.wait_for_log_count(needle, 1);
    }

    /// Wait (up to 20 s) until `count` logged lines contain `needle`.
    pub fn wait_for_log_count(&self, needle: &str, count: usize) {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if self.count_log(needle) >= count {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("fewer than {count} log line(s) containing {needle:?}:\n{}", self.log());
    }

    pub fn count_log(&self, needle: &str) -> usize {
        self.lines.lock().unwrap().iter().filter(|l| l.contains(needle)).count()
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("rohas did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status and JSON body of a request; error statuses are answers, not failures.
pub fn request(
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value, Vec<(String, String)>) {
    let mut req = ureq::request(method, url).timeout(Duration::from_secs(60));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.set("content-type", "application/json").send_string(b),
        None => req.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = response.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let text = response.into_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json, headers)
}

pub fn get(url: &str) -> (u16, serde_json::Value) {
    let (s, j, _) = request("GET", url, None, &[]);
    (s, j)
}

pub fn post(url: &str, body: &str) -> (u16, serde_json::Value) {
    let (s, j, _) = request("POST", url, Some(body), &[]);
    (s, j)
}
