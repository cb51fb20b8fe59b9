//! `data "vault_policy_document"` rendered into the HCL the provider produces, each rendered
//! token mapped back to the Terraform token it came from.
//!
//! We render HCL1 text and run it through the policy parser (rather than building the model
//! directly) so a document is validated by exactly the same code as a written policy; the
//! map makes every diagnostic point at the `rule` block or the attribute in the `.tf` file.
//!
//! Schema (Terraform Vault provider, `vault_policy_document`): repeated `rule` blocks with
//! `path`, `capabilities`, `description`, `required_parameters`, `min_wrapping_ttl`,
//! `max_wrapping_ttl`, and repeated `allowed_parameter` / `denied_parameter` blocks with `key`
//! and `value`. Like the provider, values are written in quotes without escaping, and a
//! document without rules is the empty policy. Terraform itself refuses capabilities outside
//! its own list before Vault sees them; we report them as Vault would. Cost: O(size of the
//! block).

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block};

use super::span_of;
use super::text::MappedText;
use crate::span::Span;

/// Renders the document, or returns the span of the first value that is not a literal.
pub fn render(block: &Block) -> Result<MappedText, Span> {
    let mut out = MappedText::new();
    for rule in block.body.get_blocks("rule") {
        render_rule(rule, &mut out)?;
    }
    Ok(out)
}

fn render_rule(rule: &Block, out: &mut MappedText) -> Result<(), Span> {
    let block_span = span_of(rule);
    let keyword = span_of(&rule.ident);
    let close = Span::new(block_span.end.saturating_sub(1), block_span.end);
    out.atom("path", keyword);
    out.atom(" ", keyword);
    match rule.body.get_attribute("path") {
        Some(path) => {
            let value = literal_string(&path.value)?;
            out.atom(&quote(&value), span_of(&path.value));
        }
        // The provider requires `path`; an unlabeled block is refused like a missing label.
        None => out.atom("\"\"", keyword),
    }
    out.atom(" {\n", keyword);
    if let Some(capabilities) = rule.body.get_attribute("capabilities") {
        render_list(out, "capabilities", capabilities)?;
    }
    if let Some(required) = rule.body.get_attribute("required_parameters") {
        render_list(out, "required_parameters", required)?;
    }
    render_parameters(out, rule, "allowed_parameter", "allowed_parameters")?;
    render_parameters(out, rule, "denied_parameter", "denied_parameters")?;
    for key in ["min_wrapping_ttl", "max_wrapping_ttl"] {
        if let Some(ttl) = rule.body.get_attribute(key) {
            let value = literal_string(&ttl.value)?;
            let key_span = span_of(&ttl.key);
            out.atom(&format!("  {key} = "), key_span);
            out.atom(&quote(&value), span_of(&ttl.value));
            out.atom("\n", key_span);
        }
    }
    out.atom("}\n", close);
    Ok(())
}

/// `  key = ["a", "b"]` from a list attribute.
fn render_list(out: &mut MappedText, key: &str, attribute: &Attribute) -> Result<(), Span> {
    let key_span = span_of(&attribute.key);
    out.atom(&format!("  {key} = "), key_span);
    render_string_array(out, &attribute.value)
}

/// `["a", "b"]` and a newline from an array of literal strings; the span of the first
/// expression that is not one otherwise (the caller drops the partial text then).
fn render_string_array(out: &mut MappedText, value: &Expression) -> Result<(), Span> {
    let value_span = span_of(value);
    let Expression::Array(items) = value else {
        return Err(value_span);
    };
    out.atom("[", value_span);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.atom(", ", value_span);
        }
        let value = literal_string(item)?;
        out.atom(&quote(&value), span_of(item));
    }
    out.atom("]\n", value_span);
    Ok(())
}

/// `  allowed_parameters = { "key" = [...] }` from `allowed_parameter { key value }` blocks.
fn render_parameters(
    out: &mut MappedText,
    rule: &Block,
    block_name: &str,
    key: &str,
) -> Result<(), Span> {
    let blocks: Vec<&Block> = rule.body.get_blocks(block_name).collect();
    let Some(first) = blocks.first() else {
        return Ok(());
    };
    let first_keyword = span_of(&first.ident);
    out.atom(&format!("  {key} = {{\n"), first_keyword);
    for parameter in blocks {
        let keyword = span_of(&parameter.ident);
        match parameter.body.get_attribute("key") {
            Some(name) => {
                let value = literal_string(&name.value)?;
                out.atom("    ", keyword);
                out.atom(&quote(&value), span_of(&name.value));
            }
            None => out.atom("    \"\"", keyword),
        }
        out.atom(" = ", keyword);
        match parameter.body.get_attribute("value") {
            Some(values) => render_string_array(out, &values.value)?,
            None => out.atom("[]\n", keyword),
        }
    }
    out.atom("  }\n", first_keyword);
    Ok(())
}

/// The value of a literal string expression; the expression's span otherwise.
fn literal_string(expression: &Expression) -> Result<String, Span> {
    match expression {
        Expression::String(value) => Ok(value.value().to_string()),
        other => Err(span_of(other)),
    }
}

/// A value in quotes, as the provider writes it: without escaping, so a value holding `"`
/// or `\` reaches Vault as written (and is judged as Vault judges it).
fn quote(value: &str) -> String {
    format!("\"{value}\"")
}
