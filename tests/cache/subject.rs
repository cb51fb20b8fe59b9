//! One-subject queries read only the subject's policy files. The oracle is the whole load,
//! which the same command does when the tree holds a Terraform file (Terraform files carry
//! inventory, so such a tree is always loaded whole): an empty `.tf` file changes nothing
//! else, so the two runs must print the same, byte for byte.

use std::fmt::Write as _;
use std::path::Path;

use super::gen::{self, Rng};
use super::{example, example_copy};

/// A file whose only effect is that queries load the whole tree.
const WHOLE: &str = "zz-whole-load.tf";

fn run_all(dir: &Path, args: &[&str]) -> (i32, String, String) {
    crate::support::cli::capable(dir, args)
}

/// Runs `capable ARGS` in `dir` with the cache (`.capable_cache/` in `dir`'s tree).
fn run_cached(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = super::command(dir, args, &[])
        .output()
        .expect("run capable");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8 stdout"),
        String::from_utf8(output.stderr).expect("utf-8 stderr"),
    )
}

/// Runs `args` lazily (without the cache, then with it cold and warm: the configuration's
/// inventory sections and the resolved inventory come from it) and with the whole tree
/// loaded; all must agree (exit code, stdout, stderr). Returns the lazy run.
fn same_as_whole_load(tree: &Path, args: &[&str]) -> (i32, String, String) {
    let lazy = run_all(tree, args);
    let _ = std::fs::remove_dir_all(tree.join(super::CACHE));
    let cold = run_cached(tree, args);
    let warm = run_cached(tree, args);
    std::fs::write(tree.join(WHOLE), "").unwrap();
    let whole = run_all(tree, args);
    std::fs::remove_file(tree.join(WHOLE)).unwrap();
    assert_eq!(lazy, whole, "{args:?} in {}", tree.display());
    assert_eq!(cold, whole, "{args:?} in {}: cold cache", tree.display());
    assert_eq!(warm, whole, "{args:?} in {}: warm cache", tree.display());
    lazy
}

/// The role, entity and group flags of every subject of a `capable.yaml`.
fn subjects(tree: &Path) -> Vec<(&'static str, String)> {
    let config = capable::config::Config::load(&tree.join("capable.yaml"), "capable.yaml")
        .expect("a valid capable.yaml");
    let roles = config.roles.keys().map(|key| ("--role", key.clone()));
    let groups = config.groups.keys().map(|key| ("--group", key.clone()));
    let entities = config.entities.keys().map(|key| ("--entity", key.clone()));
    roles.chain(groups).chain(entities).collect()
}

/// Every query form for one subject.
fn queries(flag: &str, name: &str, paths: &[String]) -> Vec<Vec<String>> {
    let subject = [flag.to_string(), name.to_string()];
    let with = |words: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = words[..1].iter().map(|w| w.to_string()).collect();
        args.extend(subject.iter().cloned());
        args.extend(words[1..].iter().map(|w| w.to_string()));
        args
    };
    let mut all = vec![with(&["reach"]), with(&["reach", "--format", "json"])];
    let mut caps = with(&["caps", "--format", "json"]);
    caps.extend(paths.iter().cloned());
    all.push(caps);
    for path in paths.iter().take(3) {
        all.push(with(&["explain", "read", path]));
        all.push(with(&["explain", "--format", "json", "update", path]));
    }
    all
}

#[test]
fn one_subject_queries_match_the_whole_load_on_the_example() {
    let (_temp, tree) = example_copy();
    let paths: Vec<String> = [
        "secret/data/ai/openai",
        "secret/data/ai/anthropic",
        "ai-research/secret/data/models/x",
        "sys/policies/acl/x",
        "transit/encrypt/models",
        "auth/token/create",
    ]
    .map(String::from)
    .to_vec();
    let mut answered = 0;
    for (flag, name) in subjects(&tree) {
        for query in queries(flag, &name, &paths) {
            let args: Vec<&str> = query.iter().map(String::as_str).collect();
            let (code, stdout, stderr) = same_as_whole_load(&tree, &args);
            assert_eq!(code, 0, "{args:?}: {stderr}");
            assert!(!stdout.is_empty());
            answered += 1;
        }
    }
    assert!(answered > 50, "{answered} queries");
}

/// A generated tree: `policies` files (a few in folders), roles, groups and entities holding
/// random subsets of them.
fn generated_tree(rng: &mut Rng, dir: &Path, policies: usize) -> Vec<String> {
    let mut patterns = Vec::new();
    for index in 0..policies {
        let blocks = (0..1 + rng.below(5))
            .map(|_| {
                let pattern = gen::random_pattern(rng);
                patterns.push(pattern.trim_start_matches('/').replace(['*', '+'], "x"));
                gen::random_block(rng, pattern)
            })
            .collect();
        let policy = gen::GenPolicy {
            name: format!("p{index}"),
            blocks,
            json: rng.chance(10),
        };
        let folder = match index % 3 {
            0 => dir.to_path_buf(),
            1 => dir.join("team"),
            _ => dir.join("team/deep"),
        };
        std::fs::create_dir_all(&folder).unwrap();
        let extension = if policy.json { "json" } else { "hcl" };
        std::fs::write(folder.join(format!("p{index}.{extension}")), policy.text()).unwrap();
    }
    let pick = |rng: &mut Rng| -> String {
        let names: Vec<String> = (0..1 + rng.below(3))
            .map(|_| format!("p{}", rng.below(policies)))
            .collect();
        names.join(", ")
    };
    let mut yaml = String::from("target: openbao\nroles:\n");
    for index in 0..12 {
        let mount = if index % 2 == 0 {
            "kubernetes"
        } else {
            "userpass"
        };
        let _ = writeln!(yaml, "  {mount}/r{index}:\n    policies: [{}]", pick(rng));
        if rng.chance(30) {
            yaml.push_str("    token_no_default_policy: true\n");
        }
        if rng.chance(40) {
            let _ = writeln!(yaml, "    entity: e{}", rng.below(4));
        }
    }
    yaml.push_str("groups:\n");
    for index in 0..4 {
        let _ = writeln!(
            yaml,
            "  g{index}:\n    policies: [{}]\n    member_entities: [e{}]",
            pick(rng),
            rng.below(4)
        );
    }
    yaml.push_str("entities:\n");
    for index in 0..4 {
        let _ = writeln!(yaml, "  e{index}:\n    policies: [{}]", pick(rng));
    }
    std::fs::write(dir.join("capable.yaml"), yaml).unwrap();
    patterns.sort();
    patterns.dedup();
    patterns
}

#[test]
fn one_subject_queries_match_the_whole_load_on_generated_trees() {
    let mut rng = Rng::new(gen::seed(
        "one_subject_queries_match_the_whole_load_on_generated_trees",
    ));
    for _ in 0..2 {
        let temp = tempfile::tempdir().unwrap();
        let tree = temp.path().join("tree");
        let patterns = generated_tree(&mut rng, &tree, 30);
        let paths = gen::random_paths(&mut rng, &patterns, 6);
        for (flag, name) in subjects(&tree) {
            for query in queries(flag, &name, &paths).into_iter().step_by(2) {
                let args: Vec<&str> = query.iter().map(String::as_str).collect();
                same_as_whole_load(&tree, &args);
            }
        }
    }
}

/// The example with `broken.hcl` (a syntax error) held by a role of its own.
fn example_with_broken_policy() -> (tempfile::TempDir, std::path::PathBuf) {
    let (temp, tree) = example_copy();
    std::fs::write(
        tree.join("broken.hcl"),
        "path \"secret/data/x\" {\n  capabilities = [\"read\"\n",
    )
    .unwrap();
    let config = tree.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "roles:\n",
        "roles:\n  kubernetes/broken-role:\n    policies: [broken, auditor]\n",
    );
    std::fs::write(&config, text).unwrap();
    (temp, tree)
}

#[test]
fn a_broken_policy_stops_only_the_subjects_that_hold_it() {
    let (_temp, tree) = example_with_broken_policy();
    let question = ["read", "secret/data/ai/openai"];
    let ask = |role: &str| {
        let mut args = vec!["explain", "--role", role];
        args.extend(question);
        run_all(&tree, &args)
    };
    // A role that does not hold it is answered, as it is without the broken file.
    let answered = ask("kubernetes/inference-role");
    assert_eq!(answered.0, 0, "{}", answered.2);
    assert_eq!(
        answered,
        same_as_whole_load(&tree, &answered_args(&question))
    );
    assert_eq!(answered, run_all(&example(), &answered_args(&question)));
    // The role that holds it is not: the file's own error, then why.
    let (code, stdout, stderr) = ask("kubernetes/broken-role");
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("broken.hcl:"), "{stderr}");
    assert!(
        stderr
            .contains("role `kubernetes/broken-role` holds `broken.hcl`, which vault would refuse"),
        "{stderr}"
    );
    assert!(stderr.contains("help: run `capable check`"), "{stderr}");
    // Loaded whole, the same.
    let mut args = vec!["explain", "--role", "kubernetes/broken-role"];
    args.extend(question);
    assert_eq!(same_as_whole_load(&tree, &args), (code, stdout, stderr));
    // `who-can` answers for everyone else, and says why it cannot for that role.
    let (code, stdout, stderr) = run_all(
        &tree,
        &["who-can", "--all", "read", "secret/data/ai/openai"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kubernetes/broken-role"), "{stdout}");
    assert!(stdout.contains("would be refused"), "{stdout}");
    assert!(stdout.contains("kubernetes/inference-role"), "{stdout}");
    // `check` still reports the file.
    let (code, stdout, _) = run_all(&tree, &["check", "--no-cache"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("broken.hcl"), "{stdout}");
}

fn answered_args<'a>(question: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["explain", "--role", "kubernetes/inference-role"];
    args.extend_from_slice(question);
    args
}

#[test]
fn a_held_file_that_is_not_a_policy_is_answered_as_the_whole_load_does() {
    let (_temp, tree) = example_copy();
    // An agent configuration and a `.json` file without `path` named like policies a role
    // holds: neither is a policy, which only reading them tells.
    std::fs::write(
        tree.join("agentish.hcl"),
        "vault {\n  address = \"https://v\"\n}\n",
    )
    .unwrap();
    std::fs::write(tree.join("settings.json"), "{\"name\": \"x\"}\n").unwrap();
    let config = tree.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "roles:\n",
        "roles:\n  userpass/odd:\n    policies: [agentish, settings, auditor]\n",
    );
    std::fs::write(&config, text).unwrap();
    let (code, _, stderr) = same_as_whole_load(&tree, &["reach", "--role", "userpass/odd"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`agentish`, which does not exist"),
        "{stderr}"
    );
    // A role that holds neither is answered as in the example: that inventory error is about
    // another subject (`check` reports it).
    let args = ["reach", "--role", "kubernetes/inference-role"];
    assert_eq!(run_all(&tree, &args), run_all(&example(), &args));
    assert_eq!(run_all(&tree, &["check", "--no-cache"]).0, 1);
}

#[test]
fn the_cached_inventory_follows_edits_of_the_config_and_the_tree() {
    let (_temp, tree) = example_copy();
    let role = ["reach", "--role", "userpass/ada", "--format", "json"];
    let who = ["who-can", "--all", "read", "secret/data/ai/openai"];
    let agree = |args: &[&str], what: &str| {
        let uncached = run_all(&tree, args);
        assert_eq!(run_cached(&tree, args), uncached, "{args:?} {what}: cold");
        assert_eq!(run_cached(&tree, args), uncached, "{args:?} {what}: warm");
        uncached
    };
    let before = agree(&role, "as given");
    let who_before = agree(&who, "as given");
    assert!(before.1.contains("auditor"), "{}", before.1);
    let config = tree.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    // The group's policy changes: the cached inventory must not answer.
    let edited = text.replace("policies: [auditor]", "policies: [model-eval]");
    assert_ne!(edited, text);
    std::fs::write(&config, &edited).unwrap();
    let after = agree(&role, "after the group's edit");
    assert_ne!(after, before);
    assert!(after.1.contains("model-eval"), "{}", after.1);
    assert_ne!(agree(&who, "after the group's edit"), who_before);
    // A reference to a policy that is not there is an error, until the file appears.
    std::fs::write(&config, edited.replace("[model-eval]", "[later]")).unwrap();
    let missing = agree(&role, "with a missing policy");
    assert_eq!(missing.0, 2, "{missing:?}");
    assert!(
        missing.2.contains("`later`, which does not exist"),
        "{}",
        missing.2
    );
    std::fs::copy(tree.join("auditor.hcl"), tree.join("later.hcl")).unwrap();
    let found = agree(&role, "once the policy exists");
    assert_eq!(found.0, 0, "{}", found.2);
    assert!(found.1.contains("later"), "{}", found.1);
    // An inventory error about another subject stops every query, cached or not.
    let broken = text.replace("entity: rita", "entity: nobody");
    std::fs::write(&config, broken).unwrap();
    let stopped = agree(&role, "with an error elsewhere");
    assert_eq!(stopped.0, 2);
    assert!(stopped.2.contains("entity `nobody`"), "{}", stopped.2);
}

#[test]
fn damaged_inventory_entries_are_ignored_and_written_again() {
    let (_temp, tree) = example_copy();
    let args = ["explain", "--role", "rita", "read", "secret/data/ai/openai"];
    let uncached = run_all(&tree, &args);
    assert_eq!(run_cached(&tree, &args), uncached);
    let entries = super::entries(&tree);
    assert!(!entries.is_empty());
    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(entry, &bytes[..bytes.len() - 1]).unwrap();
    }
    assert_eq!(run_cached(&tree, &args), uncached);
    assert_eq!(run_cached(&tree, &args), uncached);
}
