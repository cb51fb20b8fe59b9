//! Vault and OpenBao CLI commands → the API requests they make (spec section 7).
//!
//! `vault kv ...` commands first ask `GET sys/internal/ui/mounts/<path>` for the mount and its
//! version (the *preflight*, decided by mount visibility, spec 3.5), then make the requests
//! below. `bao` is accepted in place of `vault`. KV version comes from the mount table
//! ([`Mounts::kv_version`]).
//!
//! | CLI | KV v2 | KV v1 |
//! |---|---|---|
//! | `kv get [-version=N] M/k` | GET `M/data/k` (read; `version` as data) | GET `M/k` (read) |
//! | `kv list M/p` | LIST `M/metadata/p/` (list) | LIST `M/p/` (list) |
//! | `kv put M/k a=b` | POST `M/data/k` (create or update) | POST `M/k` (create or update) |
//! | `kv patch M/k a=b` | PATCH `M/data/k`; on denial GET + POST `M/data/k` (read, update) | — |
//! | `kv patch -method=patch` / `-method=rw` | PATCH only / GET + POST only | — |
//! | `kv delete M/k` | DELETE `M/data/k` (delete) | DELETE `M/k` (delete) |
//! | `kv delete -versions=1,2 M/k` | POST `M/delete/k` (update) | — |
//! | `kv undelete` / `kv destroy -versions=..` | POST `M/undelete/k` / PUT `M/destroy/k` (update) | — |
//! | `kv rollback -version=N M/k` | GET, GET (`version=N`), POST `M/data/k` (read, read, update) | — |
//! | `kv metadata get/put/patch/delete M/k` | GET/POST/PATCH/DELETE `M/metadata/k` | — |
//! | `kv enable-versioning M` | POST `sys/mounts/M/tune` (update) | same |
//!
//! Generic commands: `read` (GET, `k=v` as query data), `list` (LIST with trailing `/`),
//! `write` (POST; create or update on KV mounts, update elsewhere), `patch` (PATCH), `delete`
//! (DELETE); `policy read/list/write/delete`, `token create/lookup/renew/revoke/capabilities`
//! (`token create -orphan` sends `no_parent`, which needs `sudo` on `auth/token/create`).
//! `-wrap-ttl` sets the wrapping TTL of every request. Flags may come before or after the path.

use std::fmt;

use serde_json::{json, Map, Value};

use crate::acl::{Operation, Request};
use crate::config::Mounts;

/// One API request a command makes.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiCall {
    /// The HTTP verb as sent (`GET`, `LIST`, `POST`, `PUT`, `PATCH`, `DELETE`).
    pub method: &'static str,
    /// The request as the ACL sees it; for a write whose path has an existence check,
    /// `operation` is `Update` and [`ApiCall::create_or_update`] is set.
    pub request: Request,
    /// The backend checks existence: a new resource needs `create`, an existing one `update`.
    pub create_or_update: bool,
    /// The backend itself demands root or `sudo` on the winning rule, beyond the ACL's own
    /// sudo-protected paths (e.g. `token create -orphan`: `no_parent` on `auth/token/create`).
    pub needs_sudo: bool,
}

impl ApiCall {
    fn new(method: &'static str, operation: Operation, path: impl Into<String>) -> ApiCall {
        ApiCall {
            method,
            request: Request::new(operation, path),
            create_or_update: false,
            needs_sudo: false,
        }
    }

    fn write(method: &'static str, path: impl Into<String>, existence_check: bool) -> ApiCall {
        ApiCall {
            create_or_update: existence_check,
            ..ApiCall::new(method, Operation::Update, path)
        }
    }

    fn with_data(mut self, data: Map<String, Value>) -> ApiCall {
        self.request.data = data;
        self
    }

    /// The capability names this call may need, e.g. `read` or `create|update`.
    pub fn operation_label(&self) -> String {
        let base = if self.create_or_update {
            "create|update".to_string()
        } else {
            self.request.operation.name().to_string()
        };
        if self.needs_sudo {
            return format!("{base}+sudo");
        }
        base
    }
}

impl fmt::Display for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.method,
            self.request.path,
            self.operation_label()
        )?;
        if !self.request.data.is_empty() {
            write!(f, " {}", Value::Object(self.request.data.clone()))?;
        }
        if let Some(ttl) = self.request.wrap_ttl {
            write!(f, " wrap_ttl={ttl}")?;
        }
        Ok(())
    }
}

/// The kv preflight: `GET sys/internal/ui/mounts/<path>`, allowed when the token can see the
/// mount (spec 3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preflight {
    /// The request path, e.g. `sys/internal/ui/mounts/secret/ai/openai`.
    pub path: String,
    /// The mount it is about, with its trailing `/`.
    pub mount: String,
}

/// Everything one command asks the server.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    pub preflight: Option<Preflight>,
    /// All must be allowed.
    pub calls: Vec<ApiCall>,
    /// When some of `calls` is denied, the command retries with these (all must be allowed):
    /// `kv patch`'s read-then-write fallback.
    pub fallback: Vec<ApiCall>,
}

impl fmt::Display for Translation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(preflight) = &self.preflight {
            writeln!(
                f,
                "preflight GET {} (mount `{}`)",
                preflight.path, preflight.mount
            )?;
        }
        for call in &self.calls {
            writeln!(f, "{call}")?;
        }
        for call in &self.fallback {
            writeln!(f, "fallback {call}")?;
        }
        Ok(())
    }
}

/// A command capable cannot translate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    pub message: String,
    pub help: Option<String>,
}

impl CommandError {
    fn new(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> CommandError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

type Result<T> = std::result::Result<T, CommandError>;

/// `unsupported command `vault kv gett``, with a did-you-mean among the `known` subcommands
/// of `group` when one is close. Cost: O(known × word length²).
fn unsupported(group: &str, word: &str, known: &[&str]) -> CommandError {
    let error = CommandError::new(format!("unsupported command `{group} {word}`"));
    let close = crate::suggest::closest(
        known.iter().copied(),
        |candidate| crate::suggest::edit_distance_with_transpositions(word, candidate),
        |candidate| (candidate.len() / 3).max(1),
    );
    match close {
        Some(close) => error.help(format!("did you mean `{group} {close}`?")),
        None => error.help(format!(
            "capable translates `{group}` {}; use `operation` and `path` for other requests",
            known
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Translates a command line as written (`vault kv get -field=api-key secret/ai/openai`).
pub fn translate(command: &str, mounts: &Mounts) -> Result<Translation> {
    let words = split_words(command)?;
    let Some((program, rest)) = words.split_first() else {
        return Err(CommandError::new("empty command"));
    };
    if program != "vault" && program != "bao" {
        return Err(CommandError::new(format!(
            "command must start with `vault` or `bao`, not `{program}`"
        )));
    }
    let Some((name, rest)) = rest.split_first() else {
        return Err(CommandError::new("missing subcommand after `vault`"));
    };
    let mut translation = match name.as_str() {
        "kv" => kv(rest, mounts)?,
        "read" | "list" | "write" | "delete" | "patch" => generic(name, rest, mounts)?,
        "policy" => policy(rest)?,
        "token" => token(rest)?,
        other => {
            return Err(unsupported(
                "vault",
                other,
                &[
                    "kv", "read", "list", "write", "delete", "patch", "policy", "token",
                ],
            ))
        }
    };
    let wrap_ttl = global_wrap_ttl(rest)?;
    if wrap_ttl.is_some() {
        for call in translation
            .calls
            .iter_mut()
            .chain(translation.fallback.iter_mut())
        {
            call.request.wrap_ttl = wrap_ttl;
        }
    }
    Ok(translation)
}

/// Splits like a POSIX shell: whitespace separates words; single quotes keep text literally;
/// double quotes allow `\"` and `\\`; a backslash outside quotes escapes the next character.
pub fn split_words(command: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(CommandError::new("unterminated `'` in command")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(CommandError::new("unterminated `\"` in command")),
                        },
                        Some(c) => current.push(c),
                        None => return Err(CommandError::new("unterminated `\"` in command")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// Flags and positional arguments of one subcommand.
#[derive(Debug, Default)]
struct Parsed {
    flags: Vec<(String, Option<String>)>,
    args: Vec<String>,
}

impl Parsed {
    fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or("true"))
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        self.flags
            .iter()
            .any(|(n, v)| n == name && v.as_deref() != Some("false"))
    }
}

/// Flags every command accepts; the value-taking ones consume the next word when written
/// without `=`.
const GLOBAL_VALUE_FLAGS: &[&str] = &[
    "address",
    "agent-address",
    "ca-cert",
    "ca-path",
    "client-cert",
    "client-key",
    "format",
    "header",
    "mfa",
    "namespace",
    "ns",
    "tls-server-name",
    "wrap-ttl",
    "field",
    "unlock-key",
    "log-level",
];
const GLOBAL_BOOL_FLAGS: &[&str] = &[
    "tls-skip-verify",
    "non-interactive",
    "output-curl-string",
    "output-policy",
    "policy-override",
    "disable-redirects",
    "detailed",
];

/// Parses Go-style flags (`-f=v`, `--f=v`, `-f v`, `-b`) anywhere among the arguments.
fn parse_args(words: &[String], value_flags: &[&str], bool_flags: &[&str]) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            parsed.args.push(word.clone());
            continue;
        };
        if flag.is_empty() {
            parsed.args.push(word.clone());
            continue;
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (flag.to_string(), None),
        };
        let takes_value =
            value_flags.contains(&name.as_str()) || GLOBAL_VALUE_FLAGS.contains(&name.as_str());
        let is_bool =
            bool_flags.contains(&name.as_str()) || GLOBAL_BOOL_FLAGS.contains(&name.as_str());
        if !takes_value && !is_bool {
            return Err(CommandError::new(format!("unknown flag `-{name}`"))
                .help("capable translates the flags that change the requests a command makes"));
        }
        let value = match (value, takes_value) {
            (Some(value), _) => Some(value),
            (None, true) => Some(
                iter.next()
                    .ok_or_else(|| CommandError::new(format!("flag `-{name}` needs a value")))?
                    .clone(),
            ),
            (None, false) => None,
        };
        if name == "namespace" || name == "ns" {
            return Err(CommandError::new("namespaces are not supported")
                .help("capable evaluates requests in the root namespace"));
        }
        parsed.flags.push((name, value));
    }
    Ok(parsed)
}

/// `-wrap-ttl` anywhere in the command, in seconds.
fn global_wrap_ttl(words: &[String]) -> Result<Option<i64>> {
    let mut iter = words.iter();
    let mut ttl = None;
    while let Some(word) = iter.next() {
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            continue;
        };
        let value = match flag.split_once('=') {
            Some(("wrap-ttl", value)) => value.to_string(),
            None if flag == "wrap-ttl" => iter.next().cloned().unwrap_or_default(),
            _ => continue,
        };
        ttl = Some(parse_seconds(&value)?);
    }
    Ok(ttl)
}

/// `300`, `300s`, `5m`, `1h`, `1h30m`, `2d` → seconds.
pub fn parse_seconds(text: &str) -> Result<i64> {
    let bad = || {
        CommandError::new(format!("invalid duration `{text}`"))
            .help("write seconds (`300`) or a duration such as `5m`, `1h30m`, `2d`")
    };
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let mut total = 0i64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad()),
        };
        let value: i64 = number.parse().map_err(|_| bad())?;
        total += value * unit;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// `k=v` arguments as request data (strings, as the CLI sends them).
fn key_values(args: &[String]) -> Result<Map<String, Value>> {
    let mut data = Map::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(CommandError::new(format!(
                "expected `key=value`, found `{arg}`"
            )));
        };
        data.insert(key.to_string(), Value::String(value.to_string()));
    }
    Ok(data)
}

/// A KV path split into its mount and key.
struct KvPath {
    mount: String,
    key: String,
    version: u8,
    /// The path as given (for the preflight).
    given: String,
}

fn kv_path(parsed: &Parsed, path: &str, mounts: &Mounts) -> Result<KvPath> {
    let path = path.trim_start_matches('/');
    let full = match parsed.flag("mount") {
        Some(mount) => format!("{}/{}", mount.trim_matches('/'), path),
        None => path.to_string(),
    };
    let Some(mount) = mounts.find(&full) else {
        return Err(not_kv(&full));
    };
    let Some(version) = mounts.kv_version(&full) else {
        return Err(not_kv(&full));
    };
    let key = full
        .strip_prefix(mount.path.as_str())
        .unwrap_or("")
        .to_string();
    Ok(KvPath {
        mount: mount.path.clone(),
        key,
        version,
        given: full,
    })
}

fn not_kv(path: &str) -> CommandError {
    CommandError::new(format!("`{path}` is not under a KV mount")).help(
        "declare the mount under `mounts:` in capable.yaml, e.g. `secret/: {type: kv, version: 2}`",
    )
}

fn needs_v2(command: &str, path: &KvPath) -> Result<()> {
    if path.version == 2 {
        return Ok(());
    }
    Err(CommandError::new(format!(
        "`kv {command}` needs a KV v2 mount, but `{}` is KV v1",
        path.mount
    )))
}

fn needs_key(command: &str, path: &KvPath) -> Result<()> {
    if !path.key.trim_matches('/').is_empty() {
        return Ok(());
    }
    Err(CommandError::new(format!(
        "`kv {command}` needs a secret path under the mount `{}`",
        path.mount
    )))
}

/// `M/<section>/<key>` for v2, `M/<key>` for v1.
fn kv_api(path: &KvPath, section: &str) -> String {
    if path.version == 1 {
        return format!("{}{}", path.mount, path.key);
    }
    format!("{}{}/{}", path.mount, section, path.key)
}

fn versions_data(parsed: &Parsed, required: bool, command: &str) -> Result<Map<String, Value>> {
    let mut data = Map::new();
    match parsed.flag("versions") {
        Some(versions) => {
            let list: Vec<Value> = versions
                .split(',')
                .map(|v| Value::String(v.trim().to_string()))
                .collect();
            data.insert("versions".into(), Value::Array(list));
        }
        None if required => {
            return Err(CommandError::new(format!(
                "`kv {command}` needs `-versions`"
            )))
        }
        None => {}
    }
    Ok(data)
}

fn kv(words: &[String], mounts: &Mounts) -> Result<Translation> {
    let Some((sub, rest)) = words.split_first() else {
        return Err(CommandError::new("missing subcommand after `vault kv`"));
    };
    if sub == "metadata" {
        return kv_metadata(rest, mounts);
    }
    if sub == "enable-versioning" {
        let parsed = parse_args(rest, &[], &[])?;
        let mount = positional(&parsed, 1, "kv enable-versioning")?[0].trim_matches('/');
        let call = ApiCall::write("POST", format!("sys/mounts/{mount}/tune"), false)
            .with_data(obj(json!({"options": {"version": "2"}})));
        return Ok(plain(vec![call]));
    }
    let value_flags: &[&str] = &["mount", "version", "versions", "cas", "method"];
    let parsed = parse_args(rest, value_flags, &["force"])?;
    let Some((path_arg, extra)) = parsed.args.split_first() else {
        return Err(CommandError::new(format!("`kv {sub}` needs a path")));
    };
    let path = kv_path(&parsed, path_arg, mounts)?;
    let preflight = Some(Preflight {
        path: format!("sys/internal/ui/mounts/{}", path.given),
        mount: path.mount.clone(),
    });
    let mut translation = match sub.as_str() {
        "get" => kv_get(&parsed, &path)?,
        "list" => {
            let api = match path.version {
                2 => format!("{}metadata/{}", path.mount, path.key),
                _ => format!("{}{}", path.mount, path.key),
            };
            plain(vec![ApiCall::new("LIST", Operation::List, with_slash(api))])
        }
        "scan" => {
            let api = match path.version {
                2 => format!("{}metadata/{}", path.mount, path.key),
                _ => format!("{}{}", path.mount, path.key),
            };
            plain(vec![ApiCall::new("SCAN", Operation::Scan, with_slash(api))])
        }
        "put" => {
            needs_key("put", &path)?;
            let values = key_values(extra)?;
            let body = if path.version == 2 {
                let mut options = Map::new();
                if let Some(cas) = parsed.flag("cas") {
                    options.insert("cas".into(), Value::String(cas.into()));
                }
                obj(json!({"data": values, "options": options}))
            } else {
                values
            };
            plain(vec![
                ApiCall::write("POST", kv_api(&path, "data"), true).with_data(body)
            ])
        }
        "patch" => kv_patch(&parsed, &path, extra)?,
        "delete" => {
            needs_key("delete", &path)?;
            if parsed.flag("versions").is_some() {
                needs_v2("delete -versions", &path)?;
                let data = versions_data(&parsed, true, "delete")?;
                plain(vec![
                    ApiCall::write("POST", kv_api(&path, "delete"), false).with_data(data)
                ])
            } else {
                plain(vec![ApiCall::new(
                    "DELETE",
                    Operation::Delete,
                    kv_api(&path, "data"),
                )])
            }
        }
        "undelete" | "destroy" => {
            needs_v2(sub, &path)?;
            needs_key(sub, &path)?;
            let data = versions_data(&parsed, true, sub)?;
            let method = if sub == "destroy" { "PUT" } else { "POST" };
            plain(vec![
                ApiCall::write(method, kv_api(&path, sub), false).with_data(data)
            ])
        }
        "rollback" => {
            needs_v2("rollback", &path)?;
            needs_key("rollback", &path)?;
            let Some(version) = parsed.flag("version") else {
                return Err(CommandError::new("`kv rollback` needs `-version`"));
            };
            let data_path = kv_api(&path, "data");
            let read_version = ApiCall::new("GET", Operation::Read, data_path.clone())
                .with_data(obj(json!({"version": version})));
            // The write is to an existing secret, with `cas` = its current version.
            let write = ApiCall::write("POST", data_path.clone(), false)
                .with_data(obj(json!({"data": {}, "options": {"cas": "<current>"}})));
            plain(vec![
                ApiCall::new("GET", Operation::Read, data_path),
                read_version,
                write,
            ])
        }
        other => {
            return Err(unsupported(
                "vault kv",
                other,
                &[
                    "get",
                    "list",
                    "scan",
                    "put",
                    "patch",
                    "delete",
                    "undelete",
                    "destroy",
                    "rollback",
                    "metadata",
                    "enable-versioning",
                ],
            ))
        }
    };
    translation.preflight = preflight;
    Ok(translation)
}

fn kv_get(parsed: &Parsed, path: &KvPath) -> Result<Translation> {
    needs_key("get", path)?;
    let mut call = ApiCall::new("GET", Operation::Read, kv_api(path, "data"));
    if let Some(version) = parsed.flag("version") {
        needs_v2("get -version", path)?;
        call = call.with_data(obj(json!({"version": version})));
    }
    Ok(plain(vec![call]))
}

fn kv_patch(parsed: &Parsed, path: &KvPath, extra: &[String]) -> Result<Translation> {
    needs_v2("patch", path)?;
    needs_key("patch", path)?;
    let values = key_values(extra)?;
    let data_path = kv_api(path, "data");
    let patch = ApiCall::new("PATCH", Operation::Patch, data_path.clone())
        .with_data(obj(json!({"data": values.clone(), "options": {}})));
    // Read-then-write: the secret exists, so the write is an update with `cas`.
    let read_write = vec![
        ApiCall::new("GET", Operation::Read, data_path.clone()),
        ApiCall::write("POST", data_path, false).with_data(obj(
            json!({"data": values, "options": {"cas": "<current>"}}),
        )),
    ];
    match parsed.flag("method") {
        None => Ok(Translation {
            preflight: None,
            calls: vec![patch],
            fallback: read_write,
        }),
        Some("patch") => Ok(plain(vec![patch])),
        Some("rw") => Ok(plain(read_write)),
        Some(other) => Err(
            CommandError::new(format!("invalid `-method={other}` for `kv patch`"))
                .help("use `patch` or `rw`"),
        ),
    }
}

fn kv_metadata(words: &[String], mounts: &Mounts) -> Result<Translation> {
    let Some((sub, rest)) = words.split_first() else {
        return Err(CommandError::new(
            "missing subcommand after `vault kv metadata`",
        ));
    };
    let value_flags: &[&str] = &[
        "mount",
        "max-versions",
        "cas-required",
        "delete-version-after",
        "custom-metadata",
        "remove-custom-metadata",
    ];
    let parsed = parse_args(rest, value_flags, &[])?;
    let Some(path_arg) = parsed.args.first() else {
        return Err(CommandError::new(format!(
            "`kv metadata {sub}` needs a path"
        )));
    };
    let path = kv_path(&parsed, path_arg, mounts)?;
    needs_v2(&format!("metadata {sub}"), &path)?;
    let api = kv_api(&path, "metadata");
    let data = metadata_data(&parsed);
    let call = match sub.as_str() {
        "get" => ApiCall::new("GET", Operation::Read, api),
        "put" => ApiCall::write("POST", api, true).with_data(data),
        "patch" => ApiCall::new("PATCH", Operation::Patch, api).with_data(data),
        "delete" => ApiCall::new("DELETE", Operation::Delete, api),
        other => {
            return Err(unsupported(
                "vault kv metadata",
                other,
                &["get", "put", "patch", "delete"],
            ))
        }
    };
    Ok(Translation {
        preflight: Some(Preflight {
            path: format!("sys/internal/ui/mounts/{}", path.given),
            mount: path.mount.clone(),
        }),
        calls: vec![call],
        fallback: Vec::new(),
    })
}

fn metadata_data(parsed: &Parsed) -> Map<String, Value> {
    let mut data = Map::new();
    for (flag, field) in [
        ("max-versions", "max_versions"),
        ("cas-required", "cas_required"),
        ("delete-version-after", "delete_version_after"),
    ] {
        if let Some(value) = parsed.flag(flag) {
            data.insert(field.into(), Value::String(value.into()));
        }
    }
    let custom: Map<String, Value> = parsed
        .all("custom-metadata")
        .into_iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    if !custom.is_empty() {
        data.insert("custom_metadata".into(), Value::Object(custom));
    }
    data
}

fn generic(name: &str, words: &[String], mounts: &Mounts) -> Result<Translation> {
    let parsed = parse_args(words, &[], &["force", "f"])?;
    let Some((path, extra)) = parsed.args.split_first() else {
        return Err(CommandError::new(format!("`vault {name}` needs a path")));
    };
    let path = path.trim_start_matches('/').to_string();
    let data = key_values(extra)?;
    let call = match name {
        "read" => ApiCall::new("GET", Operation::Read, path).with_data(data),
        "list" => ApiCall::new("LIST", Operation::List, with_slash(path)),
        "delete" => ApiCall::new("DELETE", Operation::Delete, path).with_data(data),
        "patch" => ApiCall::new("PATCH", Operation::Patch, path).with_data(data),
        _ => {
            // KV mounts (both versions) check existence; other backends mostly do not.
            let existence_check = mounts.kv_version(&path).is_some();
            ApiCall::write("POST", path, existence_check).with_data(data)
        }
    };
    Ok(plain(vec![call]))
}

fn policy(words: &[String]) -> Result<Translation> {
    let Some((sub, rest)) = words.split_first() else {
        return Err(CommandError::new("missing subcommand after `vault policy`"));
    };
    let parsed = parse_args(rest, &[], &[])?;
    let call = match sub.as_str() {
        "list" => ApiCall::new("LIST", Operation::List, "sys/policies/acl/"),
        "read" => {
            let name = positional(&parsed, 1, "policy read")?[0].to_lowercase();
            ApiCall::new("GET", Operation::Read, format!("sys/policies/acl/{name}"))
        }
        "write" => {
            let args = positional(&parsed, 2, "policy write")?;
            let name = args[0].to_lowercase();
            // No existence check (OpenBao 2.7.2 accepts a new policy with `update` alone).
            ApiCall::write("PUT", format!("sys/policies/acl/{name}"), false)
                .with_data(obj(json!({"policy": format!("<contents of {}>", args[1])})))
        }
        "delete" => {
            let name = positional(&parsed, 1, "policy delete")?[0].to_lowercase();
            ApiCall::new(
                "DELETE",
                Operation::Delete,
                format!("sys/policies/acl/{name}"),
            )
        }
        other => {
            return Err(unsupported(
                "vault policy",
                other,
                &["list", "read", "write", "delete"],
            ))
        }
    };
    Ok(plain(vec![call]))
}

fn token(words: &[String]) -> Result<Translation> {
    let Some((sub, rest)) = words.split_first() else {
        return Err(CommandError::new("missing subcommand after `vault token`"));
    };
    match sub.as_str() {
        "create" => token_create(rest),
        "lookup" => {
            let parsed = parse_args(rest, &[], &["accessor", "self"])?;
            let call = match parsed.args.first() {
                None => ApiCall::new("GET", Operation::Read, "auth/token/lookup-self"),
                Some(_) if parsed.has("accessor") => {
                    ApiCall::write("POST", "auth/token/lookup-accessor", false)
                        .with_data(obj(json!({"accessor": parsed.args[0]})))
                }
                Some(token) => ApiCall::write("POST", "auth/token/lookup", false)
                    .with_data(obj(json!({"token": token}))),
            };
            Ok(plain(vec![call]))
        }
        "renew" => {
            let parsed = parse_args(rest, &["increment", "i"], &["accessor"])?;
            let call = match parsed.args.first() {
                None => ApiCall::write("PUT", "auth/token/renew-self", false),
                Some(_) if parsed.has("accessor") => {
                    ApiCall::write("PUT", "auth/token/renew-accessor", false)
                }
                Some(_) => ApiCall::write("PUT", "auth/token/renew", false),
            };
            Ok(plain(vec![call]))
        }
        "revoke" => {
            let parsed = parse_args(rest, &["mode"], &["self", "accessor"])?;
            let path = if parsed.has("self") {
                "auth/token/revoke-self"
            } else if parsed.has("accessor") {
                "auth/token/revoke-accessor"
            } else if parsed.flag("mode") == Some("orphan") {
                "auth/token/revoke-orphan"
            } else {
                "auth/token/revoke"
            };
            Ok(plain(vec![ApiCall::write("PUT", path, false)]))
        }
        "capabilities" => {
            let parsed = parse_args(rest, &[], &[])?;
            let (path, data) = match parsed.args.as_slice() {
                [path] => ("sys/capabilities-self", json!({"paths": [path]})),
                [token, path] => ("sys/capabilities", json!({"token": token, "paths": [path]})),
                _ => return Err(CommandError::new("`token capabilities` needs a path")),
            };
            Ok(plain(vec![
                ApiCall::write("POST", path, false).with_data(obj(data))
            ]))
        }
        other => Err(unsupported(
            "vault token",
            other,
            &["create", "lookup", "renew", "revoke", "capabilities"],
        )),
    }
}

fn token_create(words: &[String]) -> Result<Translation> {
    let value_flags: &[&str] = &[
        "policy",
        "ttl",
        "explicit-max-ttl",
        "period",
        "display-name",
        "metadata",
        "use-limit",
        "type",
        "role",
        "id",
        "entity-alias",
    ];
    let parsed = parse_args(
        words,
        value_flags,
        &["orphan", "no-default-policy", "renewable"],
    )?;
    // `-orphan` is `no_parent` on the same endpoint, which the token store allows only with
    // root or `sudo` (checked against OpenBao 2.7.2); with `-role` the role decides.
    let role = parsed.flag("role");
    let path = match role {
        Some(role) => format!("auth/token/create/{role}"),
        None => "auth/token/create".into(),
    };
    let mut data = Map::new();
    let policies: Vec<Value> = parsed
        .all("policy")
        .into_iter()
        .flat_map(|p| p.split(','))
        .map(|p| Value::String(p.trim().to_string()))
        .collect();
    if !policies.is_empty() {
        data.insert("policies".into(), Value::Array(policies));
    }
    for (flag, field) in [
        ("ttl", "ttl"),
        ("explicit-max-ttl", "explicit_max_ttl"),
        ("period", "period"),
        ("display-name", "display_name"),
        ("type", "type"),
        ("id", "id"),
        ("entity-alias", "entity_alias"),
    ] {
        if let Some(value) = parsed.flag(flag) {
            data.insert(field.into(), Value::String(value.into()));
        }
    }
    if let Some(uses) = parsed.flag("use-limit") {
        data.insert("num_uses".into(), Value::String(uses.into()));
    }
    if parsed.has("no-default-policy") {
        data.insert("no_default_policy".into(), Value::Bool(true));
    }
    let orphan = parsed.has("orphan");
    if orphan {
        data.insert("no_parent".into(), Value::Bool(true));
    }
    let metadata: Map<String, Value> = parsed
        .all("metadata")
        .into_iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    if !metadata.is_empty() {
        data.insert("meta".into(), Value::Object(metadata));
    }
    let mut call = ApiCall::write("POST", path, false).with_data(data);
    call.needs_sudo = orphan && role.is_none();
    Ok(plain(vec![call]))
}

fn positional<'a>(parsed: &'a Parsed, count: usize, command: &str) -> Result<&'a [String]> {
    if parsed.args.len() != count {
        return Err(CommandError::new(format!(
            "`vault {command}` takes {count} argument{}, found {}",
            if count == 1 { "" } else { "s" },
            parsed.args.len()
        )));
    }
    Ok(&parsed.args)
}

fn plain(calls: Vec<ApiCall>) -> Translation {
    Translation {
        preflight: None,
        calls,
        fallback: Vec::new(),
    }
}

fn with_slash(path: String) -> String {
    if path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    }
}

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
