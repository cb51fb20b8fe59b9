//! The README's tour is real output: every `<!-- tour: ARGS -->` marker is followed by a fenced
//! block holding exactly what `capable ARGS` prints (stdout, then stderr) when run in
//! `policies/`. `UPDATE_README=1` rewrites the blocks instead of failing.

mod support;

use std::path::Path;

use support::cli::capable;

const MARKER: &str = "<!-- tour: ";

/// Runs `capable` with whitespace-separated `args` in `policies/`: stdout, then stderr.
fn run_in_policies(args: &str) -> String {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let args: Vec<&str> = args.split_whitespace().collect();
    let (_, stdout, stderr) = capable(&policies, &args);
    stdout + &stderr
}

/// One marker: its arguments and the byte range of its fenced block's body.
struct TourBlock {
    args: String,
    body: std::ops::Range<usize>,
}

fn tour_blocks(readme: &str) -> Vec<TourBlock> {
    let mut blocks = Vec::new();
    let mut search_from = 0;
    while let Some(found) = readme[search_from..].find(MARKER) {
        let marker_start = search_from + found;
        let args_start = marker_start + MARKER.len();
        let args_end = args_start + readme[args_start..].find(" -->").expect("marker closes");
        let fence = args_end
            + readme[args_end..]
                .find("```text\n")
                .expect("a ```text block follows");
        let body_start = fence + "```text\n".len();
        let body_end = body_start + readme[body_start..].find("```\n").expect("block closes");
        blocks.push(TourBlock {
            args: readme[args_start..args_end].to_string(),
            body: body_start..body_end,
        });
        search_from = body_end;
    }
    blocks
}

#[test]
fn readme_tour_shows_real_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let blocks = tour_blocks(&readme);
    assert!(blocks.len() >= 5, "the README tour lost its examples");
    let mut updated = readme.clone();
    let mut stale = Vec::new();
    // Replace from the end so earlier ranges stay valid.
    for block in blocks.iter().rev() {
        let actual = run_in_policies(&block.args);
        if readme[block.body.clone()] != actual {
            stale.push(format!("`capable {}` now prints:\n{actual}", block.args));
            updated.replace_range(block.body.clone(), &actual);
        }
    }
    if stale.is_empty() {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    panic!(
        "the README tour is out of date (rerun with UPDATE_README=1):\n\n{}",
        stale.join("\n")
    );
}
