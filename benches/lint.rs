//! Performance target of `check` on one big policy (issue 10, item 2): the whole per-file
//! check (parse, validation, every lint rule, suppressions) of a 10 MB policy, next to
//! serde_json reading the same policy as JSON, in one group so that the ratio is read from
//! one run. Goal: within 2× serde_json. Run with `cargo bench --bench lint`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use capable::lint::engine::check_file;
use capable::lint::settings::LintSettings;
use capable::mounts::Mounts;
use capable::policy::parse_policy;
use capable::source::SourceFile;
use capable::target::Target;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// The allocator of the `capable` binary (src/main.rs), so that the bench measures what a
/// user runs; serde_json runs under it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One block of a realistic big policy, by position: exact, prefix and segment-wildcard
/// patterns over KV v2, KV, auth, database and transit, with an occasional deny.
fn block(i: usize) -> (String, &'static [&'static str]) {
    match i % 7 {
        0 => (format!("secret/data/team{i}/app"), &["read", "list"]),
        1 => (format!("secret/metadata/team{i}/*"), &["list"]),
        2 => (
            format!("auth/approle/role/team{i}/+/secret-id"),
            &["update"],
        ),
        3 => (format!("kv/team{i}/*"), &["create", "update"]),
        4 => (format!("database/creds/team{i}"), &["read"]),
        5 => (format!("secret/data/team{i}/private"), &["deny"]),
        _ => (format!("transit/encrypt/team{i}"), &["update"]),
    }
}

fn quoted(capabilities: &[&str]) -> String {
    let quoted: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
    quoted.join(", ")
}

/// The same policy of at least `bytes` bytes of HCL, as HCL and as JSON.
fn big_policy(bytes: usize) -> (String, String) {
    let mut hcl = String::with_capacity(bytes + 512);
    let mut json = String::from("{\"path\": {\n");
    let mut i = 0;
    while hcl.len() < bytes {
        let (pattern, capabilities) = block(i);
        let list = quoted(capabilities);
        hcl.push_str(&format!(
            "path \"{pattern}\" {{\n  capabilities = [{list}]\n}}\n"
        ));
        if i > 0 {
            json.push_str(",\n");
        }
        json.push_str(&format!("  \"{pattern}\": {{\"capabilities\": [{list}]}}"));
        i += 1;
    }
    json.push_str("\n}}\n");
    (hcl, json)
}

fn check(name: &str, text: &str, settings: &LintSettings<'_>) -> usize {
    let file = Arc::new(SourceFile::new(name, text));
    let parsed = parse_policy(file.clone(), Target::Vault);
    check_file(
        &file,
        &parsed.diagnostics,
        parsed.policy.as_ref(),
        Target::Vault,
        settings,
    )
    .len()
}

fn bench_check(c: &mut Criterion) {
    // `cargo test --all-targets` runs each bench once without `--bench`: a small policy
    // keeps that smoke run quick; the measured run uses the 10 MB policy.
    let size = if std::env::args().any(|arg| arg == "--bench") {
        10 * 1024 * 1024
    } else {
        64 * 1024
    };
    let (hcl, json) = big_policy(size);
    let rules = BTreeMap::new();
    let mounts = Mounts::default();
    let namespaces = capable::namespace::Namespaces::default();
    let accessors = Default::default();
    let settings = LintSettings {
        rules: &rules,
        mounts: &mounts,
        namespaces: &namespaces,
        accessors: &accessors,
    };
    let mut group = c.benchmark_group("check 10MB policy");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("serde_json Value (JSON)", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(black_box(&json)).expect("json");
            black_box(value)
        })
    });
    group.bench_function("check (JSON)", |b| {
        b.iter(|| black_box(check("big.json", black_box(&json), &settings)))
    });
    group.throughput(Throughput::Bytes(hcl.len() as u64));
    group.bench_function("check (HCL)", |b| {
        b.iter(|| black_box(check("big.hcl", black_box(&hcl), &settings)))
    });
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
