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

/// The same cache folder as a new process sees it (after this one flushed).
fn reopen(folder: &Path, salt: &[u8]) -> Cache {
    Cache::open(folder, salt).unwrap()
}

#[test]
fn a_second_check_comes_from_the_cache_and_equals_a_fresh_one() {
    let (dir, folder, cache) = fresh();
    let file = source("policies/team.hcl", POLICY);
    let (first, checked_first) = read(&cache, &file, Target::Vault, "ctx");
    let (same_run, checked_same_run) = read(&cache, &file, Target::Vault, "ctx");
    assert!(checked_first);
    assert!(
        !checked_same_run,
        "the second lookup of one run checked again"
    );
    cache.flush();
    let (next_run, checked_next_run) =
        read(&reopen(&folder, b"build"), &file, Target::Vault, "ctx");
    assert!(!checked_next_run, "the next run checked again");
    let fresh = findings(&file, Target::Vault);
    assert!(!fresh.is_empty(), "the sample policy has no findings");
    for found in [&first, &same_run, &next_run] {
        assert_eq!(shown(found), shown(&fresh));
    }
    let ignore = std::fs::read_to_string(dir.path().join(DIR_NAME).join(".gitignore")).unwrap();
    assert_eq!(ignore.lines().last(), Some("*"));
}

#[test]
fn the_key_covers_text_target_context_and_build() {
    let (_dir, folder, cache) = fresh();
    let file = source("a.hcl", POLICY);
    assert!(read(&cache, &file, Target::Vault, "ctx").1);
    cache.flush();
    let cache = reopen(&folder, b"build");
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
    cache.flush();
    let cache = reopen(&folder, b"build");
    let (again, checked) = read(&cache, &edited, Target::Vault, "ctx");
    assert!(!checked);
    assert_eq!(shown(&again), shown(&after_edit));
    for (target, context) in [
        (Target::Vault, "ctx"),
        (Target::OpenBao, "ctx"),
        (Target::Vault, "other"),
    ] {
        assert!(
            !read(&cache, &file, target, context).1,
            "{target:?} {context} lost"
        );
    }
    // Another build misses, and its pack replaces this build's.
    let other_build = reopen(&folder, b"another build");
    assert!(
        read(&other_build, &file, Target::Vault, "ctx").1,
        "another build hit"
    );
    other_build.flush();
    assert_eq!(entries(&folder).len(), 1, "{:?}", entries(&folder));
    assert!(
        !read(
            &reopen(&folder, b"another build"),
            &file,
            Target::Vault,
            "ctx"
        )
        .1
    );
}

#[test]
fn a_damaged_pack_is_ignored_and_written_again() {
    let (_dir, folder, cache) = fresh();
    let files = [
        source("a.hcl", POLICY),
        source("b.hcl", &POLICY.replace("secret", "kv")),
    ];
    for file in &files {
        read(&cache, file, Target::Vault, "ctx");
    }
    cache.flush();
    let [pack] = entries(&folder).try_into().unwrap();
    let whole = std::fs::read(&pack).unwrap();
    let damaged: Vec<Vec<u8>> = [whole.len() / 2, whole.len() - 1, 30, 10]
        .into_iter()
        .map(|at| {
            let mut flipped = whole.clone();
            flipped[at] ^= 0x01;
            flipped
        })
        .chain([
            whole[..whole.len() / 2].to_vec(),
            whole[..whole.len() - 1].to_vec(),
            Vec::new(),
            b"not a pack\n".to_vec(),
        ])
        .collect();
    for bytes in damaged {
        std::fs::write(&pack, &bytes).unwrap();
        let cache = reopen(&folder, b"build");
        let mut rechecked = 0;
        for file in &files {
            let (found, checked) = read(&cache, file, Target::Vault, "ctx");
            rechecked += usize::from(checked);
            assert_eq!(shown(&found), shown(&findings(file, Target::Vault)));
        }
        assert!(rechecked > 0, "a damaged pack was used whole: {bytes:?}");
        cache.flush();
        assert_eq!(std::fs::read(&pack).unwrap(), whole, "not written again");
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
    cache.flush();
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

/// `check --new-since` flushes after its own findings and again after the revision's: the
/// second flush keeps the first's entries and adds the new ones.
#[test]
fn a_second_flush_keeps_the_first_flushs_entries() {
    let (_dir, folder, cache) = fresh();
    let first = source("a.hcl", POLICY);
    let second = source("b.hcl", &POLICY.replace("secret", "kv"));
    assert!(read(&cache, &first, Target::Vault, "ctx").1);
    cache.flush();
    assert!(!read(&cache, &first, Target::Vault, "ctx").1);
    assert!(read(&cache, &second, Target::Vault, "ctx").1);
    cache.flush();
    let next_run = reopen(&folder, b"build");
    for file in [&first, &second] {
        assert!(
            !read(&next_run, file, Target::Vault, "ctx").1,
            "{} lost",
            file.name
        );
    }
    assert_eq!(entries(&folder).len(), 1);
}
