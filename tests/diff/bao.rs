//! The diff against a real OpenBao: random BASE/HEAD policy sets are installed in a dev
//! server, one token per side. Every reported witness is confirmed by `sys/capabilities` on
//! both tokens (held after and not before for gained, the reverse for lost, held on both for
//! changed), and random probe paths find no change the diff did not report. `sys/capabilities`
//! answers with the list-mode lookup, which is the listing view for paths ending in `/` and
//! the request view otherwise; request-view witnesses ending in `/` are not asked. Sudo on
//! root-protected paths is applied to the server's capability lists as spec 6 says.

use std::sync::Arc;

use capable::acl::builtin::requires_sudo;
use capable::config::Config;
use capable::diff::{diff, ChangeKind, Options, SideInput, SubjectDiff};
use capable::inventory::{Inventory, Subject};
use capable::policy::Capability;
use capable::query::reach::View;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;

use crate::gen::{self, GenPolicy, Rng};
use crate::support::bao::Bao;

const ROUNDS: usize = 24;
const PROBES_PER_ROUND: usize = 150;
const ROLE: &str = "userpass/u";

fn workspace(policies: &[GenPolicy]) -> Workspace {
    let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    let yaml = format!(
        "target: openbao\nroles:\n  {ROLE}:\n    policies: [{}]\n    token_no_default_policy: true\n",
        names.join(", ")
    );
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", yaml)),
        std::path::PathBuf::from("."),
    )
    .expect("generated config");
    let sources = policies
        .iter()
        .map(|p| Arc::new(SourceFile::new(format!("{}.hcl", p.name), p.text())))
        .collect();
    Workspace::from_sources(config, Target::OpenBao, sources).expect("workspace")
}

fn install(bao: &Bao, policies: &[GenPolicy]) -> String {
    for policy in policies {
        let answer = bao.put_policy(&policy.name, &policy.text());
        assert_eq!(
            answer.status,
            204,
            "OpenBao refused:\n{}\n{}",
            policy.text(),
            answer.errors()
        );
    }
    let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    bao.token_with(&names)
}

/// HEAD: BASE with one block replaced, dropped or added (renamed), or a fresh set.
fn head_of(rng: &mut Rng, base: &[GenPolicy], pool: &[String], round: usize) -> Vec<GenPolicy> {
    let mut head: Vec<GenPolicy> = base.to_vec();
    for (index, policy) in head.iter_mut().enumerate() {
        policy.name = format!("h{round}-{index}");
    }
    let policy = rng.below(head.len());
    let blocks = &mut head[policy].blocks;
    let pattern = rng.pick(pool).clone();
    let block = gen::random_block(rng, pattern);
    match rng.below(4) {
        0 => {
            let at = rng.below(blocks.len());
            blocks[at] = block;
        }
        1 if blocks.len() > 1 => {
            blocks.remove(rng.below(blocks.len()));
        }
        1 | 2 => blocks.push(block),
        _ => {
            let (fresh, _) = gen::random_policy_set(rng, &format!("h{round}"));
            return fresh;
        }
    }
    head
}

/// Whether the server's answer for a path holds the capability, sudo protection applied.
fn held(names: &[String], capability: Capability, path: &str) -> bool {
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("deny") {
        return false;
    }
    has(capability.name()) && (!requires_sudo(Target::OpenBao, path) || has("sudo"))
}

fn view_of(path: &str) -> View {
    if path.ends_with('/') {
        View::Listing
    } else {
        View::Request
    }
}

fn capabilities(view: View) -> &'static [Capability] {
    match view {
        View::Listing => &[Capability::List, Capability::Scan],
        View::Request => &[
            Capability::Read,
            Capability::Create,
            Capability::Update,
            Capability::Patch,
            Capability::Delete,
            Capability::Sudo,
        ],
    }
}

#[test]
fn witnesses_and_probes_agree_with_openbao() {
    let seed = gen::seed("witnesses_and_probes_agree_with_openbao");
    let mut rng = Rng::new(seed);
    let bao = Bao::start();
    let (mut confirmed, mut probed, mut changed_probes) = (0, 0, 0);
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let mut round_rng = rng.fork();
        let (base, pool) = gen::random_policy_set(&mut round_rng, &format!("b{round}"));
        let head = head_of(&mut round_rng, &base, &pool, round);
        let (base_ws, head_ws) = (workspace(&base), workspace(&head));
        if base_ws.policies.len() != base.len() || head_ws.policies.len() != head.len() {
            failures.push(format!(
                "round {round}: we refused a policy OpenBao accepts"
            ));
            continue;
        }
        let inventory =
            |ws: &Workspace| Inventory::new(&ws.config, &ws.policies).expect("inventory");
        let (base_inv, head_inv) = (inventory(&base_ws), inventory(&head_ws));
        let answer = diff(
            &SideInput {
                workspace: &base_ws,
                inventory: Some(&base_inv),
            },
            &SideInput {
                workspace: &head_ws,
                inventory: Some(&head_inv),
            },
            &Options::default(),
        )
        .expect("decided");
        let role = Subject::Role(ROLE.to_string());
        let subject: Option<&SubjectDiff> = answer.subjects.iter().find(|s| s.subject == role);
        let (base_token, head_token) = (install(&bao, &base), install(&bao, &head));
        let changes = subject.map(|s| s.changes.as_slice()).unwrap_or_default();
        let witnesses: Vec<String> = changes
            .iter()
            .filter(|change| view_of(&change.witness) == change.view)
            .map(|change| change.witness.clone())
            .collect();
        let mut probes = gen::random_paths(&mut round_rng, &pool, PROBES_PER_ROUND);
        probes.retain(|path| !path.starts_with('/'));
        let mut asked = witnesses.clone();
        asked.extend(probes.iter().cloned());
        asked.sort();
        asked.dedup();
        let before = bao.capabilities(&base_token, &asked);
        let after = bao.capabilities(&head_token, &asked);
        for change in changes.iter().filter(|c| view_of(&c.witness) == c.view) {
            let path = &change.witness;
            let (b, h) = (
                held(&before[path], change.capability, path),
                held(&after[path], change.capability, path),
            );
            let agrees = match change.kind {
                ChangeKind::Gained => h && !b,
                ChangeKind::Lost => b && !h,
                ChangeKind::Changed => b && h,
            };
            confirmed += 1;
            if !agrees {
                failures.push(format!(
                    "round {round}: {:?} {} witness `{path}`: OpenBao says {:?} → {:?}\nbase:\n{}\nhead:\n{}",
                    change.kind, change.capability, before[path], after[path],
                    base.iter().map(GenPolicy::text).collect::<String>(),
                    head.iter().map(GenPolicy::text).collect::<String>()
                ));
            }
        }
        for path in &probes {
            probed += 1;
            let view = view_of(path);
            for capability in capabilities(view) {
                let (b, h) = (
                    held(&before[path], *capability, path),
                    held(&after[path], *capability, path),
                );
                if b == h {
                    continue;
                }
                changed_probes += 1;
                let kind = if h {
                    ChangeKind::Gained
                } else {
                    ChangeKind::Lost
                };
                let reported = changes.iter().any(|change| {
                    change.view == view
                        && change.capability == *capability
                        && change.kind == kind
                        && subject.is_some_and(|s| s.holds(change, path))
                });
                if !reported {
                    failures.push(format!(
                        "round {round}: OpenBao says {capability} {kind:?} on `{path}` ({:?} → {:?}), the diff did not report it",
                        before[path], after[path]
                    ));
                }
            }
        }
    }
    println!("{confirmed} witnesses confirmed, {probed} probes, {changed_probes} changed probes");
    assert!(
        failures.is_empty(),
        "CAPABLE_SEED={seed}: {} disagreements with OpenBao, first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        confirmed >= ROUNDS,
        "CAPABLE_SEED={seed}: only {confirmed} witnesses checked"
    );
    assert!(
        changed_probes > 0,
        "CAPABLE_SEED={seed}: no probe saw a change"
    );
}
