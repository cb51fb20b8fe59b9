//! `capable fmt` against the real `bao policy fmt` (OpenBao 2.7.2), and the command's contract.
//!
//! Oracle: every HCL policy of the shared corpus and of `fixtures/`, and seeded random policies
//! written to stress the printer (comments everywhere, alignment runs, one-line and multi-line
//! lists, heredocs, nested parameter maps, blank lines, CRLF), is formatted by the binary in a
//! temporary folder. Where OpenBao accepts the file, our output must be byte-identical; the one
//! allowed difference is a refusal because HCL1's printer drops a comment, and then OpenBao's
//! output must indeed lack that comment. Seeds: `CAPABLE_SEED`; case count: `CAPABLE_FMT_CASES`.

mod support;

#[path = "support/gen.rs"]
mod gen;

use std::path::{Path, PathBuf};
use std::process::Command;

use capable::fmt::{format_policy, FormatError, Formatted};
use gen::{seed, Rng};
use support::bao::bao_binary;
use support::cli::capable_sub;

/// What `bao policy fmt` made of a text: `None` when it refused it.
fn bao_fmt(bao: &Path, dir: &Path, index: usize, text: &str) -> Option<String> {
    let path = dir.join(format!("case-{index}.hcl"));
    std::fs::write(&path, text).unwrap();
    let output = Command::new(bao)
        .args(["policy", "fmt"])
        .arg(&path)
        .output()
        .expect("run bao policy fmt");
    if !output.status.success() {
        if std::env::var_os("CAPABLE_FMT_DEBUG").is_some() {
            eprintln!(
                "bao refuses case {index}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        return None;
    }
    Some(std::fs::read_to_string(&path).expect("bao wrote utf-8"))
}

/// Runs `bao policy fmt` on every text, four at a time (each run is a process start).
fn bao_fmt_all(texts: &[String]) -> Vec<Option<String>> {
    let bao = bao_binary();
    let dir = tempfile::tempdir().unwrap();
    let mut results = vec![None; texts.len()];
    let chunk = texts.len().div_ceil(4).max(1);
    std::thread::scope(|scope| {
        for (part, slots) in results.chunks_mut(chunk).enumerate() {
            let (bao, dir) = (&bao, dir.path());
            scope.spawn(move || {
                for (offset, slot) in slots.iter_mut().enumerate() {
                    let index = part * chunk + offset;
                    *slot = bao_fmt(bao, dir, index, &texts[index]);
                }
            });
        }
    });
    results
}

/// Compares with OpenBao; returns how many texts OpenBao accepted.
fn assert_like_bao(names: &[String], texts: &[String], context: &str) -> usize {
    let expected = bao_fmt_all(texts);
    let mut accepted = 0;
    let mut failures = Vec::new();
    for ((name, text), bao) in names.iter().zip(texts).zip(&expected) {
        let Some(bao) = bao else { continue };
        accepted += 1;
        match format_policy(text) {
            Ok(Formatted::Text(ours)) if &ours == bao => {}
            Ok(Formatted::Text(ours)) => failures.push(format!(
                "{name}: output differs\n--- input\n{text}\n--- bao\n{bao}\n--- capable\n{ours}"
            )),
            Err(FormatError::DroppedComment(span)) => {
                let comment = &text[span.start..span.end];
                if bao_keeps_comment(text, span.start..span.end) {
                    failures.push(format!(
                        "{name}: refused for dropping `{comment}` at byte {}, but bao keeps it\n{text}",
                        span.start
                    ));
                }
            }
            other => failures.push(format!("{name}: bao formats it, capable gives {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{context}: {} of {accepted} differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    accepted
}

/// Whether `bao policy fmt` keeps the comment at `range` of `text`. The same comment text may
/// occur elsewhere in the file (`/* e */` twice, bao dropping one), so the comment is marked with
/// a unique token after its opener (same kind, same lines) and bao's output searched for it.
fn bao_keeps_comment(text: &str, range: std::ops::Range<usize>) -> bool {
    const MARK: &str = "capable-oracle-mark";
    let comment = &text[range.clone()];
    let opener = ["/*", "//", "#"]
        .into_iter()
        .find(|opener| comment.starts_with(opener))
        .expect("a comment starts with its opener");
    let marked = format!(
        "{}{opener}{MARK}{}{}",
        &text[..range.start],
        &comment[opener.len()..],
        &text[range.end..]
    );
    let formatted = bao_fmt_all(&[marked]).pop().flatten();
    formatted.is_some_and(|out| out.contains(MARK))
}

fn hcl_files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            hcl_files_under(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "hcl") {
            found.push(path);
        }
    }
}

#[test]
fn corpus_and_fixture_policies_are_formatted_byte_for_byte_like_bao() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    hcl_files_under(&root.join("../shared/corpus/policies"), &mut paths);
    let corpus = paths.len();
    assert!(
        corpus > 100,
        "the shared corpus is missing ({corpus} files)"
    );
    hcl_files_under(&root.join("fixtures"), &mut paths);
    hcl_files_under(&root.join("policies"), &mut paths);
    paths.sort();
    let names: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    let texts: Vec<String> = paths
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let accepted = assert_like_bao(&names, &texts, "corpus");
    assert!(accepted > 150, "bao accepted only {accepted} files");
}

#[test]
fn formatting_the_corpus_is_idempotent_and_keeps_every_comment() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    hcl_files_under(&root.join("../shared/corpus/policies"), &mut paths);
    let mut commented = 0;
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(Formatted::Text(once)) = format_policy(&text) else {
            continue;
        };
        let Ok(Formatted::Text(twice)) = format_policy(&once) else {
            panic!("{}: formatted output no longer formats", path.display());
        };
        assert_eq!(once, twice, "{}: not idempotent", path.display());
        let comments = comment_lines(&text);
        commented += usize::from(!comments.is_empty());
        for comment in comments {
            assert!(
                once.contains(&comment),
                "{}: lost comment `{comment}`",
                path.display()
            );
        }
    }
    assert!(
        commented > 20,
        "too few commented corpus files: {commented}"
    );
}

/// The `#` and `//` comments of a text, trimmed (a plain scan, independent of the formatter).
fn comment_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let trimmed = line.trim();
            (trimmed.starts_with('#') || trimmed.starts_with("//"))
                .then(|| trimmed.trim_end().to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Random policies
// ---------------------------------------------------------------------------------------------

const COMMENTS: &[&str] = &[
    "# note",
    "// why",
    "/* inline */",
    "#",
    "/* two\n   lines */",
];
const CAPS: &[&str] = &[
    "read", "list", "create", "update", "delete", "sudo", "patch",
];

struct Gen {
    rng: Rng,
    out: String,
}

impl Gen {
    fn maybe_comment(&mut self, percent: u32) {
        if self.rng.chance(percent) {
            let comment = *self.rng.pick(COMMENTS);
            self.out.push_str(comment);
            self.newline();
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        if self.rng.chance(15) {
            self.out.push('\n');
        }
        let indent = *self.rng.pick(&["", "  ", "    ", "\t", " "]);
        self.out.push_str(indent);
    }

    fn space(&mut self) {
        let space = *self.rng.pick(&[" ", "", "  "]);
        self.out.push_str(space);
    }

    /// A list of strings; `heredoc` allows a one-element list to be a heredoc.
    fn string_list(&mut self, items: &[&str], heredoc: bool) {
        self.out.push('[');
        let multi = self.rng.chance(40);
        for (position, item) in items.iter().enumerate() {
            if multi {
                self.newline();
                self.maybe_comment(20);
            }
            if heredoc && items.len() == 1 && self.rng.chance(30) {
                self.out.push_str(&format!("<<EOT\n{item}\nEOT\n"));
            } else {
                self.out.push_str(&format!("\"{item}\""));
            }
            if position + 1 < items.len() || self.rng.chance(40) {
                self.out.push(',');
                if multi && self.rng.chance(25) {
                    self.out.push_str(" # after");
                }
            }
        }
        if multi {
            self.newline();
        }
        self.out.push(']');
    }

    fn caps(&mut self) -> Vec<&'static str> {
        let count = 1 + self.rng.below(3);
        (0..count).map(|_| *self.rng.pick(CAPS)).collect()
    }

    fn assignment(&mut self, key: &str) {
        self.out.push_str(key);
        self.space();
        self.out.push('=');
        self.space();
    }

    /// A comment after an item; `#` and `//` only when a newline follows (`to_eol`).
    fn line_comment(&mut self, percent: u32, to_eol: bool) {
        if self.rng.chance(percent) {
            let comment = match to_eol {
                true => *self.rng.pick(&["# c", "// d", "/* e */"]),
                false => "/* e */",
            };
            self.out.push(' ');
            self.out.push_str(comment);
        }
    }

    fn parameters(&mut self, key: &str) {
        self.assignment(key);
        self.out.push('{');
        let mut names = vec!["\"ttl\"", "name", "\"*\"", "format"];
        let count = self.rng.below(3);
        let multi = self.rng.chance(60);
        for _ in 0..count {
            if multi {
                self.newline();
                self.maybe_comment(15);
            } else {
                self.out.push(' ');
            }
            let name = names.remove(self.rng.below(names.len()));
            self.assignment(name);
            let values: Vec<&str> = (0..self.rng.below(3))
                .map(|_| *self.rng.pick(&["a", "b*", "1h"]))
                .collect();
            self.string_list(&values, true);
            self.line_comment(20, multi);
        }
        if multi {
            self.newline();
        }
        self.out.push('}');
    }

    /// One block item; `key` is never repeated in a block (OpenBao's `policy fmt` re-reads its
    /// output with HCL2, which refuses a repeated argument).
    fn body_item(&mut self, key: &str, one_line: bool) {
        if !one_line {
            self.maybe_comment(25);
        }
        match key {
            "capabilities" => {
                self.assignment(key);
                let caps = self.caps();
                self.string_list(&caps, false);
            }
            "min_wrapping_ttl" | "max_wrapping_ttl" => {
                self.assignment(key);
                self.out.push_str("\"1h\"");
            }
            "required_parameters" => {
                self.assignment(key);
                self.string_list(&["name", "ttl"], false);
            }
            _ => self.parameters(key),
        }
        self.line_comment(25, !one_line);
    }

    /// `count` distinct block keys, `capabilities` most often first.
    fn block_keys(&mut self, count: usize) -> Vec<&'static str> {
        let mut keys = vec![
            "capabilities",
            "min_wrapping_ttl",
            "max_wrapping_ttl",
            "required_parameters",
            "allowed_parameters",
            "denied_parameters",
        ];
        let mut chosen = Vec::new();
        if self.rng.chance(70) {
            chosen.push(keys.remove(0));
        }
        while chosen.len() < count {
            let index = self.rng.below(keys.len());
            chosen.push(keys.remove(index));
        }
        chosen.truncate(count);
        chosen
    }

    fn block(&mut self, index: usize) {
        self.maybe_comment(35);
        self.out.push_str(&format!("path \"secret/p{index}/*\""));
        self.space();
        self.out.push('{');
        let items = self.rng.below(5);
        let one_line = items <= 1 && self.rng.chance(40);
        self.line_comment(10, !one_line);
        for key in self.block_keys(items) {
            if one_line {
                self.out.push(' ');
            } else {
                self.newline();
            }
            self.body_item(key, one_line);
        }
        if !one_line || items == 0 {
            self.newline();
            self.maybe_comment(15);
        } else {
            self.out.push(' ');
        }
        self.out.push('}');
        self.line_comment(10, true);
    }

    fn policy(mut rng: Rng) -> String {
        let mut gen = Gen {
            rng: rng.fork(),
            out: String::new(),
        };
        gen.maybe_comment(40);
        if gen.rng.chance(15) {
            gen.out.push_str("name = \"generated\"");
            gen.newline();
        }
        let blocks = 1 + gen.rng.below(4);
        for index in 0..blocks {
            gen.block(index);
            gen.newline();
        }
        gen.maybe_comment(30);
        if rng.chance(10) {
            gen.out = gen.out.replace('\n', "\r\n");
        }
        gen.out
    }
}

#[test]
fn random_policies_are_formatted_byte_for_byte_like_bao() {
    let seed = seed("random_policies_are_formatted_byte_for_byte_like_bao");
    let cases: usize = std::env::var("CAPABLE_FMT_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(24);
    let mut rng = Rng::new(seed);
    let texts: Vec<String> = (0..cases).map(|_| Gen::policy(rng.fork())).collect();
    let names: Vec<String> = (0..cases).map(|index| format!("case {index}")).collect();
    let accepted = assert_like_bao(&names, &texts, &format!("seed {seed}"));
    assert!(
        accepted * 10 >= cases * 9,
        "seed {seed}: bao refused too many generated policies ({accepted} of {cases} accepted)"
    );
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

const MESSY: &str = "path \"secret/*\" {\ncapabilities = [\"read\"]\n}\n";
const TIDY: &str = "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n";

#[test]
fn check_lists_files_that_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messy.hcl"), MESSY).unwrap();
    std::fs::write(dir.path().join("tidy.hcl"), TIDY).unwrap();
    let (code, stdout, stderr) = capable_sub(dir.path(), "fmt", &["--check", "."]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(stdout, "would reformat `messy.hcl`\n");
    assert!(stderr.contains("1 file would be reformatted, 1 file already formatted"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.hcl")).unwrap(),
        MESSY
    );

    let (code, stdout, _) = capable_sub(dir.path(), "fmt", &["--check", "tidy.hcl"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messy.hcl"), MESSY).unwrap();
    let (code, stdout, stderr) = capable_sub(dir.path(), "fmt", &["--diff", "messy.hcl"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("--- a/messy.hcl\n+++ b/messy.hcl\n@@ -1,3 +1,3 @@\n"));
    assert!(stdout.contains("\n-capabilities = [\"read\"]\n+  capabilities = [\"read\"]\n"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.hcl")).unwrap(),
        MESSY
    );
}

/// A rewrite too big for one Myers run (every block of 3,000, about 9,000 lines) is printed in
/// bounded gaps (`fmt::diff`): `git apply` of the printed diff gives what `fmt` writes.
#[test]
fn the_diff_of_a_big_rewrite_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut messy: String = (0..3_000)
        .map(|i| format!("path \"secret/a{i}\" {{ capabilities = [\"read\"] }}\n"))
        .collect();
    messy.push_str("# the end\n");
    std::fs::write(dir.path().join("big.hcl"), &messy).unwrap();
    let (code, diff, stderr) = capable_sub(dir.path(), "fmt", &["--diff", "big.hcl"]);
    assert_eq!(code, 1, "{stderr}");
    std::fs::write(dir.path().join("big.diff"), &diff).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &["big.hcl"]);
    assert_eq!(code, 0, "{stderr}");
    let formatted = std::fs::read_to_string(dir.path().join("big.hcl")).unwrap();
    std::fs::write(dir.path().join("big.hcl"), &messy).unwrap();
    let applied = Command::new("git")
        .args(["apply", "big.diff"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.hcl")).unwrap(),
        formatted
    );
}

#[cfg(unix)]
#[test]
fn formatting_rewrites_in_place_keeping_permissions_and_is_idempotent() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messy.hcl");
    std::fs::write(&path, MESSY).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("reformatted `messy.hcl`"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), TIDY);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &[]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("0 files reformatted, 1 file already formatted"),
        "{stderr}"
    );
}

#[test]
fn a_policy_the_target_refuses_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "path \"a\" {\ncapabilities = [\"reed\"]\n}\n";
    std::fs::write(dir.path().join("bad.hcl"), bad).unwrap();
    std::fs::write(dir.path().join("messy.hcl"), MESSY).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &["."]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid-capability"), "{stderr}");
    assert!(stderr.contains("`bad.hcl` is not formatted"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bad.hcl")).unwrap(),
        bad
    );
    // The other file is still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.hcl")).unwrap(),
        TIDY
    );
}

/// Seed 1796165690346549975 (case 17): the same comment text twice, bao dropping the first and
/// keeping the second. The refusal must name the first, and the oracle must tell them apart.
#[test]
fn a_dropped_comment_is_told_apart_from_a_kept_one_with_the_same_text() {
    let text =
        "path \"a\" {\n  denied_parameters = { format = [\n  ] /* e */ \"ttl\" = []} /* e */\n}\n";
    let first = text.find("/* e */").unwrap();
    let second = text.rfind("/* e */").unwrap();
    let Err(FormatError::DroppedComment(span)) = format_policy(text) else {
        panic!("the first `/* e */` is dropped by bao, so capable refuses");
    };
    assert_eq!(span.start, first);
    assert!(!bao_keeps_comment(text, first..first + 7));
    assert!(bao_keeps_comment(text, second..second + 7));
}

#[test]
fn a_comment_hcl1_would_drop_stops_the_write_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let text = "path \"a\" {\n  capabilities =\n  # keep me\n  [\"read\"]\n}\n";
    std::fs::write(dir.path().join("p.hcl"), text).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &["p.hcl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fmt-would-drop-comment"), "{stderr}");
    assert!(stderr.contains("p.hcl:3:3"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.hcl")).unwrap(),
        text
    );
}

#[test]
fn json_policies_are_left_alone_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let json = "{\"path\": {\"a\": {\"capabilities\": [\"read\"]}}}";
    std::fs::write(dir.path().join("p.json"), json).unwrap();
    std::fs::write(dir.path().join("q.hcl"), TIDY).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("`p.json` is a JSON policy, left alone"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.json")).unwrap(),
        json
    );
}

#[test]
fn no_policy_files_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &["empty"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no HCL policy files to format"), "{stderr}");
    let (code, _, stderr) = capable_sub(dir.path(), "fmt", &["missing"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`missing`"), "{stderr}");
}
