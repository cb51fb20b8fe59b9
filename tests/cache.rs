//! What commands read: the findings cache (`.capable_cache/`) gives exactly the output of
//! checking every file, and one-subject queries (`explain`, `caps`, `reach` for a role,
//! entity or group), which read only the subject's policies, give exactly the output of
//! loading the whole tree (`subject`).

mod support;

#[path = "support/gen.rs"]
mod gen;

#[path = "cache/subject.rs"]
mod subject;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CACHE: &str = ".capable_cache";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/policies");

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capable"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CAPABLE_NO_CACHE")
        .env_remove("CAPABLE_CACHE_DIR");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// (exit code, stdout): what a cached and an uncached run must agree on.
fn outcome(output: Output) -> (i32, String) {
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8 stdout"),
    )
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    outcome(command(dir, args, &[]).output().expect("run capable"))
}

fn run_uncached(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = command(dir, args, &[("CAPABLE_NO_CACHE", "1")])
        .output()
        .expect("run capable");
    outcome(output)
}

/// Copies a folder tree (files and folders only), without a cache folder: the README's main
/// command leaves `policies/.capable_cache/` behind, and the tests start from none.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == CACHE {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the example tree in a fresh temporary folder (its cache lands there).
fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("policies");
    copy_tree(&example(), &tree);
    assert!(!tree.join(CACHE).exists());
    (temp, tree)
}

/// The cache entries (not the `.gitignore`), sorted.
fn entries(tree: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(tree.join(CACHE)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = listing
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().is_some_and(|name| name != ".gitignore"))
        .collect();
    found.sort();
    found
}

const CHECKS: &[&[&str]] = &[
    &["check", "--format", "json"],
    &["check"],
    &["check", "--target", "openbao", "--format", "sarif"],
    &["test", "--format", "json"],
    &["test"],
];

#[test]
fn cached_and_uncached_runs_agree_on_the_example() {
    let (_temp, tree) = example_copy();
    for (index, args) in CHECKS.iter().enumerate() {
        let uncached = run_uncached(&tree, args);
        if index == 0 {
            assert!(!tree.join(CACHE).exists(), "CAPABLE_NO_CACHE wrote a cache");
        }
        let cold = run(&tree, args);
        let warm = run(&tree, args);
        assert_eq!(cold, uncached, "{args:?}: cold cache");
        assert_eq!(warm, uncached, "{args:?}: warm cache");
    }
    let ignore = std::fs::read_to_string(tree.join(CACHE).join(".gitignore")).unwrap();
    assert_eq!(ignore.lines().last(), Some("*"), "{ignore}");
    // One pack of findings, with an entry per policy file and target, and the inventory
    // entries; none left half-written.
    let policy_files = ["ai-inference-service", "auditor", "key-rotation"];
    let packs: Vec<PathBuf> = entries(&tree)
        .into_iter()
        .filter(|entry| is_pack(entry))
        .collect();
    let [pack] = packs.try_into().expect("one findings pack");
    let text = String::from_utf8_lossy(&std::fs::read(pack).unwrap()).into_owned();
    let count: usize = text.lines().nth(1).unwrap().parse().unwrap();
    assert!(count > policy_files.len(), "{count} entries");
    assert!(entries(&tree)
        .iter()
        .all(|entry| is_pack(entry) || entry.file_name().unwrap().len() == 64));
}

/// Whether `entry` is a findings pack (`findings-<build>.pack`).
fn is_pack(entry: &Path) -> bool {
    let name = entry.file_name().unwrap().to_string_lossy();
    name.starts_with("findings-") && name.ends_with(".pack")
}

#[test]
fn cached_and_uncached_runs_agree_on_a_corpus_sample() {
    let corpus = Path::new(CORPUS);
    assert!(corpus.is_dir(), "the corpus is missing at {CORPUS}");
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("capable.yaml"), "target: vault\n").unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    // Every file under a name of its own (several corpus files share a stem).
    let mut stems = std::collections::BTreeSet::new();
    for file in files.iter().filter(|file| file.is_file()) {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        if stems.insert(stem.clone()) {
            let extension = file
                .extension()
                .map_or("hcl".into(), |e| e.to_string_lossy());
            std::fs::copy(file, tree.join(format!("{stem}.{extension}"))).unwrap();
        }
    }
    assert!(stems.len() > 50, "{} files", stems.len());
    for target in ["vault", "openbao"] {
        let args = ["check", "--format", "json", "--target", target];
        let uncached = run_uncached(&tree, &args);
        assert!(uncached.1.contains("\"version\""), "{uncached:?}");
        assert_eq!(run(&tree, &args), uncached, "{target}: cold cache");
        assert_eq!(run(&tree, &args), uncached, "{target}: warm cache");
    }
}

#[test]
fn an_edited_file_is_parsed_again() {
    let (_temp, tree) = example_copy();
    let args = ["check", "--format", "json"];
    let before = run(&tree, &args);
    assert_eq!(run(&tree, &args), before);
    let file = tree.join("auditor.hcl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\npath \"secret/data/edited\" {\n  capabilities = [\"lits\"]\n}\n");
    std::fs::write(&file, text).unwrap();
    let after = run(&tree, &args);
    assert_ne!(after, before);
    assert!(
        after.1.contains("lits"),
        "the edit's error is missing: {}",
        after.1
    );
    assert_eq!(after, run_uncached(&tree, &args));
}

/// A Terraform file's findings come from the cache too, keyed by what it extracted: an edit
/// of the `.tf` file, of a file its `file()` reads outside the checked folder, or making that
/// file unreadable, each gives the uncached run's output.
#[test]
fn terraform_findings_follow_the_files_they_come_from() {
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("repo");
    std::fs::create_dir_all(tree.join("tf")).unwrap();
    std::fs::create_dir_all(tree.join("hcl")).unwrap();
    std::fs::write(tree.join("capable.yaml"), "target: vault\n").unwrap();
    let main = tree.join("tf/main.tf");
    let heredoc = |capability: &str| {
        format!(
            "resource \"vault_policy\" \"a\" {{\n  name   = \"a\"\n  policy = <<EOT\n\
             path \"secret/data/a/*\" {{\n  capabilities = [\"{capability}\"]\n}}\nEOT\n}}\n\
             resource \"vault_policy\" \"b\" {{\n  name   = \"b\"\n  policy = file(\"../hcl/b.hcl\")\n}}\n"
        )
    };
    let read_by_file = tree.join("hcl/b.hcl");
    std::fs::write(&main, heredoc("read")).unwrap();
    std::fs::write(
        &read_by_file,
        "path \"sys/raw/*\" {\n  capabilities = [\"read\"]\n}\n",
    )
    .unwrap();
    let args = ["check", "--format", "json", "tf"];
    let agree = |step: &str| {
        let uncached = run_uncached(&tree, &args);
        assert!(uncached.1.contains("\"version\""), "{step}: {uncached:?}");
        assert_eq!(run(&tree, &args), uncached, "{step}: cold or warm");
        assert_eq!(run(&tree, &args), uncached, "{step}: warm");
        uncached
    };
    let first = agree("first");
    assert!(first.1.contains("sudo-missing"), "{}", first.1);
    assert!(!entries(&tree).is_empty(), "no entries written");
    std::fs::write(&main, heredoc("lits")).unwrap();
    let edited = agree("edited heredoc");
    assert!(edited.1.contains("lits"), "{}", edited.1);
    std::fs::write(
        &read_by_file,
        "path \"secret/data/b\" {\n  capabilities = [\"read\"]\n}\n",
    )
    .unwrap();
    let edited_file = agree("edited file()");
    assert!(!edited_file.1.contains("sudo-missing"), "{}", edited_file.1);
    std::fs::remove_file(&read_by_file).unwrap();
    let missing = agree("missing file()");
    assert_ne!(missing, edited_file);
}

#[test]
fn corrupt_entries_are_ignored_and_written_again() {
    let (_temp, tree) = example_copy();
    let args = ["check", "--format", "json"];
    let uncached = run_uncached(&tree, &args);
    assert_eq!(run(&tree, &args), uncached);
    let written: Vec<(PathBuf, Vec<u8>)> = entries(&tree)
        .into_iter()
        .map(|entry| {
            let bytes = std::fs::read(&entry).unwrap();
            (entry, bytes)
        })
        .collect();
    assert!(!written.is_empty());
    for (index, (entry, bytes)) in written.iter().enumerate() {
        let damaged = match index % 4 {
            0 => bytes[..bytes.len() / 2].to_vec(),
            1 => Vec::new(),
            2 => b"{\"Agent\":null}".to_vec(),
            _ => {
                let mut flipped = bytes.clone();
                flipped[bytes.len() / 3] ^= 0x20;
                flipped
            }
        };
        std::fs::write(entry, damaged).unwrap();
    }
    assert_eq!(run(&tree, &args), uncached);
    for (entry, bytes) in &written {
        assert_eq!(
            &std::fs::read(entry).unwrap(),
            bytes,
            "{entry:?} not rewritten"
        );
    }
}

#[test]
fn concurrent_runs_share_the_cache_safely() {
    let (_temp, tree) = example_copy();
    let args = ["check", "--format", "json"];
    let uncached = run_uncached(&tree, &args);
    for round in 0..2 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                command(&tree, &args, &[])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert_eq!(outcome(output), uncached, "round {round}");
        }
    }
    assert_eq!(run(&tree, &args), uncached);
    let leftovers: Vec<_> = std::fs::read_dir(tree.join(CACHE))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".gitignore" && name.len() != 64 && !is_pack(Path::new(name)))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn the_cache_can_be_turned_off_and_needs_a_workspace_root() {
    let (temp, tree) = example_copy();
    let role = ["reach", "--role", "kubernetes/inference-role"];
    let who = ["who-can", "read", "secret/data/ai/openai"];
    run(&tree, &["check", "--no-cache"]);
    run(&tree, &["test", "--no-cache"]);
    run(&tree, &[&role[..], &["--no-cache"]].concat());
    run(&tree, &[&who[..1], &["--no-cache"], &who[1..]].concat());
    assert!(!tree.join(CACHE).exists(), "--no-cache wrote a cache");
    let config = tree.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\ncache: false\n")).unwrap();
    let (code, _) = run(&tree, &["check"]);
    assert!(code < 2, "`cache: false` refused");
    assert_eq!(run(&tree, &role).0, 0);
    assert_eq!(run(&tree, &who).0, 0);
    assert!(!tree.join(CACHE).exists(), "`cache: false` wrote a cache");
    // The queries keep the configuration and the inventory there otherwise.
    std::fs::write(&config, &text).unwrap();
    assert_eq!(run(&tree, &role).0, 0);
    assert_eq!(entries(&tree).len(), 2, "{:?}", entries(&tree));
    std::fs::remove_dir_all(tree.join(CACHE)).unwrap();
    std::fs::write(&config, format!("{text}\ncache: false\n")).unwrap();
    // No capable.yaml: a folder checked on its own gets no cache...
    let bare = temp.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::copy(tree.join("auditor.hcl"), bare.join("auditor.hcl")).unwrap();
    let (code, stdout) = run(temp.path(), &["check", "--format", "json", "bare"]);
    assert!(code < 2, "{stdout}");
    assert!(!bare.join(CACHE).exists() && !temp.path().join(CACHE).exists());
    // ... unless CAPABLE_CACHE_DIR names one.
    let elsewhere = temp.path().join("elsewhere");
    let args = ["check", "--format", "json", "bare"];
    let dir = elsewhere.to_str().unwrap();
    let cached = command(temp.path(), &args, &[("CAPABLE_CACHE_DIR", dir)])
        .output()
        .unwrap();
    assert_eq!(outcome(cached), (code, stdout));
    assert!(elsewhere.join(".gitignore").is_file());
    // The `.gitignore` and the file's findings.
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 2);
}

#[test]
fn changed_lint_settings_check_again() {
    let (_temp, tree) = example_copy();
    std::fs::write(
        tree.join("wide.hcl"),
        "path \"secret/*\" {\n  capabilities = [\"read\", \"sudo\"]\n}\n",
    )
    .unwrap();
    let args = ["check", "--format", "concise"];
    let before = run(&tree, &args);
    assert_eq!(run(&tree, &args), before);
    assert!(before.1.contains("broad-secret-access"), "{}", before.1);
    let config = tree.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    for settings in [
        "rules:\n  broad-secret-access: off\n",
        "rules:\n  broad-secret-access: error\n",
    ] {
        std::fs::write(&config, format!("{text}\n{settings}")).unwrap();
        let after = run(&tree, &args);
        assert_ne!(after, before, "{settings}");
        assert_eq!(after, run_uncached(&tree, &args), "{settings}");
    }
    // The same file under another name is checked under that name.
    std::fs::rename(tree.join("wide.hcl"), tree.join("wider.hcl")).unwrap();
    let renamed = run(&tree, &args);
    assert!(renamed.1.contains("wider.hcl"), "{}", renamed.1);
    assert_eq!(renamed, run_uncached(&tree, &args));
}

/// The number of entries in the tree's findings pack (its second line).
fn pack_entries(tree: &Path) -> usize {
    let packs: Vec<PathBuf> = entries(tree)
        .into_iter()
        .filter(|entry| is_pack(entry))
        .collect();
    let [pack] = packs.try_into().expect("one findings pack");
    let text = String::from_utf8_lossy(&std::fs::read(pack).unwrap()).into_owned();
    text.lines().nth(1).unwrap().parse().unwrap()
}

/// Role-level findings (merged ACLs) are kept per distinct subject: each distinct role adds
/// one entry, and an edit of a held policy, of the roles or of an entity's metadata (read
/// by a template) gives the uncached run's output.
#[test]
fn role_findings_follow_policies_roles_and_identities() {
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("repo");
    std::fs::create_dir_all(&tree).unwrap();
    let write = |name: &str, text: &str| std::fs::write(tree.join(name), text).unwrap();
    write(
        "deny.hcl",
        "path \"secret/data/team/*\" {\n  capabilities = [\"deny\"]\n}\n",
    );
    write(
        "grant.hcl",
        "path \"secret/data/team/app\" {\n  capabilities = [\"read\"]\n}\n",
    );
    write(
        "mine.hcl",
        "path \"secret/data/{{identity.entity.metadata.team}}/*\" {\n  capabilities = [\"read\"]\n}\n",
    );
    let config = |roles: &str, metadata: &str| {
        format!(
            "target: vault\nroles:\n{roles}  userpass/rita:\n    entity: rita\n\
             groups:\n  mine:\n    policies: [mine]\n    member_entities: [rita]\n\
             entities:\n  rita:\n    metadata: {{{metadata}}}\n    aliases:\n      - {{mount: userpass, name: rita}}\n"
        )
    };
    let both =
        "  approle/both:\n    policies: [deny, grant]\n  approle/deny:\n    policies: [deny]\n";
    let args = ["check", "--format", "json"];
    let agree = |step: &str| {
        let uncached = run_uncached(&tree, &args);
        assert!(uncached.1.contains("\"version\""), "{step}: {uncached:?}");
        assert_eq!(run(&tree, &args), uncached, "{step}: cold or warm");
        assert_eq!(run(&tree, &args), uncached, "{step}: warm");
        uncached
    };
    write("capable.yaml", &config("", "team: platform"));
    agree("no roles");
    let without_roles = pack_entries(&tree);
    std::fs::remove_dir_all(tree.join(CACHE)).unwrap();
    write("capable.yaml", &config(both, "team: platform"));
    let first = agree("first");
    assert!(first.1.contains("overridden-deny"), "{}", first.1);
    assert!(!first.1.contains("unresolved-template"), "{}", first.1);
    // Two roles added, each with its own entry.
    assert_eq!(pack_entries(&tree), without_roles + 2);
    write(
        "grant.hcl",
        "path \"secret/data/other/app\" {\n  capabilities = [\"read\"]\n}\n",
    );
    let edited = agree("edited grant");
    assert!(!edited.1.contains("overridden-deny"), "{}", edited.1);
    write(
        "grant.hcl",
        "path \"secret/data/team/app\" {\n  capabilities = [\"read\"]\n}\n",
    );
    assert_eq!(agree("grant restored"), first);
    write(
        "capable.yaml",
        &config("  approle/both:\n    policies: [deny]\n", "team: platform"),
    );
    let dropped = agree("role holds deny only");
    assert!(!dropped.1.contains("overridden-deny"), "{}", dropped.1);
    write("capable.yaml", &config(both, "region: eu"));
    let unresolved = agree("metadata without team");
    assert!(
        unresolved.1.contains("unresolved-template"),
        "{}",
        unresolved.1
    );
}
