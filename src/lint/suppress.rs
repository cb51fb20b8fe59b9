//! Inline suppressions: `# capable:ignore <rule-id>[, <rule-id>...] -- <reason>` (or `//`)
//! for one block, `# capable:ignore-file <rule-id>[, ...] -- <reason>` for the whole file
//! (e.g. a deliberate break-glass admin policy). `per-file-ignores` in `capable.yaml` do the
//! same from outside the file ([`apply_per_file`]).
//!
//! A file ignore may stand on any comment line; it suppresses the named rules' diagnostics
//! anywhere in the file. A block ignore attaches to one `path` block when it is
//! - at the end of the block's first line (`path "x" { # capable:ignore rule -- why`), or
//! - on a comment-only line in the run of comment lines directly above the block's first
//!   line (no blank line in between).
//!
//! It suppresses the named rules' diagnostics whose span starts inside that block. An ignore
//! that suppresses nothing is itself a finding (`unused-ignore`): not attached to a block,
//! naming an unknown rule, naming an `invalid-` rule (those cannot be suppressed: the target
//! refuses the policy), or naming a rule with no finding in its block. Rules turned off in
//! `capable.yaml` are not reported as unused.
//!
//! A diagnostic that both a block ignore and a file ignore could suppress counts for the
//! block ignore (the narrower one), so a file ignore that only repeats block ignores is
//! reported as unused.
//!
//! Cost: O(text) to find and attach the comments, O(d log b) to match d diagnostics to b
//! blocks.

use std::collections::BTreeSet;

use crate::acl::FastMap;
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::lint::rule_meta;
use crate::lint::settings::{LintSettings, PerFileIgnores, RuleLevel};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};

/// The marker that starts an ignore inside a comment.
pub const MARKER: &str = "capable:ignore";

/// The marker of a file-level ignore.
pub const FILE_MARKER: &str = "capable:ignore-file";

/// What an ignore comment covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The `path` block it attaches to.
    Block,
    /// The whole file.
    File,
}

/// One `capable:ignore` comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Ignore {
    /// The rule ids named, each with its span.
    pub ids: Vec<Spanned<String>>,
    /// The text after `--`, if any.
    pub reason: Option<String>,
    /// From the marker to the end of the comment.
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// Whether code precedes the comment on its line (the end-of-line form).
    pub trailing: bool,
    pub scope: Scope,
}

impl Ignore {
    /// The marker as written in this comment.
    fn marker(&self) -> &'static str {
        match self.scope {
            Scope::Block => MARKER,
            Scope::File => FILE_MARKER,
        }
    }
}

/// Finds every ignore comment in an HCL text. Strings, heredocs and `/* */` comments are
/// skipped, so a `#` inside a path label is not a comment.
pub fn find_ignores(text: &str) -> Vec<Ignore> {
    let mut ignores = Vec::new();
    let mut scanner = LineScanner::default();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if let Some(comment) = scanner.comment_start(line) {
            let trailing = !line[..comment].trim().is_empty();
            if let Some(ignore) = parse_ignore(line, comment, offset, index + 1, trailing) {
                ignores.push(ignore);
            }
        }
        offset += line.len();
    }
    ignores
}

/// Lexical state carried across lines: inside a block comment or a heredoc.
#[derive(Default)]
struct LineScanner {
    in_block_comment: bool,
    heredoc_end: Option<String>,
}

impl LineScanner {
    /// The byte index of a line comment's first character (`#` or `/`), if the line has one.
    fn comment_start(&mut self, line: &str) -> Option<usize> {
        if let Some(end) = &self.heredoc_end {
            if line.trim() == end {
                self.heredoc_end = None;
            }
            return None;
        }
        let bytes = line.as_bytes();
        let mut in_string = false;
        let mut i = 0;
        while i < bytes.len() {
            let byte = bytes[i];
            let next = bytes.get(i + 1).copied();
            if self.in_block_comment {
                if byte == b'*' && next == Some(b'/') {
                    self.in_block_comment = false;
                    i += 1;
                }
            } else if in_string {
                match byte {
                    b'\\' => i += 1,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else {
                match (byte, next) {
                    (b'"', _) => in_string = true,
                    (b'#', _) | (b'/', Some(b'/')) => return Some(i),
                    (b'/', Some(b'*')) => {
                        self.in_block_comment = true;
                        i += 1;
                    }
                    (b'<', Some(b'<')) => {
                        self.heredoc_end = heredoc_marker(&line[i + 2..]);
                        if self.heredoc_end.is_some() {
                            return None;
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }
}

/// The terminator of a heredoc opened by `<<` (or `<<-`) followed by an identifier.
fn heredoc_marker(rest: &str) -> Option<String> {
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!marker.is_empty()).then_some(marker)
}

/// Parses `capable:ignore a, b -- reason` from the comment starting at `comment`.
fn parse_ignore(
    line: &str,
    comment: usize,
    line_offset: usize,
    line_number: usize,
    trailing: bool,
) -> Option<Ignore> {
    let after_opener = if line[comment..].starts_with('#') {
        comment + 1
    } else {
        comment + 2
    };
    let body = &line[after_opener..];
    let body_start = after_opener + (body.len() - body.trim_start().len());
    let mut rest = line[body_start..].strip_prefix(MARKER)?;
    let mut scope = Scope::Block;
    let mut marker_len = MARKER.len();
    if let Some(file_rest) = rest.strip_prefix("-file") {
        rest = file_rest;
        scope = Scope::File;
        marker_len = FILE_MARKER.len();
    }
    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_') {
        return None;
    }
    let ids_start = body_start + marker_len;
    let content_end = line.trim_end().len();
    let (ids_end, reason) = match line[ids_start..content_end].find("--") {
        Some(dash) => {
            let reason = line[ids_start + dash + 2..content_end].trim();
            (
                ids_start + dash,
                (!reason.is_empty()).then(|| reason.to_string()),
            )
        }
        None => (content_end, None),
    };
    let ids = split_ids(&line[ids_start..ids_end], line_offset + ids_start);
    Some(Ignore {
        ids,
        reason,
        span: Span::new(line_offset + body_start, line_offset + content_end),
        line: line_number,
        trailing,
        scope,
    })
}

/// Splits `a, b c` into ids with spans (commas or blanks separate them).
fn split_ids(text: &str, base: usize) -> Vec<Spanned<String>> {
    let mut ids = Vec::new();
    let mut start = None;
    for (index, c) in text.char_indices().chain([(text.len(), ',')]) {
        let separator = c == ',' || c.is_whitespace();
        match (separator, start) {
            (false, None) => start = Some(index),
            (true, Some(begin)) => {
                ids.push(Spanned::new(
                    text[begin..index].to_string(),
                    Span::new(base + begin, base + index),
                ));
                start = None;
            }
            _ => {}
        }
    }
    ids
}

/// One `path` block for suppression purposes.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub span: Span,
}

/// Applies the ignores of one file to its diagnostics: removes suppressed ones (never an
/// `invalid-` one) and appends `unused-ignore` findings. `blocks` are the file's path blocks;
/// `None` means the policy was refused, so only ignores that are wrong in themselves (unknown
/// or `invalid-` ids) are reported.
pub fn apply(
    file: &SourceFile,
    blocks: Option<&[Block]>,
    diagnostics: Vec<Diagnostic>,
    settings: &LintSettings<'_>,
) -> Vec<Diagnostic> {
    let ignores = find_ignores(&file.text);
    if ignores.is_empty() {
        return diagnostics;
    }
    let mut findings = Vec::new();
    let Some(blocks) = blocks else {
        for ignore in &ignores {
            findings.extend(
                ignore
                    .ids
                    .iter()
                    .filter_map(|id| wrong_id(id, ignore.marker())),
            );
        }
        return with_unused(diagnostics, findings, settings);
    };
    let mut sorted: Vec<Block> = blocks.to_vec();
    sorted.sort_by_key(|block| block.span.start);
    let attached = attach(file, &ignores, &sorted);
    let mut by_block: Vec<Vec<usize>> = vec![Vec::new(); sorted.len()];
    for (ignore_index, block) in attached.iter().enumerate() {
        if let Some(block_index) = block {
            by_block[*block_index].push(ignore_index);
        }
    }
    let file_wide: Vec<usize> = (0..ignores.len())
        .filter(|&index| ignores[index].scope == Scope::File)
        .collect();
    let mut used: BTreeSet<(usize, usize)> = BTreeSet::new();
    let kept = diagnostics
        .into_iter()
        .filter(|diagnostic| {
            let hit = suppressor(diagnostic, &sorted, &by_block, &ignores)
                .or_else(|| file_suppressor(diagnostic, &file_wide, &ignores));
            let Some(hit) = hit else {
                return true;
            };
            used.insert(hit);
            false
        })
        .collect();
    for (ignore_index, ignore) in ignores.iter().enumerate() {
        findings.extend(unused_findings(
            ignore_index,
            ignore,
            attached[ignore_index],
            &used,
            settings,
        ));
    }
    with_unused(kept, findings, settings)
}

/// For each ignore, the index of the block it attaches to. Cost: O(lines + ignores + blocks).
fn attach(file: &SourceFile, ignores: &[Ignore], blocks: &[Block]) -> Vec<Option<usize>> {
    let lines: Vec<&str> = file.text.split_inclusive('\n').collect();
    let mut by_line: FastMap<usize, Vec<usize>> = FastMap::default();
    for (ignore_index, ignore) in ignores.iter().enumerate() {
        if ignore.scope == Scope::Block {
            by_line.entry(ignore.line).or_default().push(ignore_index);
        }
    }
    let mut attached = vec![None; ignores.len()];
    for (block_index, block) in blocks.iter().enumerate() {
        let first_line = file.line(block.span.start);
        let trailing = by_line.get(&first_line).into_iter().flatten();
        for &ignore_index in trailing.filter(|&&i| ignores[i].trailing) {
            attached[ignore_index] = Some(block_index);
        }
        for line in comment_run_above(&lines, first_line) {
            for &ignore_index in by_line.get(&line).into_iter().flatten() {
                if !ignores[ignore_index].trailing {
                    attached[ignore_index] = Some(block_index);
                }
            }
        }
    }
    attached
}

/// The 1-based numbers of the comment-only lines directly above `first_line`.
fn comment_run_above(lines: &[&str], first_line: usize) -> std::ops::Range<usize> {
    let mut top = first_line;
    while top > 1 {
        let text = lines.get(top - 2).map(|line| line.trim()).unwrap_or("");
        if !(text.starts_with('#') || text.starts_with("//")) {
            break;
        }
        top -= 1;
    }
    top..first_line
}

/// The (ignore index, id index) that suppresses a diagnostic, if any. `by_block` lists the
/// ignores attached to each block.
fn suppressor(
    diagnostic: &Diagnostic,
    blocks: &[Block],
    by_block: &[Vec<usize>],
    ignores: &[Ignore],
) -> Option<(usize, usize)> {
    if diagnostic.is_invalid() {
        return None;
    }
    let block_index = block_containing(blocks, diagnostic.span.start)?;
    by_block[block_index].iter().find_map(|&ignore_index| {
        ignores[ignore_index]
            .ids
            .iter()
            .position(|id| id.value == diagnostic.rule)
            .map(|id_index| (ignore_index, id_index))
    })
}

/// The (ignore index, id index) of a file ignore that names the diagnostic's rule.
fn file_suppressor(
    diagnostic: &Diagnostic,
    file_wide: &[usize],
    ignores: &[Ignore],
) -> Option<(usize, usize)> {
    if diagnostic.is_invalid() {
        return None;
    }
    file_wide.iter().find_map(|&ignore_index| {
        ignores[ignore_index]
            .ids
            .iter()
            .position(|id| id.value == diagnostic.rule)
            .map(|id_index| (ignore_index, id_index))
    })
}

/// The block whose span holds `offset` (blocks sorted by start, not overlapping).
fn block_containing(blocks: &[Block], offset: usize) -> Option<usize> {
    let after = blocks.partition_point(|block| block.span.start <= offset);
    let index = after.checked_sub(1)?;
    (offset < blocks[index].span.end.max(blocks[index].span.start + 1)).then_some(index)
}

fn unused_findings(
    ignore_index: usize,
    ignore: &Ignore,
    block: Option<usize>,
    used: &BTreeSet<(usize, usize)>,
    settings: &LintSettings<'_>,
) -> Vec<Diagnostic> {
    let marker = ignore.marker();
    if ignore.ids.is_empty() {
        return vec![unused(
            ignore.span,
            format!("`{marker}` names no rule"),
            format!("write `# {marker} <rule-id> -- <reason>`"),
        )];
    }
    if block.is_none() && ignore.scope == Scope::Block {
        return vec![unused(
            ignore.span,
            format!("`{MARKER}` is not attached to a `path` block"),
            "put it on the line just above the block's `path` line, or at the end of that line",
        )];
    }
    let mut findings = Vec::new();
    let place = match ignore.scope {
        Scope::Block => "block",
        Scope::File => "file",
    };
    for (id_index, id) in ignore.ids.iter().enumerate() {
        if let Some(finding) = wrong_id(id, marker) {
            findings.push(finding);
            continue;
        }
        let turned_off = settings.rule_level(&id.value) == Some(RuleLevel::Off);
        if turned_off || used.contains(&(ignore_index, id_index)) {
            continue;
        }
        findings.push(unused(
            id.span,
            format!("no `{}` finding to suppress in this {place}", id.value),
            format!("remove `{}` from the ignore comment", id.value),
        ));
    }
    findings
}

/// A finding for an id that can never suppress anything: an `invalid-` rule or an unknown id.
fn wrong_id(id: &Spanned<String>, marker: &str) -> Option<Diagnostic> {
    let name = id.value.as_str();
    if name.starts_with("invalid-") {
        return Some(unused(
            id.span,
            format!("`{name}` cannot be suppressed"),
            "the target refuses this policy; fix the error instead",
        ));
    }
    if rule_meta(name).is_some() {
        return None;
    }
    let help = match crate::lint::suggest_rule_id(name) {
        Some(close) => format!("did you mean `{close}`? `capable rules` lists every rule"),
        None => "`capable rules` lists every rule".to_string(),
    };
    Some(unused(
        id.span,
        format!("unknown rule `{name}` in `{marker}`"),
        help,
    ))
}

/// Applies `per-file-ignores` to every file's diagnostics (never to an `invalid-` one, nor to
/// those of `capable.yaml` itself) and returns the `unused-ignore` findings about its entries,
/// which point into `capable.yaml`: an entry whose glob matches no checked file, or a rule id
/// that suppressed nothing in the files it matches. Those are reported only when
/// `report_unused` (the whole tree was checked: with a subset of the files, the finding an
/// entry is for may lie in a file not checked). Cost: O(files × entries + diagnostics ×
/// ids).
pub fn apply_per_file(
    results: &mut [FileDiagnostics],
    ignores: &PerFileIgnores,
    config_file: Option<&str>,
    settings: &LintSettings<'_>,
    report_unused: bool,
) -> Vec<Diagnostic> {
    if ignores.entries.is_empty() {
        return Vec::new();
    }
    let root = std::fs::canonicalize(&ignores.root).unwrap_or_else(|_| ignores.root.clone());
    let mut matched = vec![false; ignores.entries.len()];
    let mut used: BTreeSet<(usize, usize)> = BTreeSet::new();
    for result in results.iter_mut() {
        if Some(result.file.name.as_str()) == config_file {
            continue;
        }
        let path = std::path::Path::new(&result.file.name);
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let relative = absolute.strip_prefix(&root).unwrap_or(path);
        let applying: Vec<usize> = (0..ignores.entries.len())
            .filter(|&index| ignores.entries[index].matches(relative))
            .collect();
        if applying.is_empty() {
            continue;
        }
        for &index in &applying {
            matched[index] = true;
        }
        result.diagnostics.retain(|diagnostic| {
            if diagnostic.is_invalid() {
                return true;
            }
            let hit = applying.iter().find_map(|&entry| {
                ignores.entries[entry]
                    .ids
                    .iter()
                    .position(|id| id.value == diagnostic.rule)
                    .map(|id| (entry, id))
            });
            match hit {
                Some(hit) => {
                    used.insert(hit);
                    false
                }
                None => true,
            }
        });
    }
    if !report_unused {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for (index, entry) in ignores.entries.iter().enumerate() {
        if !matched[index] {
            findings.push(unused(
                entry.pattern.span,
                format!(
                    "`per-file-ignores` glob `{}` matches no checked file",
                    entry.pattern.value
                ),
                "fix the glob (relative to this file's folder) or remove the entry",
            ));
            continue;
        }
        for (id_index, id) in entry.ids.iter().enumerate() {
            let turned_off = settings.rule_level(&id.value) == Some(RuleLevel::Off);
            if turned_off || used.contains(&(index, id_index)) {
                continue;
            }
            findings.push(unused(
                id.span,
                format!(
                    "no `{}` finding to suppress in the files `{}` matches",
                    id.value, entry.pattern.value
                ),
                format!("remove `{}` from this `per-file-ignores` entry", id.value),
            ));
        }
    }
    with_unused(Vec::new(), findings, settings)
}

fn unused(span: Span, message: String, help: impl Into<String>) -> Diagnostic {
    let meta = rule_meta(UNUSED_IGNORE);
    let severity = meta
        .map(|meta| meta.severity)
        .unwrap_or(crate::diag::Severity::Warning);
    Diagnostic::new(UNUSED_IGNORE, severity, span, message).with_help(help)
}

/// The rule id of ignore findings.
pub const UNUSED_IGNORE: &str = "unused-ignore";

/// Appends the ignore findings, honouring `rules: unused-ignore: off | <severity>`.
fn with_unused(
    mut diagnostics: Vec<Diagnostic>,
    findings: Vec<Diagnostic>,
    settings: &LintSettings<'_>,
) -> Vec<Diagnostic> {
    match settings.rule_level(UNUSED_IGNORE) {
        Some(RuleLevel::Off) => {}
        Some(RuleLevel::Severity(severity)) => {
            diagnostics.extend(findings.into_iter().map(|mut finding| {
                finding.severity = severity;
                finding
            }));
        }
        None => diagnostics.extend(findings),
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_comment_forms() {
        let text = "# capable:ignore a, b -- legacy\npath \"x#y\" { // capable:ignore c\n}\n";
        let ignores = find_ignores(text);
        assert_eq!(ignores.len(), 2);
        let ids: Vec<&str> = ignores[0].ids.iter().map(|id| id.value.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(ignores[0].reason.as_deref(), Some("legacy"));
        assert!(!ignores[0].trailing);
        assert_eq!(
            &text[ignores[0].ids[1].span.start..ignores[0].ids[1].span.end],
            "b"
        );
        assert_eq!(ignores[1].ids[0].value, "c");
        assert!(ignores[1].trailing);
        assert_eq!(ignores[1].line, 2);
    }

    #[test]
    fn skips_strings_heredocs_and_block_comments() {
        let text = "path \"a # capable:ignore x\" {}\n/* # capable:ignore y\n*/\nx = <<EOF\n\
                    # capable:ignore z\nEOF\n";
        assert!(find_ignores(text).is_empty());
    }

    #[test]
    fn file_marker_is_its_own_scope() {
        let ignores = find_ignores("# capable:ignore-file policy-admin, token-create -- admin\n");
        assert_eq!(ignores.len(), 1);
        assert_eq!(ignores[0].scope, Scope::File);
        let ids: Vec<&str> = ignores[0].ids.iter().map(|id| id.value.as_str()).collect();
        assert_eq!(ids, ["policy-admin", "token-create"]);
        assert_eq!(ignores[0].reason.as_deref(), Some("admin"));
        assert!(find_ignores("# capable:ignore-files x\n").is_empty());
        assert_eq!(find_ignores("# capable:ignore x\n")[0].scope, Scope::Block);
    }

    #[test]
    fn marker_must_be_a_whole_word() {
        assert!(find_ignores("# capable:ignored x\n").is_empty());
        assert_eq!(find_ignores("#capable:ignore\n")[0].ids.len(), 0);
    }

    #[test]
    fn block_lookup() {
        let blocks = [
            Block {
                span: Span::new(0, 10),
            },
            Block {
                span: Span::new(20, 30),
            },
        ];
        assert_eq!(block_containing(&blocks, 5), Some(0));
        assert_eq!(block_containing(&blocks, 15), None);
        assert_eq!(block_containing(&blocks, 29), Some(1));
        assert_eq!(block_containing(&blocks, 30), None);
    }
}
