use std::cell::Cell;

use super::*;
use crate::policy::parse_policy;

const POLICY: &str = "path \"secret/data/a\" {\n  capabilities = [\"read\", \"list\"]\n}\n\
path \"secret/data/b/*\" {\n  capabilities = [\"list\"]\n  allowed_parameters = {\"Key\" = [1, 2.5], \"key\" = [\"x\"]}\n}\n";

fn source(name: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(name, text))
}

/// `read_or` on `file`, and whether it had to parse.
fn read(cache: &Cache, file: &Arc<SourceFile>, target: Target) -> (Option<Parsed>, bool) {
    let parsed = Cell::new(false);
    let result = cache.read_or(file, target, || {
        parsed.set(true);
        (!crate::workspace::is_agent_config(file)).then(|| parse_policy(file.clone(), target))
    });
    (result, parsed.get())
}

/// The parse as text, to compare a cached one with a fresh one.
fn shown(parsed: &Option<Parsed>) -> String {
    match parsed {
        None => "agent".into(),
        Some(parsed) => format!(
            "{}\n{}\n{}",
            serde_json::to_string(&parsed.policy).unwrap(),
            serde_json::to_string(&parsed.diagnostics).unwrap(),
            parsed
                .policy
                .as_ref()
                .map_or(String::new(), |p| format!("{} {}", p.name, p.source.name)),
        ),
    }
}

/// A cache in a new temporary folder: (the folder's owner, the cache folder, the cache).
fn fresh() -> (tempfile::TempDir, PathBuf, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(DIR_NAME);
    let cache = Cache::open(&folder, b"build").unwrap();
    (dir, folder, cache)
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().is_some_and(|name| name != ".gitignore"))
        .collect();
    found.sort();
    found
}

#[test]
fn a_second_read_comes_from_the_cache_and_equals_a_parse() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join(DIR_NAME), b"build").unwrap();
    let file = source("policies/team.hcl", POLICY);
    let (first, parsed_first) = read(&cache, &file, Target::Vault);
    let (second, parsed_second) = read(&cache, &file, Target::Vault);
    assert!(parsed_first);
    assert!(!parsed_second, "the second read parsed again");
    let fresh = Some(parse_policy(file.clone(), Target::Vault));
    assert_eq!(shown(&second), shown(&fresh));
    assert_eq!(shown(&first), shown(&fresh));
    let policy = second.unwrap().policy.unwrap();
    assert_eq!(
        policy.rules[1].extra().param_case_clashes.len(),
        1,
        "{policy:?}"
    );
    assert!(Arc::ptr_eq(&policy.source, &file));
    assert_eq!(policy.name, "team");
    let ignore = std::fs::read_to_string(dir.path().join(DIR_NAME).join(".gitignore")).unwrap();
    assert_eq!(ignore.lines().last(), Some("*"));
}

#[test]
fn the_key_covers_text_target_extension_and_build() {
    let (_dir, folder, cache) = fresh();
    let file = source("a.hcl", POLICY);
    assert!(read(&cache, &file, Target::Vault).1);
    // Another name with the same text and extension shares the entry.
    let (renamed, parsed) = read(&cache, &source("b/c.hcl", POLICY), Target::Vault);
    assert!(!parsed);
    assert_eq!(renamed.unwrap().policy.unwrap().name, "c");
    assert!(read(&cache, &file, Target::OpenBao).1, "another target hit");
    assert!(read(&cache, &source("a.policy", POLICY), Target::Vault).1);
    let edited = POLICY.replace("\"list\"]\n}\npath", "\"lits\"]\n}\npath");
    let (after_edit, parsed) = read(&cache, &source("a.hcl", &edited), Target::Vault);
    assert!(parsed, "an edited text hit");
    let after_edit = after_edit.unwrap();
    assert!(after_edit.policy.is_none(), "the edit's error is missing");
    assert!(after_edit
        .diagnostics
        .iter()
        .any(|d| d.message.contains("lits")));
    let (refused_again, parsed) = read(&cache, &source("a.hcl", &edited), Target::Vault);
    assert!(!parsed);
    assert_eq!(shown(&refused_again), shown(&Some(after_edit)));
    let other_build = Cache::open(&folder, b"another build").unwrap();
    assert!(
        read(&other_build, &file, Target::Vault).1,
        "another build hit"
    );
    assert_eq!(entries(&folder).len(), 5);
}

#[test]
fn a_corrupt_or_truncated_entry_is_ignored_and_written_again() {
    let (_dir, folder, cache) = fresh();
    let file = source("a.hcl", POLICY);
    read(&cache, &file, Target::Vault);
    let [entry] = entries(&folder).try_into().unwrap();
    let whole = std::fs::read(&entry).unwrap();
    let mut flipped = whole.clone();
    flipped[10] ^= 0x01;
    let damaged: [Vec<u8>; 5] = [
        whole[..whole.len() / 2].to_vec(),
        whole[..whole.len() - 1].to_vec(),
        flipped,
        Vec::new(),
        b"not an entry\n".to_vec(),
    ];
    for bytes in damaged {
        std::fs::write(&entry, &bytes).unwrap();
        let (parsed, reparsed) = read(&cache, &file, Target::Vault);
        assert!(reparsed, "a damaged entry was used: {bytes:?}");
        assert_eq!(
            shown(&parsed),
            shown(&Some(parse_policy(file.clone(), Target::Vault)))
        );
        assert_eq!(std::fs::read(&entry).unwrap(), whole, "not written again");
    }
}

#[test]
fn agent_configs_are_recorded_as_such_and_clock_dependent_texts_not_at_all() {
    let (_dir, folder, cache) = fresh();
    let agent = source("agent.hcl", "vault {\n  address = \"https://v:8200\"\n}\n");
    assert!(read(&cache, &agent, Target::Vault).1);
    let (again, parsed) = read(&cache, &agent, Target::Vault);
    assert!(again.is_none() && !parsed);
    let [entry] = entries(&folder).try_into().unwrap();
    let text = std::fs::read_to_string(entry).unwrap();
    assert!(
        !text.contains("8200"),
        "the agent config's content was stored: {text}"
    );
    let expiring = source(
        "e.hcl",
        "path \"a\" {\n  capabilities = [\"read\"]\n  expiration = \"2999-01-01T00:00:00Z\"\n}\n",
    );
    assert!(read(&cache, &expiring, Target::OpenBao).1);
    assert!(
        read(&cache, &expiring, Target::OpenBao).1,
        "an expiration was cached"
    );
    assert_eq!(entries(&folder).len(), 1);
}

#[test]
fn a_base64_body_is_not_cached() {
    let (_dir, folder, cache) = fresh();
    // `path "a" { capabilities = ["read"] }`, base64-encoded.
    let file = source("b.hcl", "cGF0aCAiYSIgeyBjYXBhYmlsaXRpZXMgPSBbInJlYWQiXSB9");
    let (parsed, _) = read(&cache, &file, Target::Vault);
    assert!(parsed.unwrap().policy.is_some());
    assert!(read(&cache, &file, Target::Vault).1);
    assert!(entries(&folder).is_empty());
}
