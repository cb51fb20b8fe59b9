//! `control_group` blocks (spec 1.9). The two products decode different shapes; the target
//! decides. OpenBao's order of checks and texts were read off OpenBao 2.7.2's answers:
//! keys, `self_auth_allowed` decoding, factors (name, keys, decoding; collected over all
//! factors), `ttl`, operation names, factor count, then each factor's completeness.

use super::decode::{Decoder, FieldMatches, Source};
use super::duration::{parse_duration_second, DurationInput};
use super::gostr::quote;
use super::model::{ControlGroup, ControlGroupFactor, ParamValue};
use crate::hcl1::{Item, Node, NodeKind};
use crate::span::{Span, Spanned};

/// One control-group problem: the message after `error handling control_group: ` (OpenBao)
/// or the whole message (Vault), and the token it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct CgError {
    pub message: String,
    pub span: Span,
    pub help: String,
}

fn cg_error(message: impl Into<String>, span: Span, help: impl Into<String>) -> CgError {
    CgError {
        message: message.into(),
        span,
        help: help.into(),
    }
}

/// Operation names OpenBao accepts in `controlled_capabilities` (logical operations).
const BAO_OPERATIONS: [&str; 14] = [
    "create",
    "read",
    "update",
    "patch",
    "delete",
    "list",
    "help",
    "alias-lookahead",
    "resolve-role",
    "header",
    "rollback",
    "renew",
    "revoke",
    "scan",
];

fn key_line(decoder: &Decoder<'_>, item: &Item) -> usize {
    item.assign
        .map_or(0, |span| decoder.source.line(span.start))
}

fn type_name(node: &Node) -> &'static str {
    super::decode::go_type(node)
}

fn decode_ttl(decoder: &Decoder<'_>, body: &[Item]) -> Result<Option<(ParamValue, Span)>, CgError> {
    let matches = FieldMatches::collect(body, "ttl");
    let mut last = None;
    for source in matches.sources() {
        let span = match source {
            Source::Node(node) => node.span,
            Source::List(items) => items.first().map(|i| i.span()).unwrap_or_default(),
        };
        let value = decoder
            .value_into(&"root.ttl", source, last.as_ref().map(|(v, _)| v))
            .map_err(|e| {
                cg_error(
                    format!("path control_group: {}", e.message),
                    e.span,
                    TTL_HELP,
                )
            })?;
        last = Some((value, span));
    }
    Ok(last)
}

const TTL_HELP: &str =
    "write the ttl as seconds (`3600`) or a duration string (`\"1h\"`, `\"2d\"`)";

/// OpenBao: validates and decodes a `control_group` value. Every independent problem is
/// returned; the first is the one OpenBao reports.
pub fn lower_openbao(decoder: &Decoder<'_>, value: &Node) -> Result<ControlGroup, Vec<CgError>> {
    let NodeKind::Object(body) = &value.kind else {
        return Err(vec![cg_error(
            format!("cannot check HCL keys of type {}", type_name(value)),
            value.span,
            "write `control_group { factor \"name\" { ... } }` as a block",
        )]);
    };
    let mut errors = Vec::new();
    for item in body {
        let Some(key) = item.keys.first() else {
            continue;
        };
        if !["ttl", "self_auth_allowed", "factor"].contains(&key.name()) {
            errors.push(cg_error(
                format!(
                    "invalid key {}{}",
                    quote(&key.name),
                    super::lower::on_line(key_line(decoder, item))
                ),
                key.span,
                "a control_group takes `ttl`, `self_auth_allowed` and `factor` blocks",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for source in FieldMatches::collect(body, "self_auth_allowed").sources() {
        if let Err(e) = decoder.boolean(&"root.self_auth_allowed", source) {
            return Err(vec![cg_error(
                format!("path control_group: {}", e.message),
                e.span,
                "`self_auth_allowed` takes `true` or `false`",
            )]);
        }
    }
    let factors = lower_bao_factors(decoder, body)?;
    let ttl = decode_ttl(decoder, body).map_err(|e| vec![e])?;
    let ttl = match ttl {
        None => None,
        Some((raw, span)) => match parse_duration_second(DurationInput::from(&raw)) {
            Ok(nanos) => Some(Spanned::new(nanos / 1_000_000_000, span)),
            Err(e) => {
                return Err(vec![cg_error(
                    format!("path control_group: invalid ttl: {e}"),
                    span,
                    TTL_HELP,
                )])
            }
        },
    };
    check_bao_operations(&factors)?;
    if factors.is_empty() {
        return Err(vec![cg_error(
            "requires at least one factor but had none",
            value.span,
            "add `factor \"name\" { controlled_capabilities = [...] identity { group_names = [...] approvals = 1 } }`",
        )]);
    }
    let mut errors = Vec::new();
    for (index, (factor, _)) in factors.iter().enumerate() {
        let problem = if factor.controlled_capabilities.is_empty() {
            Some((
                "missing controlled capabilities",
                "list the operations this factor controls in `controlled_capabilities`",
            ))
        } else if factor.approvals <= 0 {
            Some((
                "missing required approvals",
                "set `approvals` to 1 or more inside `identity`",
            ))
        } else if factor.group_names.is_empty() {
            Some((
                "missing approving groups",
                "name the approving groups in `identity { group_names = [...] }`",
            ))
        } else {
            None
        };
        if let Some((text, help)) = problem {
            errors.push(cg_error(
                format!("factor {index}: {text}"),
                factor.span,
                help,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ControlGroup {
        span: value.span,
        ttl,
        factors: factors.into_iter().map(|(factor, _)| factor).collect(),
    })
}

fn check_bao_operations(factors: &[FactorWithOperations]) -> Result<(), Vec<CgError>> {
    for (_, operations) in factors {
        for operation in operations {
            if !BAO_OPERATIONS.contains(&operation.value.as_str()) {
                return Err(vec![cg_error(
                    format!(
                        "path control_group Operation(s) not valid: {}",
                        operation.value
                    ),
                    operation.span,
                    format!(
                        "controlled capabilities are operation names: {}",
                        BAO_OPERATIONS.map(|o| format!("`{o}`")).join(", ")
                    ),
                )]);
            }
        }
    }
    Ok(())
}

/// A decoded factor and its controlled capabilities with their spans.
type FactorWithOperations = (ControlGroupFactor, Vec<Spanned<String>>);

const FACTOR_PREFIX: &str = "error handling control_group factor: path control_group factor: ";

/// Every `factor` item: name, keys and decoding. Errors are collected over all factors.
fn lower_bao_factors(
    decoder: &Decoder<'_>,
    body: &[Item],
) -> Result<Vec<FactorWithOperations>, Vec<CgError>> {
    let mut factors = Vec::new();
    let mut errors = Vec::new();
    for item in body
        .iter()
        .filter(|i| i.keys.first().is_some_and(|k| k.name == "factor"))
    {
        let Some(name) = item.keys.get(1) else {
            errors.push(cg_error(
                format!("{FACTOR_PREFIX}require name key"),
                item.span(),
                "name the factor: `factor \"approvers\" { ... }`",
            ));
            continue;
        };
        match lower_bao_factor(decoder, item, &name.name) {
            Ok(factor) => factors.push(factor),
            Err(mut factor_errors) => errors.append(&mut factor_errors),
        }
    }
    if errors.is_empty() {
        Ok(factors)
    } else {
        Err(errors)
    }
}

fn lower_bao_factor(
    decoder: &Decoder<'_>,
    item: &Item,
    name: &str,
) -> Result<FactorWithOperations, Vec<CgError>> {
    let NodeKind::Object(body) = &item.value.kind else {
        return Err(vec![cg_error(
            format!(
                "{FACTOR_PREFIX}cannot check HCL keys of type {}",
                type_name(&item.value)
            ),
            item.value.span,
            "write the factor as a block",
        )]);
    };
    let mut errors = Vec::new();
    for entry in body {
        let Some(key) = entry.keys.first() else {
            continue;
        };
        if !["controlled_capabilities", "identity"].contains(&key.name()) {
            errors.push(cg_error(
                format!(
                    "{FACTOR_PREFIX}invalid key {}{}",
                    quote(&key.name),
                    super::lower::on_line(key_line(decoder, entry))
                ),
                key.span,
                "a factor takes `controlled_capabilities` and an `identity` block",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let decode_error = |e: super::decode::DecodeError, help: &str| {
        vec![cg_error(
            format!("{FACTOR_PREFIX}{}", e.message),
            e.span,
            help,
        )]
    };
    let mut operations: Vec<Spanned<String>> = Vec::new();
    for source in FieldMatches::collect(body, "controlled_capabilities").sources() {
        decoder
            .string_list(&"root.controlled_capabilities", source, &mut operations)
            .map_err(|e| {
                decode_error(e, "`controlled_capabilities` is a list of operation names")
            })?;
    }
    let mut factor = ControlGroupFactor {
        name: name.to_string(),
        span: item.span(),
        group_names: Vec::new(),
        group_ids: Vec::new(),
        approvals: 0,
        controlled_capabilities: operations.iter().map(|o| o.value.clone()).collect(),
    };
    let identity = FieldMatches::collect(body, "identity");
    for source in identity.sources() {
        let identity_body: Vec<Item> = match source {
            Source::Node(node) => {
                return Err(decode_error(
                    super::decode::DecodeError {
                        message: format!(
                            "At {}:{}: root.Identity: not an object type for struct ({})",
                            decoder.source.line_col(node.span.start).0,
                            decoder.source.line_col(node.span.start).1,
                            type_name(node)
                        ),
                        span: node.span,
                    },
                    "write `identity { group_names = [...] approvals = 1 }`",
                ))
            }
            // A prefixed `identity "x" {}` decodes nothing (observed: approvals stay unset).
            Source::List(items) => items
                .iter()
                .filter(|i| i.keys.len() == 1)
                .map(|i| Item {
                    keys: i.keys.iter().cloned().collect(),
                    assign: i.assign,
                    value: i.value.clone(),
                })
                .collect(),
        };
        lower_identity(decoder, &identity_body, &mut factor).map_err(|e| {
            decode_error(
                e,
                "`identity` takes `group_names` (a list) and `approvals` (a number)",
            )
        })?;
    }
    Ok((factor, operations))
}

fn lower_identity(
    decoder: &Decoder<'_>,
    body: &[Item],
    factor: &mut ControlGroupFactor,
) -> Result<(), super::decode::DecodeError> {
    let mut names = Vec::new();
    for source in FieldMatches::collect(body, "group_names").sources() {
        decoder.string_list(&"root.Identity.group_names", source, &mut names)?;
    }
    let mut ids = Vec::new();
    for source in FieldMatches::collect(body, "group_ids").sources() {
        decoder.string_list(&"root.Identity.group_ids", source, &mut ids)?;
    }
    for source in FieldMatches::collect(body, "approvals").sources() {
        factor.approvals = decoder.int(&"root.Identity.Approvals", source)?.value;
    }
    factor
        .group_names
        .extend(names.into_iter().map(|n| n.value));
    factor.group_ids.extend(ids.into_iter().map(|n| n.value));
    Ok(())
}

/// Vault (spec 1.9, VP shape): `ttl`, `factor "name" { identity { group_names, group_ids,
/// approvals }, controlled_capabilities }`, validated against the block's capabilities.
/// The spec lists no key check for Vault's control group, so unknown keys are not refused.
pub fn lower_vault(
    decoder: &Decoder<'_>,
    value: &Node,
    block_capabilities: &[String],
) -> Result<ControlGroup, Vec<CgError>> {
    let NodeKind::Object(body) = &value.kind else {
        return Err(vec![cg_error(
            format!("cannot check HCL keys of type {}", type_name(value)),
            value.span,
            "write `control_group { factor \"name\" { ... } }` as a block",
        )]);
    };
    let ttl = match decode_ttl(decoder, body).map_err(|e| vec![e])? {
        None => None,
        Some((raw, span)) => match parse_duration_second(DurationInput::from(&raw)) {
            Ok(nanos) => Some(Spanned::new(nanos / 1_000_000_000, span)),
            Err(e) => {
                return Err(vec![cg_error(
                    format!("error parsing control group max ttl: {e}"),
                    span,
                    TTL_HELP,
                )])
            }
        },
    };
    let mut factors = Vec::new();
    let mut errors = Vec::new();
    for item in body
        .iter()
        .filter(|i| i.keys.first().is_some_and(|k| k.name == "factor"))
    {
        let name = item
            .keys
            .get(1)
            .map(|k| k.name.to_string())
            .unwrap_or_default();
        let mut factor = ControlGroupFactor {
            name,
            span: item.span(),
            group_names: Vec::new(),
            group_ids: Vec::new(),
            approvals: 0,
            controlled_capabilities: Vec::new(),
        };
        let NodeKind::Object(factor_body) = &item.value.kind else {
            errors.push(cg_error(
                "no control_group factor provided",
                item.span(),
                "write the factor as a block with an `identity` block",
            ));
            continue;
        };
        let mut operations: Vec<Spanned<String>> = Vec::new();
        for source in FieldMatches::collect(factor_body, "controlled_capabilities").sources() {
            if let Err(e) =
                decoder.string_list(&"root.controlled_capabilities", source, &mut operations)
            {
                errors.push(cg_error(
                    e.message,
                    e.span,
                    "`controlled_capabilities` is a list of capabilities",
                ));
            }
        }
        factor.controlled_capabilities = operations.iter().map(|o| o.value.clone()).collect();
        let identity: Vec<&Item> = factor_body
            .iter()
            .filter(|i| i.keys.first().is_some_and(|k| k.name == "identity"))
            .collect();
        if identity.is_empty() {
            errors.push(cg_error(
                "no control_group factor provided",
                item.span(),
                "add `identity { group_names = [...] approvals = 1 }` to the factor",
            ));
            continue;
        }
        for entry in identity {
            if let NodeKind::Object(identity_body) = &entry.value.kind {
                if let Err(e) = lower_identity(decoder, identity_body, &mut factor) {
                    errors.push(cg_error(
                        e.message,
                        e.span,
                        "`identity` takes `group_names`, `group_ids` and `approvals`",
                    ));
                }
            }
        }
        if factor.approvals <= 0 || (factor.group_names.is_empty() && factor.group_ids.is_empty()) {
            errors.push(cg_error(
                "must provide more than one identity group and approvals > 0",
                item.span(),
                "name at least one group in `group_names` or `group_ids` and set `approvals` to 1 or more",
            ));
        }
        if let Some(outside) = operations
            .iter()
            .find(|o| !block_capabilities.contains(&o.value))
        {
            errors.push(cg_error(
                "control group factor capabilities must be a subset of the policy's capabilities",
                outside.span,
                format!("`{}` is not among this block's capabilities", outside.value),
            ));
        }
        factors.push(factor);
    }
    if factors.is_empty() && errors.is_empty() {
        errors.push(cg_error(
            "no control group factors provided",
            value.span,
            "add at least one `factor \"name\" { ... }` block",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ControlGroup {
        span: value.span,
        ttl,
        factors,
    })
}
