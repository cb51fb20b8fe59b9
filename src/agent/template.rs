//! consul-template actions: finds the Vault secrets a template reads or writes.
//!
//! Only the actions (`{{ ... }}`) are parsed, with nom; everything between them is ignored.
//! Inside an action, the functions `secret`, `secrets` and `pkiCert` followed by string
//! literals are what matter: `{{ with secret "secret/data/ai/openai" }}`,
//! `{{ (secret "kv/x").Data.value }}`, `{{ range secrets "kv/" }}`, trim markers (`{{-`, `-}}`),
//! pipes and variables included. Comments (`{{/* ... */}}`) are skipped. Cost: one pass over
//! the text.

use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_until, take_while1};
use nom::character::complete::{anychar, char, multispace0};
use nom::combinator::{opt, recognize};
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::span::Span;

/// What a template does with a secret path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `secret "path"`: a read (GET).
    Read,
    /// `secret "path" "k=v" ...` or `pkiCert "path" ...`: a write (PUT).
    Write,
    /// `secrets "path"`: a LIST.
    List,
}

/// One secret a template touches.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretUse {
    /// The function as written (`secret`, `secrets`, `pkiCert`).
    pub function: String,
    pub access: Access,
    /// The path argument, unescaped.
    pub path: String,
    /// The path's string literal (quotes included), as byte offsets into the template text.
    pub span: Span,
    /// The `key=value` arguments after the path.
    pub parameters: Vec<(String, String)>,
}

/// A template that cannot be read (an action that never closes).
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateError {
    pub message: String,
    pub span: Span,
    pub help: String,
}

/// One lexical token inside an action.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A string literal, unescaped, with its span (relative to the action start).
    Str(String, usize, usize),
    Word(String),
    Punct(char),
}

/// Every secret function call with a literal path, in order.
pub fn secret_uses(text: &str) -> Result<Vec<SecretUse>, TemplateError> {
    let mut uses = Vec::new();
    let mut offset = 0;
    while let Some(found) = text[offset..].find("{{") {
        let open = offset + found;
        let body_start = open + 2;
        let (body_end, close_len) = action_end(text, body_start).ok_or_else(|| TemplateError {
            message: "template action `{{` is never closed".into(),
            span: Span::new(open, open + 2),
            help: "close the action with `}}`".into(),
        })?;
        let body = &text[body_start..body_end];
        uses.extend(calls_in_action(body, body_start));
        offset = body_end + close_len;
    }
    Ok(uses)
}

/// Finds the `}}` closing an action starting at `start`, skipping string literals and
/// comments. Returns the offset of `}}` and its length.
fn action_end(text: &str, start: usize) -> Option<(usize, usize)> {
    let mut rest = &text[start..];
    loop {
        if rest.is_empty() {
            return None;
        }
        if rest.starts_with("}}") {
            return Some((text.len() - rest.len(), 2));
        }
        if rest.starts_with("/*") {
            let (after, _) = comment(rest).ok()?;
            rest = after;
            continue;
        }
        if let Ok((after, _)) = string_literal(rest) {
            rest = after;
            continue;
        }
        let (after, _) = anychar::<&str, nom::error::Error<&str>>(rest).ok()?;
        rest = after;
    }
}

fn comment(input: &str) -> IResult<&str, &str> {
    recognize((tag("/*"), take_until("*/"), tag("*/"))).parse(input)
}

/// A Go interpreted string (`"..."` with backslash escapes) or raw string (`` `...` ``).
fn string_literal(input: &str) -> IResult<&str, String> {
    alt((interpreted_string, raw_string)).parse(input)
}

fn interpreted_string(input: &str) -> IResult<&str, String> {
    let escaped = preceded(char('\\'), anychar).map(|c| match c {
        'n' => "\n".to_string(),
        't' => "\t".to_string(),
        other => other.to_string(),
    });
    let plain = is_not("\"\\\n").map(str::to_string);
    delimited(char('"'), many0(alt((plain, escaped))), char('"'))
        .map(|parts| parts.concat())
        .parse(input)
}

fn raw_string(input: &str) -> IResult<&str, String> {
    delimited(char('`'), opt(is_not("`")), char('`'))
        .map(|text: Option<&str>| text.unwrap_or("").to_string())
        .parse(input)
}

fn word(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '$')).parse(input)
}

/// Lexes one action body (between `{{` and `}}`); unknown characters are skipped.
fn tokens(body: &str) -> Vec<Token> {
    let mut found = Vec::new();
    let mut rest = body;
    loop {
        let (after, _) = multispace0::<&str, nom::error::Error<&str>>(rest).unwrap_or((rest, ""));
        rest = after;
        if rest.is_empty() {
            return found;
        }
        let start = body.len() - rest.len();
        if let Ok((after, _)) = comment(rest) {
            rest = after;
        } else if let Ok((after, text)) = string_literal(rest) {
            found.push(Token::Str(text, start, body.len() - after.len()));
            rest = after;
        } else if let Ok((after, text)) = word(rest) {
            found.push(Token::Word(text.to_string()));
            rest = after;
        } else if let Ok((after, c)) = anychar::<&str, nom::error::Error<&str>>(rest) {
            found.push(Token::Punct(c));
            rest = after;
        } else {
            return found;
        }
    }
}

fn calls_in_action(body: &str, body_start: usize) -> Vec<SecretUse> {
    let tokens = tokens(body);
    let mut uses = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        let Token::Word(name) = token else {
            continue;
        };
        let access = match name.as_str() {
            "secret" => Access::Read,
            "secrets" => Access::List,
            "pkiCert" => Access::Write,
            _ => continue,
        };
        let arguments: Vec<(&String, usize, usize)> = tokens[index + 1..]
            .iter()
            .map_while(|token| match token {
                Token::Str(text, start, end) => Some((text, *start, *end)),
                _ => None,
            })
            .collect();
        let Some(((path, start, end), rest)) = arguments.split_first() else {
            continue;
        };
        let parameters: Vec<(String, String)> = rest
            .iter()
            .map(|(text, _, _)| match text.split_once('=') {
                Some((key, value)) => (key.to_string(), value.to_string()),
                None => (text.to_string(), String::new()),
            })
            .collect();
        let access = if access == Access::Read && !parameters.is_empty() {
            Access::Write
        } else {
            access
        };
        uses.push(SecretUse {
            function: name.clone(),
            access,
            path: path.to_string(),
            span: Span::new(body_start + start, body_start + end),
            parameters,
        });
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Actions are read one by one and never nested into each other, so depth costs nothing:
    /// 50,000 nested `with` blocks and 50,000 parentheses around a call are read in one pass,
    /// with no recursion to overflow.
    #[test]
    fn deep_nesting_is_read_in_one_pass() {
        let depth = 50_000;
        let blocks = format!(
            "{}{{{{ secret \"kv/deep\" }}}}{}",
            "{{ with secret \"kv/a\" }}".repeat(depth),
            "{{ end }}".repeat(depth)
        );
        let uses = secret_uses(&blocks).unwrap();
        assert_eq!(uses.len(), depth + 1);
        assert_eq!(uses[depth].path, "kv/deep");
        let parens = format!(
            "{{{{ {}secret \"kv/p\"{} }}}}",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let uses = secret_uses(&parens).unwrap();
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].path, "kv/p");
    }

    #[test]
    fn finds_reads_writes_and_lists() {
        let text = "a {{- with secret \"secret/data/ai/openai\" -}}{{ .Data.data.key }}{{ end }}\n\
                    {{ (secret `kv/x`).Data.v | toJSON }}\n\
                    {{ with secret \"pki/issue/web\" \"common_name=a.b\" \"ttl=1h\" }}{{ end }}\n\
                    {{/* secret \"ignored\" */}}{{ range secrets \"kv/apps/\" }}{{ . }}{{ end }}";
        let uses = secret_uses(text).unwrap();
        let summary: Vec<(&str, Access)> =
            uses.iter().map(|u| (u.path.as_str(), u.access)).collect();
        assert_eq!(
            summary,
            [
                ("secret/data/ai/openai", Access::Read),
                ("kv/x", Access::Read),
                ("pki/issue/web", Access::Write),
                ("kv/apps/", Access::List),
            ]
        );
        assert_eq!(
            &text[uses[0].span.start..uses[0].span.end],
            "\"secret/data/ai/openai\""
        );
        assert_eq!(uses[2].parameters[0], ("common_name".into(), "a.b".into()));
    }

    #[test]
    fn strings_may_hold_braces_and_unclosed_actions_fail() {
        let uses = secret_uses("{{ secret \"a/}}b\" }}").unwrap();
        assert_eq!(uses[0].path, "a/}}b");
        let error = secret_uses("x\n{{ with secret \"a\" ").unwrap_err();
        assert_eq!(error.span, Span::new(2, 4));
    }
}
