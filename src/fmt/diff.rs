//! The unified diff `capable fmt --diff` prints: `similar`'s Myers diff while that is cheap,
//! and a bounded form of it on big rewrites.
//!
//! Myers costs O((n + m) · d) for d changed lines, so a 10 MB policy whose every block is
//! reformatted (d ≈ n) took hours. The lines are therefore split at *anchors* first: after
//! the common head and tail are set aside, a line that occurs exactly once in each text is an
//! anchor, and the longest run of anchors in the same order in both texts (patience diff)
//! cuts the rest into gaps. A gap of at most [`GAP_LINES`] lines (both sides together) gets
//! the Myers diff; a longer one is shown as removed, then added. The output is a valid
//! unified diff either way (`git apply` takes it), and it is identical to plain Myers
//! whenever both texts together hold at most [`GAP_LINES`] lines.
//!
//! Cost: O((n + m) · log(n + m)) to find the anchors, plus O((n + m) · GAP_LINES) for the
//! gaps' Myers diffs: linear in the texts for the fixed [`GAP_LINES`].

use std::collections::HashMap;
use std::ops::Range;

use similar::udiff::UnifiedDiffHunk;
use similar::{capture_diff, group_diff_ops, Algorithm, DiffOp, TextDiff};

/// The most lines (old and new together) one Myers run may see.
pub const GAP_LINES: usize = 4_000;

/// Lines of context around each hunk.
const CONTEXT: usize = 3;

/// A unified diff of `old` and `new` with three lines of context, headed `a/NAME` and
/// `b/NAME` (so `git apply` takes it); empty when the texts are equal.
pub fn unified(name: &str, old: &str, new: &str) -> String {
    unified_with(name, old, new, GAP_LINES)
}

fn unified_with(name: &str, old: &str, new: &str, gap_lines: usize) -> String {
    // The text diff is only used for its line split and its rendering: a deadline already
    // past makes its own (unused) Myers run stop at once, in O(n + m).
    let text = TextDiff::configure()
        .deadline(std::time::Instant::now())
        .diff_lines(old, new);
    let ops = line_ops(text.old_slices(), text.new_slices(), gap_lines);
    let mut out = String::new();
    for group in group_diff_ops(ops, CONTEXT) {
        if group.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
        }
        out.push_str(&UnifiedDiffHunk::new(group, &text, true).to_string());
    }
    out
}

/// The diff operations turning `old` into `new` (see the module documentation).
fn line_ops(old: &[&str], new: &[&str], gap_lines: usize) -> Vec<DiffOp> {
    if old.len() + new.len() <= gap_lines {
        return capture_diff(Algorithm::Myers, old, 0..old.len(), new, 0..new.len());
    }
    let mut ops = Ops::default();
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    ops.equal(0, 0, head);
    let (old_end, new_end) = (old.len() - tail, new.len() - tail);
    let (mut at_old, mut at_new) = (head, head);
    for (anchor_old, anchor_new) in anchors(old, new, head..old_end, head..new_end) {
        ops.gap(old, new, at_old..anchor_old, at_new..anchor_new, gap_lines);
        ops.equal(anchor_old, anchor_new, 1);
        (at_old, at_new) = (anchor_old + 1, anchor_new + 1);
    }
    ops.gap(old, new, at_old..old_end, at_new..new_end, gap_lines);
    ops.equal(old_end, new_end, tail);
    ops.0
}

/// The patience anchors of two ranges: lines occurring exactly once in each, kept in the
/// longest order both agree on (a longest increasing subsequence). Cost: O(k log k) for k
/// lines, plus hashing them.
fn anchors(
    old: &[&str],
    new: &[&str],
    old_range: Range<usize>,
    new_range: Range<usize>,
) -> Vec<(usize, usize)> {
    // Per line text: (count in old, index in old, count in new, index in new).
    let mut seen: HashMap<&str, (u32, usize, u32, usize)> = HashMap::new();
    for at in old_range.clone() {
        let entry = seen.entry(old[at]).or_insert((0, at, 0, 0));
        entry.0 += 1;
        entry.1 = at;
    }
    for at in new_range {
        if let Some(entry) = seen.get_mut(new[at]) {
            entry.2 += 1;
            entry.3 = at;
        }
    }
    // In old order: the new index of each line unique on both sides.
    let pairs: Vec<(usize, usize)> = old_range
        .filter_map(|at| match seen[old[at]] {
            (1, _, 1, in_new) => Some((at, in_new)),
            _ => None,
        })
        .collect();
    longest_increasing(&pairs)
}

/// The longest subsequence of `pairs` (sorted by their first index) whose second indexes
/// increase, by patience sorting. Cost: O(k log k).
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // `tops[len]`: the pair ending the best run of length len + 1 found so far.
    let mut tops: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; pairs.len()];
    for (at, &(_, in_new)) in pairs.iter().enumerate() {
        let len = tops.partition_point(|&top| pairs[top].1 < in_new);
        previous[at] = len.checked_sub(1).map(|before| tops[before]);
        match tops.get_mut(len) {
            Some(top) => *top = at,
            None => tops.push(at),
        }
    }
    let mut run = Vec::with_capacity(tops.len());
    let mut cursor = tops.last().copied();
    while let Some(at) = cursor {
        run.push(pairs[at]);
        cursor = previous[at];
    }
    run.reverse();
    run
}

/// Diff operations in order, adjacent equal runs joined.
#[derive(Default)]
struct Ops(Vec<DiffOp>);

impl Ops {
    fn equal(&mut self, old_index: usize, new_index: usize, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(DiffOp::Equal { len: last, .. }) = self.0.last_mut() {
            *last += len;
            return;
        }
        self.0.push(DiffOp::Equal {
            old_index,
            new_index,
            len,
        });
    }

    /// The lines between two anchors: Myers when small enough, else all removed then added.
    fn gap(
        &mut self,
        old: &[&str],
        new: &[&str],
        old_range: Range<usize>,
        new_range: Range<usize>,
        gap_lines: usize,
    ) {
        if old_range.is_empty() && new_range.is_empty() {
            return;
        }
        if old_range.len() + new_range.len() <= gap_lines {
            for op in capture_diff(Algorithm::Myers, old, old_range, new, new_range) {
                match op {
                    DiffOp::Equal {
                        old_index,
                        new_index,
                        len,
                    } => self.equal(old_index, new_index, len),
                    other => self.0.push(other),
                }
            }
            return;
        }
        let op = match (old_range.is_empty(), new_range.is_empty()) {
            (false, true) => DiffOp::Delete {
                old_index: old_range.start,
                old_len: old_range.len(),
                new_index: new_range.start,
            },
            (true, false) => DiffOp::Insert {
                old_index: old_range.start,
                new_index: new_range.start,
                new_len: new_range.len(),
            },
            _ => DiffOp::Replace {
                old_index: old_range.start,
                old_len: old_range.len(),
                new_index: new_range.start,
                new_len: new_range.len(),
            },
        };
        self.0.push(op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `similar` alone prints (the function this module replaced).
    fn plain_myers(name: &str, old: &str, new: &str) -> String {
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(CONTEXT)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    }

    /// Applies the ops to `old`, checking that they cover both texts in order.
    fn apply(old: &[&str], new: &[&str], ops: &[DiffOp]) -> Vec<String> {
        let (mut at_old, mut at_new) = (0, 0);
        let mut out = Vec::new();
        for op in ops {
            assert_eq!(op.old_range().start, at_old, "{ops:?}");
            assert_eq!(op.new_range().start, at_new, "{ops:?}");
            if let DiffOp::Equal { .. } = op {
                assert_eq!(old[op.old_range()], new[op.new_range()]);
            }
            out.extend(new[op.new_range()].iter().map(|line| line.to_string()));
            (at_old, at_new) = (op.old_range().end, op.new_range().end);
        }
        assert_eq!((at_old, at_new), (old.len(), new.len()));
        out
    }

    fn lines(words: &[u8]) -> String {
        words.iter().map(|word| format!("line {word}\n")).collect()
    }

    proptest! {
        /// Small texts print exactly what plain Myers prints.
        #[test]
        fn small_texts_match_plain_myers(old in prop::collection::vec(0u8..6, 0..40),
                                         new in prop::collection::vec(0u8..6, 0..40),
                                         cut in any::<bool>()) {
            let (mut old, new) = (lines(&old), lines(&new));
            if cut {
                old.pop();
            }
            prop_assert_eq!(unified("p.hcl", &old, &new), plain_myers("p.hcl", &old, &new));
        }

        /// With gaps bounded to a few lines, the ops still turn old into new, equal lines
        /// are equal, and the rendered diff has the same removed and added lines in order.
        #[test]
        fn bounded_gaps_give_a_valid_diff(old in prop::collection::vec(0u8..30, 0..80),
                                          new in prop::collection::vec(0u8..30, 0..80),
                                          gap in 0usize..8) {
            let (old, new) = (lines(&old), lines(&new));
            let text = TextDiff::from_lines(old.as_str(), new.as_str());
            let ops = line_ops(text.old_slices(), text.new_slices(), gap);
            let rebuilt = apply(text.old_slices(), text.new_slices(), &ops);
            prop_assert_eq!(rebuilt.concat(), new.clone());
            let diff = unified_with("p.hcl", &old, &new, gap);
            prop_assert_eq!(diff.is_empty(), old == new);
        }
    }

    #[test]
    fn a_rewrite_of_every_line_is_one_hunk() {
        let old: String = (0..5_000)
            .map(|i| format!("path \"a{i}\" {{}}\n"))
            .collect();
        let new: String = (0..5_000)
            .map(|i| format!("path \"a{i}\" {{\n}}\n"))
            .collect();
        let diff = unified("p.hcl", &old, &new);
        assert_eq!(diff.matches("@@ -").count(), 1);
        assert!(diff.starts_with("--- a/p.hcl\n+++ b/p.hcl\n@@ -1,5000 +1,10000 @@\n"));
        assert_eq!(
            diff.lines().filter(|line| line.starts_with('-')).count(),
            5_001
        );
    }

    #[test]
    fn anchors_keep_distant_changes_in_their_own_hunks() {
        let old: String = (0..6_000).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 10\n", "line ten\n")
            .replace("line 5000\n", "line five thousand\n");
        let diff = unified("p.hcl", &old, &new);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-line 10\n+line ten\n"));
        assert!(diff.contains("-line 5000\n+line five thousand\n"));
    }
}
