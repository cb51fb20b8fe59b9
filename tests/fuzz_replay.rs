//! Replays every saved fuzz input (the minimized seeds in `fuzz/seeds/TARGET/` and the past
//! crashes in `fuzz/crashes/TARGET/`) through the same entry points the cargo-fuzz targets call
//! ([`capable::fuzz_entry`]), on stable. A crash found by `scripts/fuzz` is fixed and its input
//! copied to `fuzz/crashes/TARGET/`, so it stays fixed. Each input also runs under a deadline:
//! an input that once hung must stay fast.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Slowest acceptable replay of one saved input (debug build, shared machine).
const SLOW: Duration = Duration::from_secs(20);

fn saved_inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_target_has_seeds() {
    for (target, _) in capable::fuzz_entry::TARGETS {
        assert!(
            !saved_inputs("seeds", target).is_empty(),
            "fuzz/seeds/{target} is empty"
        );
    }
}

#[test]
fn saved_inputs_replay_without_panic_or_hang() {
    let mut replayed = 0;
    for (target, entry) in capable::fuzz_entry::TARGETS {
        for kind in ["seeds", "crashes"] {
            for path in saved_inputs(kind, target) {
                let data = std::fs::read(&path).expect("read saved input");
                let started = Instant::now();
                let outcome = std::panic::catch_unwind(|| entry(&data));
                assert!(outcome.is_ok(), "{target}: {} panicked", path.display());
                let took = started.elapsed();
                assert!(took < SLOW, "{target}: {} took {took:?}", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0);
}

/// The directory layout `scripts/fuzz` and this test share: one folder per target, and no
/// folder for a target that no longer exists.
#[test]
fn saved_input_folders_name_real_targets() {
    let names: Vec<&str> = capable::fuzz_entry::TARGETS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    for kind in ["seeds", "crashes"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join(kind);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                names.contains(&name.as_str()),
                "fuzz/{kind}/{name} is no target"
            );
        }
    }
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fuzz"))
            .expect("scripts/fuzz");
    for name in names {
        assert!(script.contains(name), "scripts/fuzz does not list `{name}`");
        let target =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/fuzz_targets/{name}.rs"));
        assert!(target.is_file(), "no fuzz/fuzz_targets/{name}.rs");
    }
}
