//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer) and for the stable
//! test that replays their saved inputs (`tests/fuzz_replay.rs`). Not an API for anything
//! else: each function takes raw bytes, runs one part of capable on them as the CLI would, and
//! panics only on a bug (a panic inside capable, or the fast ACL disagreeing with the reference
//! evaluator). Non-UTF-8 input is skipped: every reader refuses it before these layers.
//!
//! Each function is O(input) apart from what the called code costs; the targets keep inputs
//! small (`-max_len`), so a slow input shows up as a libFuzzer timeout.

use std::path::PathBuf;
use std::sync::Arc;

use crate::acl::reference::{disagreement, Reference};
use crate::acl::Acl;
use crate::config::{Config, Mounts};
use crate::diag::FileDiagnostics;
use crate::report::Format;
use crate::source::SourceFile;
use crate::target::Target;
use crate::workspace::Workspace;

/// One entry point: raw bytes in, a panic on a bug.
pub type Entry = fn(&[u8]);

/// Every fuzz target by name, as `scripts/fuzz` and the replay test know them.
pub const TARGETS: &[(&str, Entry)] = &[
    ("hcl1", hcl1),
    ("json_policy", json_policy),
    ("policy_lint", policy_lint),
    ("scenario", scenario),
    ("config", config),
    ("agent", agent),
    ("terraform", terraform),
    ("acl", acl),
];

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn both_targets() -> [Target; 2] {
    [Target::Vault, Target::OpenBao]
}

/// Renders results in every report format (the renderer must take any span).
fn render_all(results: &[FileDiagnostics]) {
    for format in [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Github,
        Format::Sarif,
    ] {
        let _ = crate::report::render(format, results, false);
    }
}

/// The HCL1 parser on arbitrary text.
pub fn hcl1(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let _ = crate::hcl1::parse(text);
}

/// A `.json` policy: parse and validate for both targets, render the diagnostics.
pub fn json_policy(data: &[u8]) {
    let Some(text) = text(data) else { return };
    for target in both_targets() {
        let source = Arc::new(SourceFile::new("p.json", text));
        let parsed = crate::policy::parse_policy(source.clone(), target);
        render_all(&[FileDiagnostics {
            file: source,
            diagnostics: parsed.diagnostics,
        }]);
    }
}

/// One policy file through parse, lowering and every lint, as `capable check p.hcl` runs it,
/// and the report in every format.
pub fn policy_lint(data: &[u8]) {
    let Some(text) = text(data) else { return };
    for target in both_targets() {
        let source = Arc::new(SourceFile::new("p.hcl", text));
        let Ok(workspace) = Workspace::from_sources(Config::default(), target, vec![source]) else {
            return;
        };
        let results = crate::check::check_workspace(&workspace);
        render_all(&results);
        for policy in workspace.policies.values() {
            let _ = Acl::new(&[policy], target, None);
        }
    }
}

/// A scenario YAML file (`tests/*.yaml`).
pub fn scenario(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let source = Arc::new(SourceFile::new("tests/s.yaml", text));
    let loaded = crate::scenario::model::load(source.clone(), &Mounts::default());
    let diagnostics: Vec<_> = loaded
        .invalid
        .into_iter()
        .flat_map(|invalid| invalid.diagnostics)
        .collect();
    if !diagnostics.is_empty() {
        render_all(&[FileDiagnostics {
            file: source,
            diagnostics,
        }]);
    }
}

/// A `capable.yaml`, and the inventory it declares.
pub fn config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let source = Arc::new(SourceFile::new("capable.yaml", text));
    match Config::from_text(source, PathBuf::from(".")) {
        Ok(config) => {
            let _ = crate::inventory::Inventory::new(&config, &Default::default());
        }
        Err(error) => {
            let _ = error.render(false);
        }
    }
}

/// A Vault Agent configuration and its inline templates, checked without an inventory.
pub fn agent(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let _ = crate::agent::template::secret_uses(text);
    let source = Arc::new(SourceFile::new("agent.hcl", text));
    for target in both_targets() {
        let results = crate::agent::check_with(
            None,
            &Mounts::default(),
            target,
            std::slice::from_ref(&source),
        );
        render_all(&results);
    }
}

/// A `.tf` file: policy extraction and checking. No file is read: `file()` calls are refused
/// (the boundary list is empty).
pub fn terraform(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let source = Arc::new(SourceFile::new("main.tf", text));
    let loaded = Default::default();
    for target in both_targets() {
        let context = crate::terraform::Context {
            cwd: std::path::Path::new("/nonexistent-capable-fuzz"),
            loaded: &loaded,
            target,
            boundaries: &[],
            max_bytes: 1 << 20,
        };
        let extracted = crate::terraform::extract_all(std::slice::from_ref(&source), &context);
        let results: Vec<FileDiagnostics> = extracted
            .into_iter()
            .flat_map(|file| {
                let own = FileDiagnostics {
                    file: file.file.clone(),
                    diagnostics: file.diagnostics,
                };
                let embedded = file.policies.into_iter().map(|policy| FileDiagnostics {
                    file: policy.source,
                    diagnostics: policy.parsed.diagnostics,
                });
                std::iter::once(own).chain(embedded)
            })
            .collect();
        render_all(&results);
    }
}

/// Segments the ACL generator builds patterns and paths from: few, so patterns collide.
const SEGMENTS: [&str; 6] = ["a", "b", "ab", "sys", "auth", ""];
const CAPABILITIES: [&str; 9] = [
    "create", "read", "update", "patch", "delete", "list", "sudo", "deny", "scan",
];

/// Random policies and requests, decoded from the bytes, checked against the plain reference
/// evaluator ([`crate::acl::reference`]): the capabilities, the winning rule and every
/// operation's decision must agree. Panics on a disagreement.
pub fn acl(data: &[u8]) {
    let Some((&target_byte, rest)) = data.split_first() else {
        return;
    };
    let target = if target_byte & 1 == 0 {
        Target::Vault
    } else {
        Target::OpenBao
    };
    let mut bytes = rest.iter().copied();
    let mut policy_text = String::new();
    let mut paths = Vec::new();
    // Up to 12 blocks, then up to 12 request paths.
    for _ in 0..12 {
        let Some(shape) = bytes.next() else { break };
        if shape & 0x80 != 0 {
            break;
        }
        let pattern = decode_path(&mut bytes, shape, true);
        let capabilities = decode_capabilities(&mut bytes, target);
        policy_text.push_str(&format!(
            "path \"{pattern}\" {{ capabilities = [{capabilities}] }}\n"
        ));
    }
    for _ in 0..12 {
        let Some(shape) = bytes.next() else { break };
        paths.push(decode_path(&mut bytes, shape, false));
    }
    let source = Arc::new(SourceFile::new("p.hcl", policy_text));
    let parsed = crate::policy::parse_policy(source, target);
    let Some(policy) = parsed.policy else {
        return;
    };
    let Ok(fast) = Acl::new(&[&policy], target, None) else {
        return;
    };
    let reference = Reference::new(std::slice::from_ref(&policy), target);
    for path in &paths {
        if let Some(disagreement) = disagreement(&fast, &reference, path) {
            panic!("{disagreement}");
        }
    }
}

/// A path of 1-4 segments from [`SEGMENTS`] and `+`, with an optional trailing `*` (patterns)
/// or `/` (requests).
fn decode_path(bytes: &mut impl Iterator<Item = u8>, shape: u8, pattern: bool) -> String {
    let count = 1 + (shape & 0b11) as usize;
    let mut segments = Vec::new();
    for _ in 0..count {
        let byte = bytes.next().unwrap_or(0);
        let segment = if pattern && byte % 8 == 7 {
            "+"
        } else {
            SEGMENTS[(byte as usize) % SEGMENTS.len()]
        };
        segments.push(segment);
    }
    let mut path = segments.join("/");
    if shape & 0b100 != 0 {
        path.push(if pattern { '*' } else { '/' });
    }
    if shape & 0b1000 != 0 {
        path.insert(0, '/');
    }
    path
}

fn decode_capabilities(bytes: &mut impl Iterator<Item = u8>, target: Target) -> String {
    let mask = u16::from(bytes.next().unwrap_or(1)) | (u16::from(bytes.next().unwrap_or(0)) << 8);
    CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(index, name)| {
            mask & (1 << index) != 0 && (**name != "scan" || target == Target::OpenBao)
        })
        .map(|(_, name)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
