//! `check --format gitlab`: a GitLab Code Quality report (a JSON array of issues with
//! `description`, `check_name`, `fingerprint`, `severity` and `location`), for the
//! `artifacts: reports: codequality` of a `.gitlab-ci.yml` job.

use serde_json::{json, Value};

use crate::baseline::fingerprint;
use crate::diag::{FileDiagnostics, Severity};

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// The report: one issue per finding, fingerprinted like `--new-since` (rule, policy,
/// pattern and the finding's own text, not its line), numbered when several share one.
pub fn render(results: &[FileDiagnostics]) -> String {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let issues: Vec<Value> = results
        .iter()
        .flat_map(|result| {
            result
                .diagnostics
                .iter()
                .map(move |diagnostic| (result, diagnostic))
        })
        .map(|(result, diagnostic)| {
            let key = fingerprint(&result.file, None, diagnostic);
            let count = seen.entry(key.clone()).or_insert(0);
            *count += 1;
            let (line, _) = result.file.line_col(diagnostic.span.start);
            let (end_line, _) = result
                .file
                .line_col(diagnostic.span.end.max(diagnostic.span.start));
            json!({
                "description": format!("{} [{}]", diagnostic.message, diagnostic.rule),
                "check_name": diagnostic.rule,
                "fingerprint": format!("{}-{count}", hex(&key)),
                "severity": severity(diagnostic.severity),
                "location": {
                    "path": result.file.name,
                    "lines": {"begin": line, "end": end_line},
                },
            })
        })
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&Value::Array(issues)).unwrap_or_default()
    )
}

/// Two FNV-1a hashes of the key, as 32 hex digits (GitLab wants a short unique string).
fn hex(key: &str) -> String {
    let hash = |seed: u64| {
        key.bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100000001b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf29ce484222325),
        hash(0x84222325cbf29ce4)
    )
}
