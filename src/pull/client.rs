//! The HTTP side of `pull`: one agent, TLS verified with rustls (ring), the token sent only as
//! the `X-Vault-Token` header and never shown, redirects refused (a redirect could move the
//! token to another host or to plain HTTP), `GET` and `LIST` only.
//!
//! Cost: one HTTP request per call, on one kept-alive connection; a response body is read up to
//! [`MAX_BODY_BYTES`].

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

/// The largest response body read (a `LIST` of every entity of a big server fits).
pub const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// A token: kept out of `Debug`, `Display` and every message.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Trims surrounding whitespace (a token file ends with a newline).
    pub fn new(text: &str) -> Secret {
        Secret(text.trim().to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every character can go into an HTTP header as it is (visible ASCII): a token
    /// that cannot is refused before any request, so no HTTP error ever quotes it.
    pub fn is_header_safe(&self) -> bool {
        self.0.bytes().all(|byte| (0x21..=0x7e).contains(&byte))
    }

    /// `text` with every occurrence of the token replaced (defence in depth for messages that
    /// come from the HTTP library).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        text.replace(&self.0, "<redacted>")
    }

    /// Whether `text` contains the token (for tests that look for leaks).
    pub fn occurs_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How to reach the server.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `https://host:port` (or `http://` to a loopback address), no trailing `/`.
    pub addr: String,
    pub token: Secret,
    /// PEM file of the CA certificates to trust instead of the bundled Mozilla roots.
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate (chain) and key, for servers that ask for one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

/// `GET` or `LIST` (pull never writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    List,
}

impl Method {
    pub fn verb(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
        }
    }

    /// The ACL capability the request needs.
    pub fn capability(self) -> &'static str {
        match self {
            Method::Get => "read",
            Method::List => "list",
        }
    }
}

/// A request the token may not make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub method: Method,
    pub namespace: String,
    pub path: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{} {}` needs `{}` on `{}`",
            self.method.verb(),
            self.path,
            self.method.capability(),
            self.path
        )?;
        if !self.namespace.is_empty() {
            write!(f, " in namespace `{}`", self.namespace)?;
        }
        Ok(())
    }
}

/// Why a pull stopped. No variant ever holds the token.
#[derive(Clone, Debug)]
pub enum PullError {
    /// Bad flags, address or certificate files (exit 2).
    Usage {
        message: String,
        help: Option<String>,
    },
    /// The server could not be reached or its certificate is not trusted (exit 2).
    Connect { message: String, help: String },
    /// Requests the token may not make, all of them (exit 2).
    Denied(Vec<Denial>),
    /// Any other answer the pull cannot go on with (exit 2).
    Server { message: String },
    /// A bug in capable (exit 3).
    Internal(String),
}

impl PullError {
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> PullError {
        PullError::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// A successful answer: the JSON body, or "nothing there" (404, which `LIST` answers for an
/// empty collection).
#[derive(Clone, Debug)]
pub enum Reply {
    Found(Value),
    NotFound,
}

/// The agent, with the address and token.
pub struct Client {
    base: String,
    token: Secret,
    agent: ureq::Agent,
    requests: AtomicUsize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the address (an `https://` URL, or `http://` to a loopback address) and builds
    /// the TLS configuration. Nothing is sent yet.
    pub fn new(endpoint: &Endpoint) -> Result<Client, PullError> {
        let addr = check_addr(&endpoint.addr)?;
        if endpoint.token.is_empty() {
            return Err(PullError::usage(
                "no token",
                "set `VAULT_TOKEN` or `BAO_TOKEN`, or pass `--token-file FILE`",
            ));
        }
        if !endpoint.token.is_header_safe() {
            return Err(PullError::usage(
                "the token holds characters an HTTP header cannot carry",
                "check `VAULT_TOKEN`/`BAO_TOKEN` or the token file (only the token, on one line)",
            ));
        }
        let tls = tls_config(endpoint)?;
        let agent = ureq::AgentBuilder::new()
            .tls_config(Arc::new(tls))
            .redirects(0)
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("capable/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            base: format!("{addr}/v1/"),
            token: endpoint.token.clone(),
            agent,
            requests: AtomicUsize::new(0),
        })
    }

    /// How many requests were sent.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The server address as given (for messages).
    pub fn addr(&self) -> &str {
        self.base.trim_end_matches("/v1/")
    }

    /// An unauthenticated `GET` (`sys/health`): the JSON body whatever the status.
    pub fn get_unauthenticated(&self, path: &str) -> Result<Value, PullError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{path}", self.base);
        let response = match self.agent.get(&url).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(self.connect_error(&transport)),
        };
        Ok(read_json(response).unwrap_or(Value::Null))
    }

    /// One authenticated request in `namespace` (`""`: root). `path` segments are
    /// percent-encoded here. A 403 is a [`PullError::Denied`] naming what was needed. Safe to
    /// call from several threads (the agent pools connections).
    pub fn call(&self, namespace: &str, method: Method, path: &str) -> Result<Reply, PullError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.base, encode_path(path));
        let mut request = self
            .agent
            .request(method.verb(), &url)
            .set("X-Vault-Token", &self.token.0)
            .set("X-Vault-Request", "true");
        if !namespace.is_empty() {
            request = request.set("X-Vault-Namespace", namespace);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                return self.failure(namespace, method, path, status, response)
            }
            Err(ureq::Error::Transport(transport)) => return Err(self.connect_error(&transport)),
        };
        let status = response.status();
        if (300..400).contains(&status) {
            return self.failure(namespace, method, path, status, response);
        }
        match read_json(response) {
            Some(body) => Ok(Reply::Found(body)),
            None => Err(PullError::Server {
                message: format!(
                    "`{} {path}`{} answered {status} without a JSON body",
                    method.verb(),
                    in_namespace(namespace)
                ),
            }),
        }
    }

    /// [`connect_error`] with the token scrubbed from the library's words.
    fn connect_error(&self, transport: &ureq::Transport) -> PullError {
        match connect_error(self.addr(), transport) {
            PullError::Connect { message, help } => PullError::Connect {
                message: self.token.redact(&message),
                help,
            },
            other => other,
        }
    }

    fn failure(
        &self,
        namespace: &str,
        method: Method,
        path: &str,
        status: u16,
        response: ureq::Response,
    ) -> Result<Reply, PullError> {
        let location = response.header("location").map(str::to_string);
        let body = read_json(response).unwrap_or(Value::Null);
        let errors = server_errors(&body);
        match status {
            404 if !namespace.is_empty() && errors.contains("namespace not found") => {
                Err(PullError::usage(
                    format!(
                        "namespace `{namespace}` does not exist on `{}`",
                        self.addr()
                    ),
                    "check `--namespace` (a path such as `admin/team-a`, relative to the root)",
                ))
            }
            404 => Ok(Reply::NotFound),
            403 => Err(PullError::Denied(vec![Denial {
                method,
                namespace: namespace.to_string(),
                path: path.to_string(),
            }])),
            300..=399 => Err(PullError::Connect {
                message: format!(
                    "`{}` redirected `{} {path}` to `{}`",
                    self.addr(),
                    method.verb(),
                    location.as_deref().map(strip_query).unwrap_or("?")
                ),
                help: "pull follows no redirect (it could carry the token elsewhere); point \
                       `--addr` at the active node"
                    .into(),
            }),
            _ => Err(PullError::Server {
                message: format!(
                    "`{} {path}`{} answered {status}{}",
                    method.verb(),
                    in_namespace(namespace),
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(": {errors}")
                    }
                ),
            }),
        }
    }
}

fn in_namespace(namespace: &str) -> String {
    if namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace `{namespace}`")
    }
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The `errors` array of a Vault answer, joined.
fn server_errors(body: &Value) -> String {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn read_json(response: ureq::Response) -> Option<Value> {
    let mut text = String::new();
    response
        .into_reader()
        .take(MAX_BODY_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    if text.trim().is_empty() {
        return Some(Value::Null);
    }
    serde_json::from_str(&text).ok()
}

fn connect_error(addr: &str, transport: &ureq::Transport) -> PullError {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(transport.message().map(str::to_string));
    let mut source = std::error::Error::source(transport);
    while let Some(error) = source {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = error.source();
    }
    if parts.is_empty() {
        parts.push(transport.kind().to_string());
    }
    let detail = parts.join(": ");
    let certificate = detail.contains("certificate") || detail.contains("UnknownIssuer");
    let help = if certificate {
        "the server's certificate is not trusted: pass the CA that signed it with \
         `--ca-cert FILE` (or set `VAULT_CACERT`); pull never skips verification"
            .to_string()
    } else {
        "check `--addr` (or `VAULT_ADDR`/`BAO_ADDR`) and that the server is up".to_string()
    };
    PullError::Connect {
        message: format!("cannot connect to `{addr}`: {detail}"),
        help,
    }
}

/// Accepts `https://...`, and `http://` only to a loopback host (the token would otherwise
/// cross the network in clear text). Returns the address without a trailing `/`.
pub fn check_addr(addr: &str) -> Result<String, PullError> {
    let trimmed = addr.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| {
        PullError::usage(
            format!("`{trimmed}` is not a URL"),
            "write the server address with its scheme, e.g. `https://vault.example.com:8200`",
        )
    })?;
    let host = host_of(rest);
    if host.is_empty() || rest.contains(['?', '#', '@']) {
        return Err(PullError::usage(
            format!("`{trimmed}` is not a server address"),
            "write `https://HOST[:PORT]`, without a path, query or user name",
        ));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(trimmed.to_string()),
        "http" if is_loopback(host) => Ok(trimmed.to_string()),
        "http" => Err(PullError::usage(
            format!(
                "refusing plain HTTP to `{host}`: the token would cross the network unencrypted"
            ),
            "use `https://` (with `--ca-cert FILE` for a private CA); plain `http://` is \
             accepted only for a loopback address such as `127.0.0.1`",
        )),
        other => Err(PullError::usage(
            format!("unknown scheme `{other}` in `{trimmed}`"),
            "use `https://`",
        )),
    }
}

/// The host of `host[:port][/path]` (brackets of an IPv6 literal kept off).
fn host_of(rest: &str) -> &str {
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(inner) = authority.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    authority.split(':').next().unwrap_or(authority)
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes each segment of a path (`/` kept): policy and role names may hold spaces
/// and other characters a URL cannot carry as they are. Cost: O(length).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The rustls configuration: the CAs of `--ca-cert` (only those, as the Vault CLI does) or the
/// bundled Mozilla roots, and the client certificate when given.
fn tls_config(endpoint: &Endpoint) -> Result<rustls::ClientConfig, PullError> {
    let mut roots = rustls::RootCertStore::empty();
    match &endpoint.ca_cert {
        Some(path) => {
            let certificates = read_certificates(path, "--ca-cert")?;
            for certificate in certificates {
                roots.add(certificate).map_err(|error| {
                    PullError::usage(
                        format!(
                            "`{}` holds a certificate rustls refuses: {error}",
                            path.display()
                        ),
                        "give the PEM file of the CA certificate that signed the server's",
                    )
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| PullError::Internal(format!("TLS setup failed: {error}")))?
        .with_root_certificates(roots);
    match (&endpoint.client_cert, &endpoint.client_key) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => {
            let chain = read_certificates(cert, "--client-cert")?;
            let key = read_key(key)?;
            builder.with_client_auth_cert(chain, key).map_err(|error| {
                PullError::usage(
                    format!("the client certificate and key do not fit together: {error}"),
                    "give the key that belongs to `--client-cert`",
                )
            })
        }
        _ => Err(PullError::usage(
            "`--client-cert` and `--client-key` go together",
            "give both, or neither",
        )),
    }
}

fn read_certificates(
    path: &Path,
    flag: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, PullError> {
    use rustls::pki_types::pem::PemObject;
    let bytes = read_file(path, flag)?;
    let certificates: Result<Vec<_>, _> =
        rustls::pki_types::CertificateDer::pem_slice_iter(&bytes).collect();
    match certificates {
        Ok(certificates) if !certificates.is_empty() => Ok(certificates),
        Ok(_) => Err(PullError::usage(
            format!("`{}` ({flag}) holds no PEM certificate", path.display()),
            "give a PEM file with `-----BEGIN CERTIFICATE-----` blocks",
        )),
        Err(error) => Err(PullError::usage(
            format!(
                "`{}` ({flag}) is not a PEM certificate file: {error}",
                path.display()
            ),
            "give a PEM file with `-----BEGIN CERTIFICATE-----` blocks",
        )),
    }
}

fn read_key(path: &Path) -> Result<rustls::pki_types::PrivateKeyDer<'static>, PullError> {
    use rustls::pki_types::pem::PemObject;
    let bytes = read_file(path, "--client-key")?;
    rustls::pki_types::PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        PullError::usage(
            format!(
                "`{}` (--client-key) holds no PEM private key",
                path.display()
            ),
            "give the PEM file of the client certificate's key (PKCS#8, PKCS#1 or SEC1)",
        )
    })
}

fn read_file(path: &Path, flag: &str) -> Result<Vec<u8>, PullError> {
    crate::input::read_text(path, 16 * 1024 * 1024)
        .map(String::into_bytes)
        .map_err(|error| {
            PullError::usage(
                format!("cannot read `{}` ({flag}): {error}", path.display()),
                "check the path",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_addr("https://vault.example.com:8200/").is_ok());
        assert!(check_addr("http://127.0.0.1:8200").is_ok());
        assert!(check_addr("http://[::1]:8200").is_ok());
        assert!(check_addr("http://localhost:8200").is_ok());
        let PullError::Usage { message, .. } = check_addr("http://vault.example.com").unwrap_err()
        else {
            panic!("not a usage error")
        };
        assert!(message.contains("plain HTTP"), "{message}");
        assert!(check_addr("vault.example.com").is_err());
        assert!(check_addr("ftp://x").is_err());
        assert!(check_addr("https://user@x").is_err());
    }

    #[test]
    fn paths_are_percent_encoded_per_segment() {
        assert_eq!(
            encode_path("sys/policies/acl/a b"),
            "sys/policies/acl/a%20b"
        );
        assert_eq!(encode_path("auth/x/role/r.1~_-"), "auth/x/role/r.1~_-");
        assert_eq!(encode_path("a?b#c%"), "a%3Fb%23c%25");
    }

    #[test]
    fn a_secret_never_shows() {
        let secret = Secret::new("s.very-secret\n");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert!(secret.occurs_in("x s.very-secret y"));
        assert!(secret.is_header_safe());
        assert_eq!(secret.redact("a s.very-secret b"), "a <redacted> b");
        let odd = Secret::new("s.abc\u{7f}def");
        assert!(!odd.is_header_safe());
        let endpoint = Endpoint {
            addr: "https://vault.example.com".into(),
            token: odd,
            ca_cert: None,
            client_cert: None,
            client_key: None,
        };
        let PullError::Usage { message, .. } = Client::new(&endpoint).unwrap_err() else {
            panic!("not a usage error")
        };
        assert!(!message.contains("abc"), "{message}");
    }
}
