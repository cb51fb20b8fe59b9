use std::cell::Cell;
use std::sync::Arc;

use super::*;
use crate::lint::engine::check_file;
use crate::policy::parse_policy;

const POLICY: &str = "path \"secret/data/a\" {\n  capabilities = [\"read\", \"list\"]\n}\n\
path \"secret/data/b/*\" {\n  capabilities = [\"list\", \"sudo\"]\n  allowed_parameters = {\"Key\" = [1, 2.5], \"key\" = [\"x\"]}\n}\n";

fn source(name: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(name, text))
}

/// What `check` reports for `file` on its own, computed.
fn findings(file: &Arc<SourceFile>, target: Target) -> Vec<Diagnostic> {
    let parsed = parse_policy(file.clone(), target);
    let config = Config::default();
    check_file(
        file,
        &parsed.diagnostics,
        parsed.policy.as_ref(),
        target,
        &config.lint_settings(),
    )
}

/// `findings_or` on `file` with `context`, and whether it had to check.
fn read(
    cache: &Cache,
    file: &Arc<SourceFile>,
    target: Target,
    context: &str,
) -> (Vec<Diagnostic>, bool) {
    let checked = Cell::new(false);
    let result = cache.findings_or(file, target, context, || {
        checked.set(true);
        findings(file, target)
    });
    (result, checked.get())
}

/// Findings as text, to compare cached ones with fresh ones.
fn shown(findings: &[Diagnostic]) -> String {
    serde_json::to_string(findings).unwrap()
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
fn a_second_check_comes_from_the_cache_and_equals_a_fresh_one() {
    let (dir, _folder, cache) = fresh();
    let file = source("policies/team.hcl", POLICY);
    let (first, checked_first) = read(&cache, &file, Target::Vault, "ctx");
    let (second, checked_second) = read(&cache, &file, Target::Vault, "ctx");
    assert!(checked_first);
    assert!(!checked_second, "the second run checked again");
    let fresh = findings(&file, Target::Vault);
    assert!(!fresh.is_empty(), "the sample policy has no findings");
    assert_eq!(shown(&second), shown(&fresh));
    assert_eq!(shown(&first), shown(&fresh));
    let ignore = std::fs::read_to_string(dir.path().join(DIR_NAME).join(".gitignore")).unwrap();
    assert_eq!(ignore.lines().last(), Some("*"));
}

#[test]
fn the_key_covers_text_target_context_and_build() {
    let (_dir, folder, cache) = fresh();
    let file = source("a.hcl", POLICY);
    assert!(read(&cache, &file, Target::Vault, "ctx").1);
    assert!(!read(&cache, &file, Target::Vault, "ctx").1);
    assert!(
        read(&cache, &file, Target::OpenBao, "ctx").1,
        "another target hit"
    );
    assert!(
        read(&cache, &file, Target::Vault, "other").1,
        "another context hit"
    );
    let edited = POLICY.replace("\"list\", \"sudo\"]", "\"lits\"]");
    let edited = source("a.hcl", &edited);
    let (after_edit, checked) = read(&cache, &edited, Target::Vault, "ctx");
    assert!(checked, "an edited text hit");
    assert!(after_edit.iter().any(|d| d.message.contains("lits")));
    let (again, checked) = read(&cache, &edited, Target::Vault, "ctx");
    assert!(!checked);
    assert_eq!(shown(&again), shown(&after_edit));
    let other_build = Cache::open(&folder, b"another build").unwrap();
    assert!(
        read(&other_build, &file, Target::Vault, "ctx").1,
        "another build hit"
    );
    assert_eq!(entries(&folder).len(), 5);
}

#[test]
fn a_corrupt_or_truncated_entry_is_ignored_and_written_again() {
    let (_dir, folder, cache) = fresh();
    let file = source("a.hcl", POLICY);
    read(&cache, &file, Target::Vault, "ctx");
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
        let (found, checked) = read(&cache, &file, Target::Vault, "ctx");
        assert!(checked, "a damaged entry was used: {bytes:?}");
        assert_eq!(shown(&found), shown(&findings(&file, Target::Vault)));
        assert_eq!(std::fs::read(&entry).unwrap(), whole, "not written again");
    }
}

#[test]
fn clock_dependent_texts_are_not_cached() {
    let (_dir, folder, cache) = fresh();
    let expiring = source(
        "e.hcl",
        "path \"a\" {\n  capabilities = [\"read\"]\n  expiration = \"2999-01-01T00:00:00Z\"\n}\n",
    );
    assert!(read(&cache, &expiring, Target::OpenBao, "ctx").1);
    assert!(
        read(&cache, &expiring, Target::OpenBao, "ctx").1,
        "an expiration was cached"
    );
    assert!(entries(&folder).is_empty());
}

#[test]
fn digests_tell_lists_of_parts_apart() {
    let split = |parts: &[&str]| {
        digest_hex(
            &parts
                .iter()
                .map(|part| part.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(split(&["ab", "c"]), split(&["ab", "c"]));
    assert_ne!(split(&["ab", "c"]), split(&["a", "bc"]));
    assert_ne!(split(&["abc"]), split(&["abc", ""]));
    assert_ne!(split(&[]), split(&[""]));
}
