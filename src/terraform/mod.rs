//! Vault policies kept in Terraform: `resource "vault_policy"` (heredoc, quoted string,
//! `file("...")` or `data.vault_policy_document.X.hcl`) and `data "vault_policy_document"`.
//!
//! Terraform files are read with `hcl-edit` (HCL2, every node with its byte span). Each
//! policy's text is rebuilt exactly as the provider would send it, together with a map from
//! every byte of that text back to the `.tf` file ([`text::MappedText`]), and then parsed and
//! validated by [`crate::policy::parse_policy_mapped`]: diagnostics and the model's spans
//! point at the token in the `.tf` file.
//!
//! Decisions:
//! - The policy's name is the resource's `name` when it is a literal string, else the
//!   resource label; a document nobody references is named by its own label.
//! - `$${` and `%%{` escapes, quoted-string escapes and `<<-` indentation are mapped byte by
//!   byte, so spans after them stay exact.
//! - `%{...}` directives: the policy is not checked (`terraform-interpolated-policy`).
//!   `${...}` interpolations: the policy is checked with the interpolation as literal text
//!   (HCL1 keeps `${` as text) when that text is accepted; when it is refused, the refusal may
//!   come from the missing value, so the policy is not checked and only the note is given.
//! - `file("p")` (also `"${path.module}/p"`) is read relative to the `.tf` file's folder; a
//!   file already in the workspace is not checked twice. The file must stay inside the
//!   workspace ([`crate::input::confine`]): an absolute path, a `..` or symlink escape, a
//!   FIFO or device, or a file over the size limit is an error at the argument that never
//!   quotes the file.
//! - A file hcl-edit cannot parse gets one `terraform-unparsed` warning and is skipped.
//!
//! Cost: one HCL2 parse per file plus one policy parse per policy.

pub mod check;
mod document;
pub mod inventory;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};

use crate::diag::{Diagnostic, Severity};
use crate::policy::{parse_policy, parse_policy_mapped, Parsed};
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;
use text::{decode_template, Flavor, MappedText};

/// Rule id of the note on policies built from Terraform expressions.
pub const INTERPOLATED: &str = "terraform-interpolated-policy";
/// Rule id of the warning on a `.tf` file that cannot be parsed.
pub const UNPARSED: &str = "terraform-unparsed";
/// Rule id of the warning on a `file("...")` that cannot be read.
pub const FILE_UNREADABLE: &str = "terraform-policy-file";

/// Whether a file name is a Terraform file.
pub fn is_terraform(name: &str) -> bool {
    name.ends_with(".tf")
}

/// One `.tf` file and the policies found in it.
#[derive(Clone, Debug)]
pub struct TerraformFile {
    pub file: Arc<SourceFile>,
    /// Findings about the Terraform itself (unparsed file, interpolated policy, unreadable
    /// `file()`), pointing into `file`.
    pub diagnostics: Vec<Diagnostic>,
    pub policies: Vec<EmbeddedPolicy>,
    /// Each policy heredoc: the whole `<<EOT ... EOT` and its body. `capable:ignore` comments
    /// inside a body are read as comments of the policy.
    pub heredocs: Vec<(Span, Span)>,
    /// The roles, groups, entities and mounts this file declares ([`inventory`]), their
    /// values' source id being this file's position in the list given to [`extract_all`]
    /// plus one.
    pub inventory: crate::inventory::Imported,
    /// The literal `name` of every `vault_policy` resource of the file, checked or not.
    pub policy_names: Vec<String>,
}

/// One policy defined in Terraform.
#[derive(Clone, Debug)]
pub struct EmbeddedPolicy {
    /// The name Vault stores it under.
    pub name: String,
    /// The file its spans point into: the `.tf` file, or the file `file()` reads.
    pub source: Arc<SourceFile>,
    /// The policy text the provider sends to Vault (interpolations left as written).
    pub text: String,
    pub parsed: Parsed,
    /// Checked with `${...}` left as literal text: not the exact policy Vault gets.
    pub interpolated: bool,
}

/// What the extraction needs to know about the workspace.
pub struct Context<'a> {
    /// The folder file names are relative to.
    pub cwd: &'a Path,
    /// Names of the policy files already in the workspace (not checked again via `file()`).
    pub loaded: &'a BTreeSet<String>,
    pub target: Target,
    /// The folders `file()` may read from ([`crate::input::boundaries`]).
    pub boundaries: &'a [std::path::PathBuf],
    /// The size limit of one file read by `file()`.
    pub max_bytes: u64,
}

/// Extracts and checks every policy of the given `.tf` files. Data sources are shared by the
/// files of one folder (a Terraform module). Never panics.
pub fn extract_all(files: &[Arc<SourceFile>], ctx: &Context<'_>) -> Vec<TerraformFile> {
    let parsed: Vec<TerraformSyntax> = files
        .iter()
        .map(|file| (file.clone(), parse_terraform(file)))
        .collect();
    let mut documents = index_documents(&parsed);
    let mut read = BTreeSet::new();
    let mut results: Vec<TerraformFile> = parsed
        .iter()
        .map(|(file, body)| TerraformFile {
            file: file.clone(),
            diagnostics: body.as_ref().err().cloned().into_iter().collect(),
            policies: Vec::new(),
            heredocs: Vec::new(),
            inventory: crate::inventory::Imported::default(),
            policy_names: Vec::new(),
        })
        .collect();
    let bodies: Vec<(Arc<SourceFile>, Option<&Body>)> = parsed
        .iter()
        .map(|(file, body)| (file.clone(), body.as_ref().ok()))
        .collect();
    let names = policy_names(&parsed);
    for (result, (file, _)) in results.iter_mut().zip(&parsed) {
        let folder = folder_of(&file.name);
        result.policy_names = names
            .iter()
            .filter(|((from, _), _)| *from == folder)
            .map(|(_, name)| name.clone())
            .collect();
    }
    for (result, (imported, notes)) in results.iter_mut().zip(inventory::extract(&bodies, &names)) {
        result.inventory = imported;
        result.diagnostics.extend(notes);
    }
    // Resources first: they give the documents they reference their names.
    for (index, (file, body)) in parsed.iter().enumerate() {
        let Ok(body) = body else { continue };
        let mut extractor = Extractor {
            file,
            ctx,
            out: &mut results[index],
            read: &mut read,
        };
        for block in body.blocks() {
            if let Some(label) = typed_label(block, "resource", "vault_policy") {
                extractor.resource(block, &label, &mut documents);
            }
        }
    }
    for (index, (file, body)) in parsed.iter().enumerate() {
        let Ok(body) = body else { continue };
        let mut extractor = Extractor {
            file,
            ctx,
            out: &mut results[index],
            read: &mut read,
        };
        for block in body.blocks() {
            if let Some(label) = typed_label(block, "data", "vault_policy_document") {
                let name = document_name(&documents, file, index, label);
                extractor.document(block, name);
            }
        }
    }
    results
}

/// `(folder, label)` → the name each `vault_policy` resource with a literal `name` stores its
/// policy under. A computed name stays unknown: `vault_policy.x.name` is then computed too.
fn policy_names(parsed: &[TerraformSyntax]) -> inventory::PolicyNames {
    let mut names = inventory::PolicyNames::new();
    for (file, body) in parsed {
        let Ok(body) = body else { continue };
        for block in body.blocks() {
            let Some(label) = typed_label(block, "resource", "vault_policy") else {
                continue;
            };
            if let Some(Expression::String(name)) =
                block.body.get_attribute("name").map(|a| &a.value)
            {
                names
                    .entry((folder_of(&file.name), label))
                    .or_insert_with(|| name.value().to_string());
            }
        }
    }
    names
}

/// A `.tf` file and its syntax tree (or the diagnostic saying why there is none).
type TerraformSyntax = (Arc<SourceFile>, Result<Body, Diagnostic>);

/// Every `vault_policy_document`, by (folder, label); the first one wins.
fn index_documents(parsed: &[TerraformSyntax]) -> BTreeMap<(String, String), DocumentRef> {
    let mut documents = BTreeMap::new();
    for (index, (file, body)) in parsed.iter().enumerate() {
        let Ok(body) = body else { continue };
        for block in body.blocks() {
            if let Some(label) = typed_label(block, "data", "vault_policy_document") {
                documents
                    .entry((folder_of(&file.name), label))
                    .or_insert(DocumentRef {
                        file: index,
                        referenced_as: None,
                    });
            }
        }
    }
    documents
}

/// The name of a document's policy: the first resource referencing it, else its label.
fn document_name(
    documents: &BTreeMap<(String, String), DocumentRef>,
    file: &SourceFile,
    index: usize,
    label: String,
) -> String {
    documents
        .get(&(folder_of(&file.name), label.clone()))
        .filter(|found| found.file == index)
        .and_then(|found| found.referenced_as.clone())
        .unwrap_or(label)
}

/// A `vault_policy_document` and the first resource name that uses it.
struct DocumentRef {
    file: usize,
    referenced_as: Option<String>,
}

fn parse_terraform(file: &SourceFile) -> Result<Body, Diagnostic> {
    let text = blank_empty_heredocs(&file.text);
    hcl_edit::parser::parse_body(&text).map_err(|error| {
        let mut offset = error.location().offset().min(file.text.len());
        while !file.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let end = file.text[offset..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        let message = error.message().trim().to_string();
        Diagnostic::new(
            UNPARSED,
            Severity::Warning,
            Span::new(offset, end),
            format!("cannot read this terraform file: {message}"),
        )
        .with_label("terraform syntax error")
        .with_help(
            "the policies of this file are not checked; `terraform validate` shows the error",
        )
    })
}

/// hcl-edit 0.10 reads an empty heredoc (`<<EOT` directly followed by its `EOT` line) as
/// running on to the next line that ends it, swallowing the blocks in between. Terraform reads
/// it as an empty string, so we rewrite it as `""` padded with spaces (same length, same
/// lines: every span stays valid). Cost: O(n).
fn blank_empty_heredocs(text: &str) -> std::borrow::Cow<'_, str> {
    let mut edited: Option<String> = None;
    let mut from = 0;
    while let Some(found) = text[from..].find("<<") {
        let start = from + found;
        from = start + 2;
        let Some(end) = empty_heredoc_end(text, start) else {
            continue;
        };
        let edited = edited.get_or_insert_with(|| text.to_string());
        let blanked: String = text[start..end]
            .char_indices()
            .map(|(index, c)| match (index, c) {
                (0 | 1, _) => '"',
                (_, '\r' | '\n') => c,
                _ => ' ',
            })
            .collect();
        edited.replace_range(start..end, &blanked);
        from = end;
    }
    match edited {
        Some(edited) => std::borrow::Cow::Owned(edited),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// The end of `<<ID` (or `<<-ID`) at `start` when its very next line is the closing `ID`.
fn empty_heredoc_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start + 2..];
    let rest_start = start + 2 + usize::from(rest.starts_with('-'));
    let rest = &text[rest_start..];
    let ident_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    if ident_len == 0 {
        return None;
    }
    let ident = &rest[..ident_len];
    let after = &rest[ident_len..];
    let newline = if after.starts_with("\r\n") {
        2
    } else if after.starts_with('\n') {
        1
    } else {
        return None;
    };
    let line = &after[newline..];
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let closing = line[indent..].strip_prefix(ident)?;
    let continues = closing
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if continues {
        return None;
    }
    Some(rest_start + ident_len + newline + indent + ident_len)
}

/// The second label of a `kind "type" "label"` block of the given type.
fn typed_label(block: &Block, kind: &str, type_name: &str) -> Option<String> {
    if block.ident.as_str() != kind || block.labels.len() != 2 {
        return None;
    }
    (block.labels[0].as_str() == type_name).then(|| block.labels[1].as_str().to_string())
}

/// The folder part of a file name (`""` for a bare name).
fn folder_of(name: &str) -> String {
    match name.rsplit_once(['/', '\\']) {
        Some((folder, _)) => folder.to_string(),
        None => String::new(),
    }
}

fn span_of(node: &impl hcl_edit::Span) -> Span {
    node.span()
        .map_or(Span::default(), |range| Span::new(range.start, range.end))
}

struct Extractor<'a> {
    file: &'a Arc<SourceFile>,
    ctx: &'a Context<'a>,
    out: &'a mut TerraformFile,
    /// Files already read through `file()`: each is checked once.
    read: &'a mut BTreeSet<String>,
}

impl Extractor<'_> {
    fn note(&mut self, span: Span, message: String, help: &str) {
        self.out.diagnostics.push(
            Diagnostic::new(INTERPOLATED, Severity::Info, span, message)
                .with_label("computed by terraform")
                .with_help(help),
        );
    }

    fn resource(
        &mut self,
        block: &Block,
        label: &str,
        documents: &mut BTreeMap<(String, String), DocumentRef>,
    ) {
        let name = match block.body.get_attribute("name").map(|a| &a.value) {
            Some(Expression::String(name)) => name.value().to_string(),
            _ => label.to_string(),
        };
        let Some(policy) = block.body.get_attribute("policy") else {
            return;
        };
        let value = unwrap_parens(&policy.value);
        match value {
            Expression::HeredocTemplate(heredoc) => {
                let body = span_of(&heredoc.template);
                let strip = heredoc.indent().unwrap_or(0);
                self.out.heredocs.push((span_of(value), body));
                self.template(&name, body, Flavor::Heredoc, strip, span_of(value));
            }
            Expression::String(_) | Expression::StringTemplate(_) => {
                let quoted = span_of(value);
                let inner = Span::new(quoted.start + 1, quoted.end.saturating_sub(1));
                self.template(&name, inner, Flavor::Quoted, 0, quoted);
            }
            Expression::FuncCall(call) if call.name.name.as_str() == "file" => {
                self.file_call(&name, call.args.iter().next(), span_of(value));
            }
            Expression::Traversal(traversal) => {
                let key = document_key(traversal);
                let known = key.as_ref().and_then(|label| {
                    documents.get_mut(&(folder_of(&self.file.name), label.clone()))
                });
                match known {
                    Some(document) => {
                        document.referenced_as.get_or_insert(name);
                    }
                    None => self.computed(&name, span_of(value)),
                }
            }
            _ => self.computed(&name, span_of(value)),
        }
    }

    fn computed(&mut self, name: &str, span: Span) {
        self.note(
            span,
            format!("the policy `{name}` is computed by terraform, so it is not checked"),
            "capable checks heredocs, quoted strings, `file(\"...\")` and `vault_policy_document`; check the generated policy with `capable check` on its rendered text",
        );
    }

    /// Parses a policy text rendered from this file, its spans mapped back into the file.
    /// An empty text has nothing to point into, so its diagnostics point at `whole` (the value
    /// or block it came from). Cost: one policy parse.
    fn parse_rendered(&self, text: &MappedText, whole: Span, name: String) -> Parsed {
        let map = |span: Span| {
            if text.text.is_empty() {
                whole
            } else {
                text.map_span(span)
            }
        };
        parse_policy_mapped(self.file.clone(), &text.text, &map, name, self.ctx.target)
    }

    /// A heredoc body or quoted string at `body`.
    fn template(&mut self, name: &str, body: Span, flavor: Flavor, strip: usize, whole: Span) {
        let mut text = MappedText::new();
        let marks = decode_template(
            &self.file.text,
            body.start,
            body.end,
            flavor,
            strip,
            &mut text,
        );
        if let Some(directive) = marks.iter().find(|mark| mark.directive) {
            let shown = self.file.slice(directive.span).to_string();
            self.note(
                directive.span,
                format!("the policy `{name}` uses the template directive `{shown}`, so it is not checked"),
                "write the policy out literally, or render it and check the result",
            );
            return;
        }
        let parsed = self.parse_rendered(&text, whole, name.to_string());
        let Some(first) = marks.first() else {
            self.push(name, self.file.clone(), &text.text, parsed, false);
            return;
        };
        let shown = self.file.slice(first.span).to_string();
        if parsed.policy.is_none() {
            self.note(
                first.span,
                format!("the policy `{name}` interpolates `{shown}` and its literal text is refused, so it is not checked"),
                "the refusal may come from the missing value; check the rendered policy instead",
            );
            return;
        }
        self.note(
            first.span,
            format!("the policy `{name}` interpolates `{shown}`: it is checked with the interpolation as literal text"),
            "findings on interpolated paths may not apply to the values terraform fills in",
        );
        self.push(name, self.file.clone(), &text.text, parsed, true);
    }

    fn push(
        &mut self,
        name: &str,
        source: Arc<SourceFile>,
        text: &str,
        parsed: Parsed,
        interpolated: bool,
    ) {
        self.out.policies.push(EmbeddedPolicy {
            name: name.to_string(),
            source,
            text: text.to_string(),
            parsed,
            interpolated,
        });
    }

    /// `file("relative/path")`, also with a `${path.module}/` prefix.
    fn file_call(&mut self, name: &str, argument: Option<&Expression>, whole: Span) {
        let Some(relative) = argument.and_then(file_argument) else {
            self.computed(name, whole);
            return;
        };
        let folder = folder_of(&self.file.name);
        let joined = crate::workspace::normalize(&Path::new(&folder).join(&relative));
        let display = match joined.to_string_lossy().replace('\\', "/") {
            empty if empty.is_empty() => ".".to_string(),
            display => display,
        };
        if self.ctx.loaded.contains(&display) || !self.read.insert(display.clone()) {
            return;
        }
        let path = self.ctx.cwd.join(&joined);
        let text = match crate::input::read_confined(
            self.ctx.boundaries,
            &relative,
            &path,
            self.ctx.max_bytes,
        ) {
            Ok(text) => text,
            Err(refusal) => {
                let span = span_of_argument(argument, whole);
                self.out
                    .diagnostics
                    .push(file_refused(&relative, &display, name, span, &refusal));
                return;
            }
        };
        let source = Arc::new(SourceFile::new(display, text.clone()));
        let mut parsed = parse_policy(source.clone(), self.ctx.target);
        if let Some(policy) = &mut parsed.policy {
            policy.name = name.to_string();
        }
        self.push(name, source, &text, parsed, false);
    }

    fn document(&mut self, block: &Block, name: String) {
        match document::render(block) {
            Ok(text) => {
                // A document without rules renders to the empty policy: point at the block.
                let parsed = self.parse_rendered(&text, span_of(block), name.clone());
                self.push(&name, self.file.clone(), &text.text, parsed, false);
            }
            Err(span) => {
                let shown = self.file.slice(span).to_string();
                self.note(
                    span,
                    format!("the policy document `{name}` uses the terraform expression `{shown}`, so it is not checked"),
                    "capable checks documents whose values are literal strings and lists",
                );
            }
        }
    }
}

/// The finding on a `file()` that is not read: an escape from the workspace is an error, a
/// missing or unreadable file a warning. Never quotes the file.
fn file_refused(
    written: &str,
    display: &str,
    name: &str,
    span: Span,
    refusal: &crate::input::Refusal,
) -> Diagnostic {
    if refusal.is_escape() {
        return Diagnostic::new(
            FILE_UNREADABLE,
            Severity::Error,
            span,
            format!("refused to read `{written}`, the policy `{name}`: {refusal}"),
        )
        .with_label("outside the workspace")
        .with_help(crate::input::ESCAPE_HELP);
    }
    Diagnostic::new(
        FILE_UNREADABLE,
        Severity::Warning,
        span,
        format!("cannot read `{display}`, the policy `{name}`: {refusal}"),
    )
    .with_label("policy file")
    .with_help("the path is relative to the folder of this `.tf` file; fix it or add the file")
}

fn unwrap_parens(expression: &Expression) -> &Expression {
    match expression {
        Expression::Parenthesis(inner) => unwrap_parens(inner.inner()),
        other => other,
    }
}

fn span_of_argument(argument: Option<&Expression>, whole: Span) -> Span {
    argument.map_or(whole, span_of)
}

/// The literal path of `file(...)`: a string, or `"${path.module}/..."`.
fn file_argument(argument: &Expression) -> Option<String> {
    match argument {
        Expression::String(path) => Some(path.value().to_string()),
        Expression::StringTemplate(template) => {
            let mut path = String::new();
            for element in template.iter() {
                match element {
                    hcl_edit::template::Element::Literal(literal) => path.push_str(literal.value()),
                    hcl_edit::template::Element::Interpolation(interpolation)
                        if path.is_empty() && is_path_module(&interpolation.expr) =>
                    {
                        path.push('.');
                    }
                    _ => return None,
                }
            }
            Some(path)
        }
        _ => None,
    }
}

fn is_path_module(expression: &Expression) -> bool {
    let Expression::Traversal(traversal) = expression else {
        return false;
    };
    let root = matches!(&traversal.expr, Expression::Variable(name) if name.as_str() == "path");
    let attrs = traversal_names(traversal);
    root && attrs == ["module"]
}

/// `data.vault_policy_document.LABEL.hcl` → `LABEL`.
fn document_key(traversal: &hcl_edit::expr::Traversal) -> Option<String> {
    let root = matches!(&traversal.expr, Expression::Variable(name) if name.as_str() == "data");
    let names = traversal_names(traversal);
    match names.as_slice() {
        [kind, label, attribute]
            if root && kind == "vault_policy_document" && attribute == "hcl" =>
        {
            Some(label.clone())
        }
        _ => None,
    }
}

fn traversal_names(traversal: &hcl_edit::expr::Traversal) -> Vec<String> {
    traversal
        .operators
        .iter()
        .map(|operator| match operator.value() {
            hcl_edit::expr::TraversalOperator::GetAttr(name) => name.as_str().to_string(),
            _ => String::from("\u{0}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_range_spans_point_into_the_whole_file() {
        let text = "x = <<EOT\npath \"a\" { capabilities = [\"nope\"] }\nEOT\n";
        let file = Arc::new(SourceFile::new("x.tf", text));
        let start = text.find("path").unwrap();
        let end = text.rfind("EOT").unwrap();
        let parsed = crate::policy::parse_policy_embedded(
            file.clone(),
            start..end,
            "x".into(),
            Target::Vault,
        );
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(file.slice(parsed.diagnostics[0].span), "\"nope\"");
    }

    #[test]
    fn only_empty_heredocs_are_blanked() {
        let text = "a = <<EOT\nEOT\nb = <<-X\n  X\nc = <<EOT\nx\nEOT\n";
        let blanked = blank_empty_heredocs(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(
            blanked,
            "a = \"\"   \n   \nb = \"\"  \n   \nc = <<EOT\nx\nEOT\n"
        );
    }

    #[test]
    fn valid_model_spans_are_mapped() {
        let text = "resource \"vault_policy\" \"p\" {\n  policy = <<-EOT\n    path \"secret/*\" {\n      capabilities = [\"read\"]\n    }\n  EOT\n}\n";
        let file = Arc::new(SourceFile::new("p.tf", text));
        let loaded = BTreeSet::new();
        let ctx = Context {
            cwd: Path::new("."),
            loaded: &loaded,
            target: Target::Vault,
            boundaries: &[],
            max_bytes: crate::input::DEFAULT_MAX_BYTES,
        };
        let extracted = extract_all(std::slice::from_ref(&file), &ctx);
        let policy = extracted[0].policies[0].parsed.policy.as_ref().unwrap();
        let rule = &policy.rules[0];
        assert_eq!(file.slice(rule.pattern_span), "\"secret/*\"");
        assert_eq!(file.slice(rule.capability_list[0].span), "\"read\"");
        assert!(file.slice(rule.block_span).starts_with("path"));
        assert!(file.slice(rule.block_span).ends_with('}'));
        assert_eq!(policy.name, "p");
    }
}
