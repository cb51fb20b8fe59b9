//! Vault Agent configuration files: the `auto_auth` login and the `template` blocks.

use std::sync::Arc;

use crate::hcl1::{Item, Key, Node, NodeKind};
use crate::source::SourceFile;
use crate::span::Span;

/// The login `auto_auth` performs.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoAuth {
    /// The method type (`kubernetes`, `approle`, `jwt`, ...).
    pub method: String,
    /// The auth mount path without `auth/` and slashes (`kubernetes`), from `mount_path` or
    /// the method type.
    pub mount: String,
    /// `config.role` (or `config.name` for `cert`), when written.
    pub role: Option<String>,
    /// Where the role (or, without one, the method) is written.
    pub span: Span,
}

/// Where a template's text comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateText {
    /// `contents = "..."`: the text and the span of the string (or heredoc) token.
    Inline { text: String, span: Span },
    /// `source = "..."`: the path as written and the span of its string token.
    File { path: String, span: Span },
}

/// One agent configuration file.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub file: Arc<SourceFile>,
    pub auto_auth: Option<AutoAuth>,
    pub templates: Vec<TemplateText>,
}

/// Reads the parts of an agent configuration that decide what it can read. Returns the
/// syntax error (message, span) when the file is not HCL1.
pub fn read(file: Arc<SourceFile>) -> Result<AgentConfig, (String, Span)> {
    let root = crate::hcl1::parse(&file.text).map_err(|error| (error.message, error.span))?;
    let items = root.as_object().unwrap_or(&[]);
    let auto_auth = items
        .iter()
        .filter(|item| first_key(item) == Some("auto_auth"))
        .find_map(|item| auto_auth(&item.value));
    let templates = items
        .iter()
        .filter(|item| first_key(item) == Some("template"))
        .flat_map(|item| blocks(&item.value))
        .filter_map(template)
        .collect();
    Ok(AgentConfig {
        file,
        auto_auth,
        templates,
    })
}

fn first_key<'a>(item: &'a Item<'_>) -> Option<&'a str> {
    item.keys.first().map(Key::name)
}

/// The objects of a block value (a list of objects is accepted too: `template = [{...}]`).
fn blocks<'a, 't>(node: &'a Node<'t>) -> Vec<&'a [Item<'t>]> {
    match &node.kind {
        NodeKind::Object(items) => vec![items.as_slice()],
        NodeKind::List(nodes) => nodes.iter().filter_map(Node::as_object).collect(),
        _ => Vec::new(),
    }
}

fn attribute<'a, 't>(items: &'a [Item<'t>], name: &str) -> Option<&'a Node<'t>> {
    items
        .iter()
        .rev()
        .find(|item| item.keys.len() == 1 && item.keys[0].name == name)
        .map(|item| &item.value)
}

fn string_attribute(items: &[Item], name: &str) -> Option<(String, Span)> {
    let node = attribute(items, name)?;
    node.as_str().map(|text| (text.to_string(), node.span))
}

fn auto_auth(node: &Node) -> Option<AutoAuth> {
    let items = node.as_object()?;
    let method = items
        .iter()
        .find(|item| first_key(item) == Some("method"))?;
    let body = method.value.as_object()?;
    let (method_type, type_span) = match method.keys.get(1) {
        Some(label) => (label.name.to_string(), label.span),
        None => string_attribute(body, "type").unwrap_or_default(),
    };
    let mount = string_attribute(body, "mount_path")
        .map(|(path, _)| path)
        .filter(|path| !path.trim().is_empty())
        .unwrap_or_else(|| format!("auth/{method_type}"));
    let mount = mount
        .trim_matches('/')
        .trim_start_matches("auth/")
        .trim_matches('/')
        .to_string();
    let config = attribute(body, "config").and_then(Node::as_object);
    let role = config.and_then(|config| {
        string_attribute(config, "role").or_else(|| string_attribute(config, "name"))
    });
    let span = role
        .as_ref()
        .map(|(_, span)| *span)
        .unwrap_or(if type_span.is_empty() {
            method.value.span
        } else {
            type_span
        });
    Some(AutoAuth {
        method: method_type,
        mount,
        role: role.map(|(role, _)| role),
        span,
    })
}

fn template(items: &[Item]) -> Option<TemplateText> {
    if let Some((text, span)) = string_attribute(items, "contents") {
        return Some(TemplateText::Inline { text, span });
    }
    string_attribute(items, "source").map(|(path, span)| TemplateText::File { path, span })
}

/// Maps a span of an inline template's text (`inner`) to the configuration file. The text
/// of a heredoc or escape-free string is copied verbatim from the file; otherwise `needle`
/// (the bare secret path) is searched for inside the token, and the token is the fallback.
pub fn inline_span(file: &SourceFile, token: Span, text: &str, inner: Span, needle: &str) -> Span {
    let raw = file.slice(token);
    let body_start = if raw.starts_with("<<") {
        raw.find('\n').map(|newline| token.start + newline + 1)
    } else {
        Some(token.start + 1)
    };
    if let Some(start) = body_start {
        let verbatim = file.text.get(start..start + text.len()) == Some(text);
        if verbatim {
            return Span::new(start + inner.start, start + inner.end);
        }
    }
    match raw.find(needle).filter(|_| !needle.is_empty()) {
        Some(found) => Span::new(token.start + found, token.start + found + needle.len()),
        None => token,
    }
}
