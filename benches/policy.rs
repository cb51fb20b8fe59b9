//! Performance targets: parsing a 10 MB policy file, building an ACL from 10,000 policies, and
//! deciding exact, prefix and wildcard-heavy paths. Run with `cargo bench --bench policy`.

use std::hint::black_box;
use std::sync::Arc;

use capable::acl::{Acl, Operation, Request};
use capable::policy::{parse_policy, Policy};
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

fn bench_parse(c: &mut Criterion) {
    let text = big_policy(10 * 1024 * 1024);
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("10MB policy", |b| {
        b.iter(|| black_box(parse("big.hcl", black_box(&text))))
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

criterion_group!(benches, bench_parse, bench_acl);
criterion_main!(benches);
