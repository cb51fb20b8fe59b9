//! `diff` of two trees of 1,000 policies and 1,000 roles (each role holds two team policies
//! and `default`), HEAD widening 10 policies and reformatting 20 others. Goal: under 2 s.
//!
//! Cost (see `capable::diff`): every subject's two ACLs are merged and compared by meaning
//! (O(S × P log P) for S subjects of P rules); only the subjects holding a widened policy get
//! a cell-by-cell diff.

use std::sync::Arc;

use capable::config::Config;
use capable::diff::{diff, Options, SideInput};
use capable::inventory::Inventory;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use criterion::{criterion_group, criterion_main, Criterion};

const TEAMS: usize = 1000;

fn policy(team: usize, widened: bool, reformatted: bool) -> String {
    let data = if widened {
        "secret/data/*".to_string()
    } else {
        format!("secret/data/team-{team}/*")
    };
    let text = format!(
        "path \"{data}\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n\
         path \"secret/data/team-{team}/admin\" {{\n  capabilities = [\"deny\"]\n}}\n\
         path \"secret/metadata/team-{team}/*\" {{\n  capabilities = [\"list\"]\n}}\n\
         path \"database/creds/team-{team}\" {{\n  capabilities = [\"read\"]\n}}\n\
         path \"kv/+/team-{team}\" {{\n  capabilities = [\"read\", \"update\"]\n  required_parameters = [\"owner\"]\n}}\n"
    );
    if reformatted {
        format!("# reformatted\n\n{}", text.replace("  ", "    "))
    } else {
        text
    }
}

fn side(head: bool) -> Workspace {
    let mut yaml = String::from("target: vault\nroles:\n");
    for team in 0..TEAMS {
        yaml.push_str(&format!(
            "  kubernetes/team-{team}:\n    policies: [team-{team}, team-{}]\n",
            (team + 1) % TEAMS
        ));
    }
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", yaml)),
        std::path::PathBuf::from("."),
    )
    .expect("config");
    let sources = (0..TEAMS)
        .map(|team| {
            let widened = head && team % 100 == 7;
            let reformatted = head && team % 50 == 3;
            Arc::new(SourceFile::new(
                format!("team-{team}.hcl"),
                policy(team, widened, reformatted),
            ))
        })
        .collect();
    Workspace::from_sources(config, Target::Vault, sources).expect("workspace")
}

fn bench(c: &mut Criterion) {
    let (base, head) = (side(false), side(true));
    let base_inventory = Inventory::new(&base.config, &base.policies).expect("inventory");
    let head_inventory = Inventory::new(&head.config, &head.policies).expect("inventory");
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    group.bench_function("1000-policies-1000-roles", |b| {
        b.iter(|| {
            let answer = diff(
                &SideInput {
                    workspace: &base,
                    inventory: Some(&base_inventory),
                },
                &SideInput {
                    workspace: &head,
                    inventory: Some(&head_inventory),
                },
                &Options::default(),
            )
            .expect("decided");
            assert_eq!(answer.compared, 2 * TEAMS);
            assert!(!answer.subjects.is_empty());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
