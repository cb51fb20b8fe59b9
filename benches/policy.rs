//! Performance targets: parsing a 10 MB policy file (HCL1 and JSON, next to serde_json reading
//! the same JSON into a `Value` in the same group, so the ratio is read from one run), building
//! an ACL from 10,000 policies, deciding exact, prefix and wildcard-heavy paths, and `reach` on
//! a large policy. Run with `cargo bench --bench policy`.

use std::hint::black_box;
use std::sync::Arc;

use capable::acl::{Acl, Operation, Request};
use capable::hcl1;
use capable::policy::{parse_policy, Policy};
use capable::query::reach::Reach;
use capable::source::SourceFile;
use capable::target::Target;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// One block of a realistic policy: exact, prefix and segment-wildcard patterns.
fn block(i: usize) -> String {
    format!(
        "# team {i}\npath \"secret/data/team{i}/app\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n\
         path \"secret/metadata/team{i}/*\" {{\n  capabilities = [\"list\"]\n}}\n\
         path \"auth/approle/team{i}/+/secret-id\" {{\n  capabilities = [\"update\"]\n  \
         allowed_parameters = {{\n    \"metadata\" = []\n  }}\n}}\n"
    )
}

/// A policy text of at least `bytes` bytes.
fn big_policy(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 512);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&block(i));
        i += 1;
    }
    text
}

fn parse(name: &str, text: &str) -> Policy {
    let parsed = parse_policy(Arc::new(SourceFile::new(name, text)), Target::OpenBao);
    parsed.policy.expect("benchmark policies are valid")
}

/// The same rules as `big_policy`, written as a JSON policy (the object form).
fn big_json_policy(bytes: usize) -> String {
    let mut rules = serde_json::Map::new();
    let mut i = 0;
    let mut size = 0;
    while size < bytes {
        let entries = [
            (
                format!("secret/data/team{i}/app"),
                serde_json::json!({"capabilities": ["read", "list"]}),
            ),
            (
                format!("secret/metadata/team{i}/*"),
                serde_json::json!({"capabilities": ["list"]}),
            ),
            (
                format!("auth/approle/team{i}/+/secret-id"),
                serde_json::json!({"capabilities": ["update"], "allowed_parameters": {"metadata": []}}),
            ),
        ];
        for (pattern, body) in entries {
            size += pattern.len() + body.to_string().len() + 8;
            rules.insert(pattern, body);
        }
        i += 1;
    }
    serde_json::to_string_pretty(&serde_json::json!({ "path": rules })).expect("json")
}

fn bench_parse(c: &mut Criterion) {
    let text = big_policy(10 * 1024 * 1024);
    let json = big_json_policy(10 * 1024 * 1024);
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("10MB policy", |b| {
        b.iter(|| black_box(parse("big.hcl", black_box(&text))))
    });
    group.bench_function("10MB HCL1 syntax tree", |b| {
        b.iter(|| black_box(hcl1::parse(black_box(&text)).expect("valid")))
    });
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("10MB JSON policy", |b| {
        b.iter(|| black_box(parse("big.json", black_box(&json))))
    });
    group.bench_function("10MB JSON syntax tree", |b| {
        b.iter(|| black_box(hcl1::parse(black_box(&json)).expect("valid")))
    });
    group.bench_function("10MB JSON serde_json Value", |b| {
        b.iter(|| {
            black_box(serde_json::from_str::<serde_json::Value>(black_box(&json)).expect("valid"))
        })
    });
    group.finish();
}

fn bench_reach(c: &mut Criterion) {
    // 100,000 blocks: exact, prefix and `+` rules, plus a catch-all deny every region overlaps.
    let mut text = big_policy(0);
    let mut i = 0;
    while i < 33_334 {
        text.push_str(&block(i));
        i += 1;
    }
    text.push_str("path \"+/*\" {\n  capabilities = [\"deny\"]\n}\n");
    let policy = parse("reach.hcl", &text);
    let acl = Acl::new(&[&policy], Target::OpenBao, None).expect("acl");
    let mut group = c.benchmark_group("reach");
    group.sample_size(10);
    group.bench_function("100,000 blocks, every capability", |b| {
        b.iter(|| {
            let reach = Reach::new(black_box(&acl));
            for capability in reach.granted_capabilities() {
                black_box(reach.capability(capability, None));
            }
        })
    });
    group.finish();
}

fn many_policies(count: usize) -> Vec<Policy> {
    (0..count)
        .map(|i| parse(&format!("p{i}.hcl"), &block(i)))
        .collect()
}

fn bench_acl(c: &mut Criterion) {
    let policies = many_policies(10_000);
    let held: Vec<&Policy> = policies.iter().collect();
    let mut group = c.benchmark_group("acl");
    group.sample_size(10);
    group.bench_function("build from 10,000 policies", |b| {
        b.iter(|| black_box(Acl::new(black_box(&held), Target::OpenBao, None).expect("acl")))
    });
    group.finish();

    let acl = Acl::new(&held, Target::OpenBao, None).expect("acl");
    let mut group = c.benchmark_group("decide");
    let cases = [
        ("exact", Operation::Read, "secret/data/team5000/app"),
        ("prefix", Operation::List, "secret/metadata/team5000/x/y/"),
        (
            "wildcard",
            Operation::Update,
            "auth/approle/team5000/x/secret-id",
        ),
        ("miss", Operation::Read, "kv/nothing/here"),
    ];
    for (name, operation, path) in cases {
        let request = Request::new(operation, path);
        group.bench_function(name, |b| {
            b.iter(|| black_box(acl.authorize(black_box(&request))))
        });
        group.bench_function(format!("{name} capabilities"), |b| {
            b.iter(|| black_box(acl.capabilities(black_box(path))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse, bench_acl, bench_reach);
criterion_main!(benches);
