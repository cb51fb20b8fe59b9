//! Only new findings: `check --new-since REV` and `baseline: git:REV` report the findings that
//! are not present at REV, so a repository with hundreds of findings blocks only regressions.
//!
//! A finding is matched by its *fingerprint*: the rule id, the file, the pattern of the `path`
//! block it lies in, the text it points at and its message with numbers that name lines or
//! columns removed. Moving a block up or down, or editing another one, keeps the fingerprint;
//! a new finding of the same rule on another pattern does not share it. Equal fingerprints
//! are counted, so a second copy of a known finding is new.
//!
//! Cost: one more load and check of the tree at REV, then O(F log F) for F findings.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, FileDiagnostics};
use crate::policy::Policy;
use crate::source::SourceFile;

/// The pattern of the block a span lies in, when the file is a policy.
fn enclosing_pattern(policy: Option<&Policy>, diagnostic: &Diagnostic) -> String {
    policy
        .and_then(|policy| {
            policy.rules.iter().find(|rule| {
                rule.block_span.start <= diagnostic.span.start
                    && diagnostic.span.start < rule.block_span.end.max(rule.block_span.start + 1)
            })
        })
        .map(|rule| rule.raw_pattern.clone())
        .unwrap_or_default()
}

/// The message without line and column numbers (`at x.hcl:12:3`, `line 12`).
fn stable_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        let numbered = c.is_ascii_digit() && (previous == ':' || out.ends_with("line "));
        if numbered {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('#');
            previous = '#';
            continue;
        }
        out.push(c);
        previous = c;
    }
    out
}

/// The fingerprint of one finding in `file` (see the module documentation).
pub fn fingerprint(file: &SourceFile, policy: Option<&Policy>, diagnostic: &Diagnostic) -> String {
    let token = file.slice(diagnostic.span).trim();
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        diagnostic.rule,
        file.name,
        enclosing_pattern(policy, diagnostic),
        token,
        stable_message(&diagnostic.message)
    )
}

/// Fingerprints with their counts.
pub type Known = BTreeMap<String, usize>;

/// The fingerprints of a check's results; `policy_of` finds the policy parsed from a file.
pub fn known<'a>(
    results: &[FileDiagnostics],
    policy_of: impl Fn(&SourceFile) -> Option<&'a Policy>,
) -> Known {
    let mut found = Known::new();
    for result in results {
        let policy = policy_of(&result.file);
        for diagnostic in &result.diagnostics {
            *found
                .entry(fingerprint(&result.file, policy, diagnostic))
                .or_insert(0) += 1;
        }
    }
    found
}

/// Drops the findings already `known`; returns how many were dropped.
pub fn retain_new<'a>(
    results: &mut [FileDiagnostics],
    mut known: Known,
    policy_of: impl Fn(&SourceFile) -> Option<&'a Policy>,
) -> usize {
    let mut hidden = 0;
    for result in results.iter_mut() {
        let policy = policy_of(&result.file);
        let file = result.file.clone();
        result.diagnostics.retain(|diagnostic| {
            let key = fingerprint(&file, policy, diagnostic);
            match known.get_mut(&key) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    hidden += 1;
                    false
                }
                _ => true,
            }
        });
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_do_not_count() {
        assert_eq!(
            stable_message("also granted at a.hcl:12:3 and on line 40"),
            "also granted at a.hcl:#:# and on line #"
        );
        assert_eq!(
            stable_message("`secret/data/2024/*`"),
            "`secret/data/2024/*`"
        );
    }
}
