//! `capable fmt`: HCL1 policies formatted byte for byte as `bao policy fmt` formats them.
//!
//! `bao policy fmt` validates the policy, then runs HCL1's own printer (`printer.Format`):
//! CRLF becomes LF, the tree is printed by HCL1's rules (see `printer`) and a newline is
//! added. [`format_policy`] reproduces that output, with two differences that never change a
//! byte of a file it writes:
//! - JSON policies are left alone (HCL1's printer cannot read them: `bao policy fmt` fails);
//! - where HCL1's printer would drop a comment (a comment between `=` and a one-line list, a
//!   comment it cannot place), capable refuses to format the file and points at the comment,
//!   instead of writing a file that lost it.
//!
//! Validation (what the target would refuse) is the caller's: `cli/fmt.rs` runs the policy
//! parser first, as `bao policy fmt` does. Cost: O(text length × nesting depth).

pub mod diff;
mod printer;
mod tree;

use crate::hcl1;
use crate::hcl1::parser::OffsetMap;
use crate::span::Span;

/// What formatting one policy text gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Formatted {
    /// The formatted text (equal to the input when it is already formatted).
    Text(String),
    /// A JSON policy, left alone.
    Json,
}

/// Why a policy text cannot be formatted.
#[derive(Clone, Debug, PartialEq)]
pub enum FormatError {
    /// HCL1 refuses the text.
    Syntax(hcl1::SyntaxError),
    /// HCL1's printer would drop this comment (its span in the input).
    DroppedComment(Span),
    /// The text is valid HCL1 but the printer's parser disagrees with ours (a bug); the
    /// offset of the token where it happened.
    Internal(usize),
}

impl FormatError {
    pub fn message(&self) -> String {
        match self {
            FormatError::Syntax(error) => error.message.clone(),
            FormatError::DroppedComment(_) => {
                "`bao policy fmt` would drop this comment, so the file is left as it is".into()
            }
            FormatError::Internal(_) => "internal error: the formatter cannot read this file \
                                         although the parser accepts it"
                .into(),
        }
    }

    pub fn help(&self) -> String {
        match self {
            FormatError::Syntax(error) => error.help.clone(),
            FormatError::DroppedComment(_) => "move the comment onto its own line above the \
                                               item it describes, then run `capable fmt` again"
                .into(),
            FormatError::Internal(_) => "please report this file to the capable maintainers".into(),
        }
    }

    pub fn span(&self) -> Span {
        match self {
            FormatError::Syntax(error) => error.span,
            FormatError::DroppedComment(span) => *span,
            FormatError::Internal(offset) => Span::new(*offset, *offset),
        }
    }
}

/// Formats one policy text as `bao policy fmt` would. Never panics on any input.
pub fn format_policy(text: &str) -> Result<Formatted, FormatError> {
    if text.trim_start().starts_with('{') {
        return Ok(Formatted::Json);
    }
    hcl1::parse(text).map_err(FormatError::Syntax)?;
    let map = OffsetMap::new(text);
    let normalized = map.normalized.as_deref().unwrap_or(text);
    let tree = tree::parse(normalized).map_err(|mismatch| {
        FormatError::Internal(map.span(mismatch.offset, mismatch.offset).start)
    })?;
    let (bytes, printed) = printer::print(normalized, &tree);
    let dropped = tree
        .groups
        .iter()
        .zip(&printed)
        .flat_map(|(group, printed)| group.iter().zip(printed))
        .find(|(_, printed)| !**printed);
    if let Some((comment, _)) = dropped {
        return Err(FormatError::DroppedComment(
            map.span(comment.start, comment.end),
        ));
    }
    // Only input bytes and ASCII are printed, cut at token boundaries, so this holds; a
    // failure would be a bug, reported as such.
    String::from_utf8(bytes)
        .map(Formatted::Text)
        .map_err(|_| FormatError::Internal(0))
}

#[cfg(test)]
mod tests;
