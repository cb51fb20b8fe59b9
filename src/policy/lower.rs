//! Lowering the HCL1 tree into the model, validated as the target's write path validates it
//! (`ParseACLPolicy` behind `sys/policies/acl`, spec sections 1 and 5).
//!
//! Error reporting. The product stops at the first error, except for invalid keys, which it
//! collects per object. We report every *independent* error we find (all invalid keys, every
//! invalid capability before a `deny`, problems in later path blocks...), in the order the
//! product checks them, so that our first error is always the one the product reports:
//! top-level keys, `name`, then each path block in source order (template check, keys,
//! control group, decoding in struct-field order, `expiration`, `+*`, old-style `policy`,
//! capabilities, then — unless the block stopped at `deny` — parameters, wrapping TTLs, the
//! filter path and pagination).
//!
//! Messages. Each message contains the product's own error text for that item, without the
//! `failed to parse policy: ` wrapper and without go-multierror's framing. For the openbao
//! target, item texts that OpenBao 2.7.2 wraps in `path "<label>": ` carry that prefix too.
//!
//! Like the write endpoint (spec 5), a text that is valid standard base64 is decoded first.

use std::borrow::Cow;
use std::sync::Arc;

use super::capability::{CapSet, Capability};
use super::control_group;
use super::decode::{BodyFields, DecodeError, Decoder, FieldMatches, ParamEntries, Source};
use super::duration::{parse_duration_second, DurationInput, Nanos};
use super::gostr::quote;
use super::model::{ParamCaseClash, ParamEntry, ParamMap, ParamValue, Policy, Rule, RuleExtra};
use super::pattern::PathPattern;
use super::template::{check_filter_template, identity_markers, UNBALANCED};
use super::{abstime, Parsed};
use crate::diag::Diagnostic;
use crate::hcl1::{self, Item, Key, NodeKind};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};
use crate::suggest::{closest, edit_distance_with_transpositions};
use crate::target::Target;

/// Keys valid in a path block for both products (spec 1.3).
const COMMON_PATH_KEYS: [&str; 10] = [
    "comment",
    "policy",
    "capabilities",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
];
const VAULT_PATH_KEYS: [&str; 1] = ["subscribe_event_types"];
const OPENBAO_PATH_KEYS: [&str; 3] = [
    "pagination_limit",
    "expiration",
    "list_scan_response_keys_filter_path",
];
/// The path-block fields [`Lowering::decode_fields`] decodes (both targets'); `F_*` name
/// their indices.
const DECODED_PATH_FIELDS: [&str; 12] = [
    "policy",
    "capabilities",
    "expiration",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "mfa_methods",
    "subscribe_event_types",
    "pagination_limit",
    "list_scan_response_keys_filter_path",
];
// Each field's index, found in the list when compiling (a name not in it fails the build).
const F_POLICY: usize = path_field("policy");
const F_CAPABILITIES: usize = path_field("capabilities");
const F_EXPIRATION: usize = path_field("expiration");
const F_MIN_WRAPPING_TTL: usize = path_field("min_wrapping_ttl");
const F_MAX_WRAPPING_TTL: usize = path_field("max_wrapping_ttl");
const F_ALLOWED_PARAMETERS: usize = path_field("allowed_parameters");
const F_DENIED_PARAMETERS: usize = path_field("denied_parameters");
const F_REQUIRED_PARAMETERS: usize = path_field("required_parameters");
const F_MFA_METHODS: usize = path_field("mfa_methods");
const F_SUBSCRIBE_EVENT_TYPES: usize = path_field("subscribe_event_types");
const F_PAGINATION_LIMIT: usize = path_field("pagination_limit");
const F_LIST_SCAN_RESPONSE_KEYS_FILTER_PATH: usize =
    path_field("list_scan_response_keys_filter_path");

/// The index of `name` in [`DECODED_PATH_FIELDS`], for the constants above.
const fn path_field(name: &str) -> usize {
    let mut index = 0;
    while index < DECODED_PATH_FIELDS.len() {
        if same_bytes(DECODED_PATH_FIELDS[index].as_bytes(), name.as_bytes()) {
            return index;
        }
        index += 1;
    }
    panic!("not a decoded path field")
}

/// `a == b`, usable in a `const fn`.
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}
const TOP_LEVEL_KEYS: [&str; 2] = ["name", "path"];
const OLD_POLICIES: [&str; 4] = ["deny", "read", "write", "sudo"];

pub(super) fn parse_policy(source: Arc<SourceFile>, target: Target) -> Parsed {
    match go_base64_decode(&source.text) {
        Some(decoded) => parse_base64_body(&source, &decoded, target),
        None => parse_text(source, target),
    }
}

/// The write endpoint base64-decodes a body that is valid standard base64 before parsing it
/// (spec 5): a file such as `path` alone is decoded into bytes first. We do the same; the
/// decoded text becomes the policy's source and every diagnostic points at the whole file.
fn parse_base64_body(source: &Arc<SourceFile>, decoded: &[u8], target: Target) -> Parsed {
    let decoded_text = String::from_utf8_lossy(decoded).into_owned();
    let decoded_file = Arc::new(SourceFile::new(source.name.clone(), decoded_text));
    let mut parsed = parse_text(decoded_file, target);
    let whole = Span::new(0, source.text.len());
    for diagnostic in &mut parsed.diagnostics {
        diagnostic.span = whole;
        let note =
            "the whole text is valid base64, so the write endpoint decodes it before parsing";
        diagnostic.help = Some(match diagnostic.help.take() {
            Some(help) => format!("{note}; {help}"),
            None => note.to_string(),
        });
    }
    parsed
}

/// Go's `base64.StdEncoding.DecodeString` (padded; `\r` and `\n` ignored). `None` when the
/// text is not valid base64 (or holds nothing once newlines are dropped).
fn go_base64_decode(text: &str) -> Option<Vec<u8>> {
    // Policy text fails on its first blank or quote: refuse it without copying the text.
    let is_symbol = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    if !text
        .bytes()
        .all(|b| is_symbol(&b) || b == b'\r' || b == b'\n')
    {
        return None;
    }
    let symbols: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    if symbols.is_empty() || !symbols.len().is_multiple_of(4) {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    let chunks = symbols.len() / 4;
    for (index, chunk) in symbols.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|b| **b == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != chunks) {
            return None;
        }
        let mut bits = 0u32;
        for &symbol in &chunk[..4 - padding] {
            bits = (bits << 6) | value(symbol)?;
        }
        bits <<= 6 * padding as u32;
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&bytes[..3 - padding]);
    }
    Some(out)
}

fn parse_text(source: Arc<SourceFile>, target: Target) -> Parsed {
    parse_text_with(source, target, PARALLEL_ITEMS_FROM)
}

/// [`parse_text`], lowering on all cores from `parallel_from` top-level items (tests compare
/// both ways on one text).
fn parse_text_with(source: Arc<SourceFile>, target: Target, parallel_from: usize) -> Parsed {
    let mut lowering = Lowering {
        source: &source,
        target,
        decoder: Decoder {
            source: &source,
            json: source.text.trim_start().starts_with('{'),
        },
        diagnostics: Vec::new(),
    };
    let lowered = lowering.lower(parallel_from);
    let diagnostics = lowering.diagnostics;
    let refused = diagnostics.iter().any(Diagnostic::is_invalid);
    let policy = match lowered {
        Some((declared_name, rules)) if !refused => Some(Policy {
            name: source.stem(),
            source: source.clone(),
            declared_name,
            templated: rules.iter().any(Rule::is_templated),
            rules,
            namespace: String::new(),
            template_flags: Default::default(),
        }),
        _ => None,
    };
    Parsed {
        policy,
        diagnostics,
    }
}

/// The number of top-level items from which a policy is lowered on all cores, and the size
/// of each chunk then (below it, a run's per-file parallelism keeps the cores busy, and a
/// chunk this big costs far more than its task).
const PARALLEL_ITEMS_FROM: usize = 4096;

/// The chunks of a batch of [`Lowering::lower_paths`]: enough tasks to keep the cores even,
/// few enough items that a batch's syntax trees are a small part of the whole.
const CHUNKS_PER_BATCH: usize = 16;

struct Lowering<'a> {
    source: &'a SourceFile,
    target: Target,
    decoder: Decoder<'a>,
    diagnostics: Vec<Diagnostic>,
}

/// What the decoder produced for one path block's fields.
#[derive(Default)]
struct Fields<'t> {
    policy: Option<Spanned<String>>,
    capabilities: Vec<Spanned<Cow<'t, str>>>,
    capabilities_span: Option<Span>,
    expiration: Option<Spanned<String>>,
    min_ttl: Option<Spanned<ParamValue>>,
    max_ttl: Option<Spanned<ParamValue>>,
    allowed: Option<Vec<(Key<'t>, Vec<Spanned<ParamValue>>)>>,
    denied: Option<Vec<(Key<'t>, Vec<Spanned<ParamValue>>)>>,
    required: Vec<Spanned<String>>,
    mfa: Vec<Spanned<String>>,
    pagination: Option<Spanned<i64>>,
    filter: Option<Spanned<String>>,
    subscribe: Vec<Spanned<String>>,
}

type Lowered = (Option<Spanned<String>>, Vec<Rule>);

/// ` on line N` as the target words an unknown key's line; nothing for a block key, which
/// the target places on "line 0" (an HCL1 quirk, spec 1.2): our diagnostic points at the key
/// itself, and "line 0" would only mislead.
pub(crate) fn on_line(line: usize) -> String {
    if line == 0 {
        return String::new();
    }
    format!(" on line {line}")
}

impl<'a> Lowering<'a> {
    fn error(
        &mut self,
        rule: &'static str,
        span: Span,
        message: String,
        label: &'static str,
        help: String,
    ) {
        self.diagnostics.push(
            Diagnostic::error(rule, span, message)
                .with_label(label)
                .with_help(help),
        );
    }

    fn lower(&mut self, parallel_from: usize) -> Option<Lowered> {
        let text = &self.source.text;
        if text.is_empty() {
            self.error(
                "invalid-empty-policy",
                Span::new(0, 0),
                "'policy' parameter not supplied or empty".into(),
                "empty file",
                "the write endpoint refuses an empty policy; add a `path \"...\" { capabilities = [...] }` block".into(),
            );
            return None;
        }
        let root = match hcl1::parse(text) {
            Ok(root) => root,
            Err(error) => {
                let help = if error.help.is_empty() {
                    "fix the HCL syntax; policies are HCL1 (or JSON when the text starts with `{`)"
                        .to_string()
                } else {
                    error.help.clone()
                };
                self.error(
                    "invalid-syntax",
                    error.span,
                    // HCL1's own text; the span shows where (OpenBao prints `At L:C: ` before it
                    // for HCL, nothing for JSON parser errors).
                    error.message.clone(),
                    "syntax error",
                    help,
                );
                return None;
            }
        };
        // A JSON text comes back flattened once, as HCL1 does (`hcl1::parse`); flattening it
        // again would split items OpenBao keeps whole (`{"path": {"a": {"b": [{...}]}}}` is
        // `path "a"` with an invalid key `b`, checked against OpenBao 2.7.2).
        let span = root.span;
        let NodeKind::Object(items) = root.kind else {
            self.error(
                "invalid-syntax",
                span,
                "does not contain a root object".into(),
                "not an object",
                "a policy is a list of `path` blocks".into(),
            );
            return None;
        };
        self.check_top_level_keys(&items);
        let declared_name = self.lower_name(&items);
        let rules = self.lower_paths(items, parallel_from);
        Some((declared_name, rules))
    }

    /// The rules of the `path` items, in order; the items are consumed. A big policy's items
    /// are lowered in batches, each batch in chunks on all cores (each chunk with its own
    /// diagnostics, joined in order: the same rules and diagnostics as one pass, since a
    /// block's lowering reads nothing of the others), and each batch's syntax trees are
    /// dropped once it is lowered: the tree and the rules are never both whole, which was the
    /// peak of `caps` and `check` on a big policy. Cost: O(items).
    fn lower_paths(&mut self, items: Vec<Item<'_>>, parallel_from: usize) -> Vec<Rule> {
        if items.len() < parallel_from {
            return self.lower_path_items(&items);
        }
        use rayon::prelude::*;
        let chunk = parallel_from.max(1);
        // Every item is at most one rule: no growth copies of the (large) rules.
        let mut rules = Vec::with_capacity(items.len());
        let mut items = items.into_iter();
        loop {
            let batch: Vec<Item<'_>> = items.by_ref().take(chunk * CHUNKS_PER_BATCH).collect();
            if batch.is_empty() {
                return rules;
            }
            let parts: Vec<(Vec<Rule>, Vec<Diagnostic>)> = batch
                .par_chunks(chunk)
                .map(|items| {
                    let mut part = self.with_no_diagnostics();
                    let rules = part.lower_path_items(items);
                    (rules, part.diagnostics)
                })
                .collect();
            drop(batch);
            for (mut part_rules, mut diagnostics) in parts {
                rules.append(&mut part_rules);
                self.diagnostics.append(&mut diagnostics);
            }
        }
    }

    /// The same lowering with a list of diagnostics of its own, for one chunk of items.
    fn with_no_diagnostics(&self) -> Lowering<'a> {
        Lowering {
            source: self.source,
            target: self.target,
            decoder: Decoder {
                source: self.source,
                json: self.decoder.json,
            },
            diagnostics: Vec::new(),
        }
    }

    fn lower_path_items(&mut self, items: &[Item<'_>]) -> Vec<Rule> {
        // Every top-level item is at most one rule: no growth copies of the (large) rules.
        let mut rules = Vec::with_capacity(items.len());
        for item in items {
            if item.keys.first().is_some_and(|k| k.name == "path") {
                if let Some(rule) = self.lower_path(item) {
                    rules.push(rule);
                }
            }
        }
        rules
    }

    /// The line the target names for an unknown key: that of its `=`, or 0 for a block
    /// (HCL1 quirk, spec 1.2; see [`on_line`]).
    fn key_line(&self, item: &Item) -> usize {
        item.assign.map_or(0, |span| self.source.line(span.start))
    }

    fn check_top_level_keys(&mut self, items: &[Item]) {
        for item in items {
            let Some(key) = item.keys.first() else {
                continue;
            };
            if TOP_LEVEL_KEYS.contains(&key.name()) {
                continue;
            }
            let help = match suggest(&key.name, &TOP_LEVEL_KEYS) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "a policy holds only `path \"...\" { ... }` blocks (and an optional `name = \"...\"`)".into(),
            };
            let message = format!(
                "invalid key {}{}",
                quote(&key.name),
                on_line(self.key_line(item))
            );
            self.error(
                "invalid-key",
                key.span,
                message,
                "unknown top-level key",
                help,
            );
        }
    }

    /// `name = "..."` decodes into a string; the last one wins (spec 1.2).
    fn lower_name(&mut self, items: &[Item]) -> Option<Spanned<String>> {
        let matches = FieldMatches::collect(items, "name");
        let mut declared = None;
        for source in matches.sources() {
            match self.decoder.string(&"root.name", source) {
                Ok(name) => declared = Some(name),
                Err(error) => {
                    self.decode_error(String::new(), error, "`name` takes a string: `name = \"dev\"`; the stored name is the file name anyway");
                    return None;
                }
            }
        }
        declared
    }

    fn decode_error(&mut self, prefix: String, error: DecodeError, help: &str) {
        self.error(
            "invalid-type",
            error.span,
            format!("{prefix}{}", error.message),
            "wrong type",
            help.to_string(),
        );
    }

    fn valid_path_key(&self, key: &str) -> bool {
        COMMON_PATH_KEYS.contains(&key)
            || match self.target {
                Target::Vault => VAULT_PATH_KEYS.contains(&key),
                Target::OpenBao => OPENBAO_PATH_KEYS.contains(&key),
            }
    }

    fn path_key_help(&self, key: &str) -> String {
        if VAULT_PATH_KEYS.contains(&key) && self.target == Target::OpenBao {
            return format!("`{key}` is a Vault key; OpenBao does not know it (check with `--target vault` if this policy is for Vault)");
        }
        if OPENBAO_PATH_KEYS.contains(&key) && self.target == Target::Vault {
            return format!("`{key}` is an OpenBao key; Vault does not know it (use `--target openbao` if this policy is for OpenBao)");
        }
        let mut valid: Vec<&str> = COMMON_PATH_KEYS.to_vec();
        match self.target {
            Target::Vault => valid.extend(VAULT_PATH_KEYS),
            Target::OpenBao => valid.extend(OPENBAO_PATH_KEYS),
        }
        match suggest(key, &valid) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "keys valid in a path block: {}",
                valid
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn lower_path(&mut self, item: &Item) -> Option<Rule> {
        let (label, label_span) = match item.keys.get(1) {
            Some(key) => (key.name(), key.span),
            None => ("path", item.keys[0].span),
        };
        let prefix = BlockPrefix {
            label,
            target: self.target,
        };

        let markers = match identity_markers(label) {
            Ok(markers) => markers,
            Err(_) => {
                self.error(
                    "invalid-template",
                    label_span,
                    format!("{}{UNBALANCED}", prefix.outer()),
                    "unbalanced `{{` / `}}`",
                    "every `{{` needs a matching `}}`, e.g. `secret/{{identity.entity.id}}/*`"
                        .into(),
                );
                Vec::new()
            }
        };
        // Compared once per label, not once per marker: linear in the label's length.
        let verbatim = !markers.is_empty() && self.label_is_verbatim(label_span, label);
        let template_vars: Vec<Spanned<String>> = markers
            .iter()
            .map(|marker| {
                let span = match verbatim {
                    true if marker.end <= label.len() => Span::new(
                        label_span.start + 1 + marker.start,
                        label_span.start + 1 + marker.end,
                    ),
                    _ => label_span,
                };
                Spanned::new(marker.name.clone(), span)
            })
            .collect();

        let NodeKind::Object(body) = &item.value.kind else {
            self.error(
                "invalid-type",
                item.value.span,
                format!(
                    "{}cannot check HCL keys of type {}",
                    prefix.path(),
                    super::decode::go_type(&item.value)
                ),
                "not a block",
                "write the rule as a block: `path \"secret/*\" { capabilities = [\"read\"] }`"
                    .into(),
            );
            return None;
        };

        for entry in body {
            let Some(key) = entry.keys.first() else {
                continue;
            };
            if self.valid_path_key(&key.name) {
                continue;
            }
            let message = format!(
                "{}invalid key {}{}",
                prefix.path(),
                quote(&key.name),
                on_line(self.key_line(entry))
            );
            let help = self.path_key_help(&key.name);
            self.error("invalid-key", key.span, message, "unknown key", help);
        }

        // Every `control_group` item is validated (OpenBao collects the errors of each); the
        // last valid one is kept. Extra keys (`control_group "x" {}`, or JSON flattening
        // `{"control_group": {"factor": {"f": {...}}}}` into `control_group factor f {...}`)
        // are ignored: the item's value is taken as the control group.
        let control_group_items: Vec<&Item> = body
            .iter()
            .filter(|e| e.keys.first().is_some_and(|k| k.name == "control_group"))
            .collect();
        let mut control_group = None;
        if self.target == Target::OpenBao {
            for cg_item in &control_group_items {
                match control_group::lower_openbao(&self.decoder, &cg_item.value) {
                    Ok(group) => control_group = Some(group),
                    Err(errors) => {
                        for error in errors {
                            let message = format!(
                                "{}error handling control_group: {}",
                                prefix.outer(),
                                error.message
                            );
                            self.error(
                                "invalid-control-group",
                                error.span,
                                message,
                                "invalid control group",
                                error.help,
                            );
                        }
                    }
                }
            }
        }

        let mut fields = self.decode_fields(body, prefix);

        let mut rule = Rule {
            pattern_span: label_span,
            block_span: item.span(),
            template_vars,
            capabilities_span: fields.capabilities_span,
            ..Rule::bare(label, None, CapSet::EMPTY)
        };
        let mut extra = RuleExtra {
            old_policy: fields.policy.clone(),
            control_group,
            expiration: fields.expiration.clone(),
            ..RuleExtra::default()
        };

        // OpenBao: a rule whose expiration has passed is dropped before any later check.
        if let Some(expiration) = fields.expiration.as_ref().filter(|e| !e.value.is_empty()) {
            match abstime::parse_absolute_time(&expiration.value) {
                Ok(when) if abstime::now_unix() > when => {
                    rule.expired = true;
                    rule.pattern = PathPattern::parse(label)
                        .ok()
                        .filter(|_| markers.is_empty());
                    rule.set_extra(extra);
                    return Some(rule);
                }
                Ok(_) => {}
                Err(error) => {
                    let message = format!("{}invalid expiration time: {error}", prefix.path());
                    self.error(
                        "invalid-expiration",
                        expiration.span,
                        message,
                        "not a time",
                        "write an RFC 3339 time (`\"2030-01-31T00:00:00Z\"`) or Unix seconds (`\"1896134400\"`)".into(),
                    );
                }
            }
        }

        self.lower_pattern(&mut rule, label, label_span, markers.is_empty());
        let stopped_at_deny = self.lower_capabilities(&mut rule, &fields, prefix);

        if self.target == Target::Vault {
            for cg_item in &control_group_items {
                let names: Vec<String> = rule
                    .capability_list
                    .iter()
                    .map(|c| c.value.name().to_string())
                    .collect();
                match control_group::lower_vault(&self.decoder, &cg_item.value, &names) {
                    Ok(group) => extra.control_group = Some(group),
                    Err(errors) => {
                        for error in errors {
                            self.error(
                                "invalid-control-group",
                                error.span,
                                error.message,
                                "invalid control group",
                                error.help,
                            );
                        }
                    }
                }
            }
        }
        if stopped_at_deny {
            rule.set_extra(extra);
            return Some(rule);
        }
        extra.allowed_parameters = fields.allowed.as_ref().map(|entries| param_map(entries));
        extra.denied_parameters = fields.denied.as_ref().map(|entries| param_map(entries));
        let allowed = fields.allowed.as_deref().unwrap_or_default();
        let denied = fields.denied.as_deref().unwrap_or_default();
        extra.param_case_clashes = case_clashes("allowed_parameters", allowed);
        extra
            .param_case_clashes
            .extend(case_clashes("denied_parameters", denied));
        self.lower_wrapping_ttls(&mut extra, &fields, prefix);
        extra.mfa_methods = std::mem::take(&mut fields.mfa);
        extra.required_parameters = std::mem::take(&mut fields.required);
        extra.subscribe_event_types = std::mem::take(&mut fields.subscribe);
        self.lower_filter_path(rule.capabilities, &mut extra, &fields, prefix);
        extra.pagination_limit = fields.pagination;
        rule.set_extra(extra);
        Some(rule)
    }

    /// The span of `start..end` inside a label, when the label's source text is the label
    /// itself between quotes (no escapes); the whole label otherwise.
    /// Whether the label is written as a plain quoted string (no escapes), so offsets into
    /// it are offsets into the source. Cost: O(label length).
    fn label_is_verbatim(&self, label_span: Span, label: &str) -> bool {
        let written = self.source.slice(label_span);
        let inner = written
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'));
        inner == Some(label)
    }

    /// Decodes the block's fields in the order of the product's struct fields (the decoder
    /// reports the first failing field in that order).
    fn decode_fields<'t>(&mut self, body: &'t [Item<'t>], prefix: BlockPrefix<'_>) -> Fields<'t> {
        let mut fields = Fields::default();
        let fields_of = BodyFields::of(body, &DECODED_PATH_FIELDS);
        let decoder = Decoder {
            source: self.source,
            json: self.decoder.json,
        };

        for source in fields_of.collect(F_POLICY).sources() {
            match decoder.string(&"root.Policy", source) {
                Ok(value) => fields.policy = Some(value),
                Err(e) => {
                    self.decode_error(prefix.path(), e, "`policy` takes one string: `\"deny\"`, `\"read\"`, `\"write\"` or `\"sudo\"`");
                    break;
                }
            }
        }
        let capabilities = fields_of.collect(F_CAPABILITIES);
        if let (Some(first), Some(last)) = (
            capabilities.exact.first().or(capabilities.prefix.first()),
            capabilities.last_span(),
        ) {
            fields.capabilities_span = Some(first.pos().join(last));
        }
        for source in capabilities.sources() {
            if let Err(e) =
                decoder.string_list(&"root.Capabilities", source, &mut fields.capabilities)
            {
                self.decode_error(
                    prefix.path(),
                    e,
                    "`capabilities` takes a list of strings: `capabilities = [\"read\", \"list\"]`",
                );
                break;
            }
        }
        if self.target == Target::OpenBao {
            for source in fields_of.collect(F_EXPIRATION).sources() {
                match decoder.string(&"root.expiration", source) {
                    Ok(value) => fields.expiration = Some(value),
                    Err(e) => {
                        self.decode_error(
                            prefix.path(),
                            e,
                            "`expiration` takes a string: an RFC 3339 time or Unix seconds",
                        );
                        break;
                    }
                }
            }
        }
        for (index, slot) in [
            (F_MIN_WRAPPING_TTL, &mut fields.min_ttl),
            (F_MAX_WRAPPING_TTL, &mut fields.max_ttl),
        ] {
            let key = fields_of.name(index);
            for source in fields_of.collect(index).sources() {
                let span = source_span(source);
                let previous = slot.as_ref().map(|v| &v.value);
                match decoder.value_into(&format_args!("root.{key}"), source, previous) {
                    Ok(value) => *slot = Some(Spanned::new(value, span)),
                    Err(e) => {
                        self.decode_error(prefix.path(), e, TTL_HELP);
                        break;
                    }
                }
            }
        }
        for (index, slot) in [
            (F_ALLOWED_PARAMETERS, &mut fields.allowed),
            (F_DENIED_PARAMETERS, &mut fields.denied),
        ] {
            let key = fields_of.name(index);
            let matches = fields_of.collect(index);
            if matches.is_empty() {
                continue;
            }
            let mut entries = ParamEntries::default();
            for source in matches.sources() {
                if let Err(e) = decoder.param_map(&format_args!("root.{key}"), source, &mut entries)
                {
                    self.decode_error(prefix.path(), e, "parameters map names to lists of values: `allowed_parameters = { \"ttl\" = [] }`");
                    break;
                }
            }
            *slot = Some(entries.entries);
        }
        let vault = self.target == Target::Vault;
        let string_lists = [
            (F_REQUIRED_PARAMETERS, &mut fields.required),
            (F_MFA_METHODS, &mut fields.mfa),
        ]
        .into_iter()
        .chain(vault.then_some((F_SUBSCRIBE_EVENT_TYPES, &mut fields.subscribe)));
        for (index, slot) in string_lists {
            let key = fields_of.name(index);
            for source in fields_of.collect(index).sources() {
                if let Err(e) = decoder.string_list(&format_args!("root.{key}"), source, slot) {
                    self.decode_error(
                        prefix.path(),
                        e,
                        &format!("`{key}` takes a list of strings"),
                    );
                    break;
                }
            }
        }
        if self.target == Target::OpenBao {
            for source in fields_of.collect(F_PAGINATION_LIMIT).sources() {
                match decoder.int(&"root.pagination_limit", source) {
                    Ok(value) => fields.pagination = Some(value),
                    Err(e) => {
                        self.decode_error(
                            prefix.path(),
                            e,
                            "`pagination_limit` takes an integer: `pagination_limit = 100`",
                        );
                        break;
                    }
                }
            }
            for source in fields_of
                .collect(F_LIST_SCAN_RESPONSE_KEYS_FILTER_PATH)
                .sources()
            {
                match decoder.string(&"root.list_scan_response_keys_filter_path", source) {
                    Ok(value) => fields.filter = Some(value),
                    Err(e) => {
                        self.decode_error(prefix.path(), e, "`list_scan_response_keys_filter_path` takes a template string such as `\"{{ .path }}{{ .key }}\"`");
                        break;
                    }
                }
            }
        }
        fields
    }

    /// Leading-slash strip, `+*` check and storage class (spec 1.5). A templated label is
    /// normalised after substitution, but its `+*` is refused at write time already.
    fn lower_pattern(&mut self, rule: &mut Rule, label: &str, label_span: Span, plain: bool) {
        let stripped = label.strip_prefix('/').unwrap_or(label);
        if let Some(offset) = super::pattern::find_plus_star(stripped) {
            let shift = label.len() - stripped.len() + offset;
            let span = if self.label_is_verbatim(label_span, label) {
                Span::new(label_span.start + 1 + shift, label_span.start + 3 + shift)
            } else {
                label_span
            };
            self.error(
                "invalid-wildcard",
                span,
                format!("path {}: invalid use of wildcards ('+*' is forbidden)", quote(stripped)),
                "`+*` is forbidden",
                "`+` matches one whole segment and `*` only ends a pattern; write `+/*` or `+` instead".into(),
            );
            return;
        }
        if plain {
            rule.pattern = PathPattern::parse(label).ok();
        }
    }

    /// Old-style `policy` mapping, then the capability walk that stops at `deny` (spec 1.3,
    /// 1.4). Returns whether the block stopped at `deny`.
    fn lower_capabilities(
        &mut self,
        rule: &mut Rule,
        fields: &Fields,
        prefix: BlockPrefix<'_>,
    ) -> bool {
        // The capabilities as written, then those an old-style `policy` maps to (`deny`
        // replaces the list). Borrowed: nothing is copied per capability.
        let mut listed: &[Spanned<Cow<'_, str>>] = &fields.capabilities;
        let mut mapped: (&[&str], Span) = (&[], Span::default());
        if let Some(policy) = fields.policy.as_ref().filter(|p| !p.value.is_empty()) {
            let names: &[&str] = match policy.value.as_str() {
                "deny" => {
                    listed = &[];
                    &["deny"]
                }
                "read" => &["read", "list"],
                "write" => &["create", "read", "update", "delete", "list"],
                "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
                other => {
                    let help = match suggest(other, &OLD_POLICIES) {
                        Some(near) => format!("did you mean `{near}`? old-style `policy` takes `deny`, `read`, `write` or `sudo`; prefer `capabilities = [...]`"),
                        None => "old-style `policy` takes `deny`, `read`, `write` or `sudo`; prefer `capabilities = [...]`".into(),
                    };
                    let message = format!("{}invalid policy {}", prefix.path(), quote(other));
                    self.error(
                        "invalid-policy-value",
                        policy.span,
                        message,
                        "not an old-style policy",
                        help,
                    );
                    return false;
                }
            };
            mapped = (names, policy.span);
        }
        let written = listed
            .iter()
            .map(|capability| Spanned::new(&*capability.value, capability.span))
            .chain(mapped.0.iter().map(|name| Spanned::new(*name, mapped.1)));
        // Sized once: a growing list would keep up to twice its length per block.
        rule.capability_list
            .reserve_exact(listed.len() + mapped.0.len());
        for capability in written {
            if capability.value == "deny" {
                rule.capabilities = CapSet::only(Capability::Deny);
                rule.capability_list
                    .push(Spanned::new(Capability::Deny, capability.span));
                return true;
            }
            match Capability::parse(capability.value, self.target) {
                Some(parsed) => {
                    rule.capabilities = rule.capabilities.with(parsed);
                    rule.capability_list
                        .push(Spanned::new(parsed, capability.span));
                }
                None => {
                    let help = self.capability_help(capability.value);
                    let message = format!(
                        "{}invalid capability {}",
                        prefix.path(),
                        quote(capability.value)
                    );
                    self.error(
                        "invalid-capability",
                        capability.span,
                        message,
                        "not a capability",
                        help,
                    );
                }
            }
        }
        false
    }

    fn capability_help(&self, name: &str) -> String {
        let valid: Vec<&str> = Capability::ALL
            .into_iter()
            .filter(|c| c.valid_for(self.target))
            .map(Capability::name)
            .collect();
        let listing = valid
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(other) = Capability::ALL.into_iter().find(|c| c.name() == name) {
            let product = if other.valid_for(Target::OpenBao) {
                "an OpenBao"
            } else {
                "a Vault"
            };
            return format!("`{name}` is {product} capability; the `{}` target does not know it. Valid: {listing}", self.target);
        }
        if name == "write" {
            return format!("`write` is an old-style `policy` value, not a capability; use `create` and `update`. Valid: {listing}");
        }
        if name == "root" {
            return format!("`root` is never valid in policy text. Valid: {listing}");
        }
        match suggest(name, &valid) {
            Some(near) => format!("did you mean `{near}`? Valid: {listing}"),
            None => format!("capabilities are case-sensitive; valid: {listing}"),
        }
    }

    fn lower_wrapping_ttls(
        &mut self,
        extra: &mut RuleExtra,
        fields: &Fields,
        prefix: BlockPrefix<'_>,
    ) {
        let mut parsed: [Option<(Nanos, Span)>; 2] = [None, None];
        for (index, (key, value)) in [
            ("min_wrapping_ttl", &fields.min_ttl),
            ("max_wrapping_ttl", &fields.max_ttl),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(value) = value else { continue };
            match parse_duration_second(DurationInput::from(&value.value)) {
                Ok(nanos) => parsed[index] = Some((nanos, value.span)),
                Err(error) => {
                    self.error(
                        "invalid-ttl",
                        value.span,
                        format!("{}error parsing {key}: {error}", prefix.outer()),
                        "not a duration",
                        TTL_HELP.to_string(),
                    );
                }
            }
        }
        let [min, max] = parsed;
        extra.min_wrapping_ttl = min.map(|(nanos, span)| Spanned::new(nanos / 1_000_000_000, span));
        extra.max_wrapping_ttl = max.map(|(nanos, span)| Spanned::new(nanos / 1_000_000_000, span));
        if let (Some((min, _)), Some((max, max_span))) = (min, max) {
            if min != 0 && max != 0 && max < min {
                self.error(
                    "invalid-ttl",
                    max_span,
                    format!(
                        "{}max_wrapping_ttl cannot be less than min_wrapping_ttl",
                        prefix.outer()
                    ),
                    "below `min_wrapping_ttl`",
                    format!(
                        "`max_wrapping_ttl` ({}) is shorter than `min_wrapping_ttl` ({}); raise the maximum or lower the minimum",
                        format_nanos(max),
                        format_nanos(min)
                    ),
                );
            }
        }
    }

    fn lower_filter_path(
        &mut self,
        capabilities: CapSet,
        extra: &mut RuleExtra,
        fields: &Fields,
        prefix: BlockPrefix<'_>,
    ) {
        let Some(filter) = fields.filter.as_ref().filter(|f| !f.value.is_empty()) else {
            return;
        };
        extra.list_scan_response_keys_filter_path = Some(filter.clone());
        if !capabilities.contains(Capability::List) {
            self.error(
                "invalid-filter-path",
                filter.span,
                format!("{}list_scan_response_keys_filter_path needs to be used on a path with the list capability", prefix.outer()),
                "needs `list`",
                "add `list` to this block's capabilities (the filter applies to list and scan responses)".into(),
            );
            return;
        }
        if let Err(error) = check_filter_template(&filter.value) {
            self.error(
                "invalid-filter-path",
                filter.span,
                format!("{}{}", prefix.outer(), error.message()),
                "invalid filter template",
                "the filter is a Go template rendered once per key; it must use `{{ .key }}`, e.g. `\"{{ .path }}{{ .key }}\"`".into(),
            );
        }
    }
}

/// The label prefixes of one path block's messages, formatted only when a message is.
#[derive(Clone, Copy)]
struct BlockPrefix<'l> {
    label: &'l str,
    target: Target,
}

impl BlockPrefix<'_> {
    /// `path "<label>": `, which both targets put before item errors.
    fn path(&self) -> String {
        format!("path {}: ", quote(self.label))
    }

    /// `path "<label>": ` for messages OpenBao 2.7.2 wraps in the block's label (and Vault
    /// does not, spec 1.7–1.10).
    fn outer(&self) -> String {
        match self.target {
            Target::OpenBao => self.path(),
            Target::Vault => String::new(),
        }
    }
}

const TTL_HELP: &str =
    "write seconds (`300`), a Go duration (`\"5m\"`, `\"1h30m\"`) or whole days (`\"2d\"`)";

fn source_span(source: Source<'_, '_>) -> Span {
    match source {
        Source::Node(node) => node.span,
        Source::List(items) => items
            .iter()
            .map(|i| i.span())
            .reduce(Span::join)
            .unwrap_or_default(),
    }
}

fn format_nanos(nanos: Nanos) -> String {
    if nanos % 1_000_000_000 == 0 {
        format!("{}s", nanos / 1_000_000_000)
    } else {
        format!("{}s", nanos as f64 / 1e9)
    }
}

/// Keys lower-cased (spec 1.6); a key written twice keeps every value (the decoder appends).
fn param_map(entries: &[(Key, Vec<Spanned<ParamValue>>)]) -> ParamMap {
    let mut map = ParamMap::new();
    for (key, values) in entries {
        let entry = map
            .entry(key.name.to_lowercase())
            .or_insert_with(|| ParamEntry {
                span: key.span,
                values: Vec::new(),
            });
        entry.values.extend(values.iter().cloned());
    }
    map
}

/// Later keys spelt differently from the first key with the same lower-cased name.
/// Cost: O(keys) with a hash map keyed by the lower-cased name.
fn case_clashes(
    block: &'static str,
    entries: &[(Key, Vec<Spanned<ParamValue>>)],
) -> Vec<ParamCaseClash> {
    if entries.len() < 2 {
        return Vec::new();
    }
    let mut first_by_name: std::collections::HashMap<String, &Key> = Default::default();
    let mut clashes = Vec::new();
    for (key, _) in entries {
        let first = *first_by_name.entry(key.name.to_lowercase()).or_insert(key);
        if first.name == key.name {
            continue;
        }
        clashes.push(ParamCaseClash {
            block,
            first: Spanned::new(first.name.to_string(), first.span),
            second: Spanned::new(key.name.to_string(), key.span),
        });
    }
    clashes
}

/// The closest candidate within a small edit distance (a third of the word, at least 1).
/// Cost: O(candidates × len²).
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    let lowered = word.to_lowercase();
    closest(
        candidates.iter().copied(),
        |candidate| edit_distance_with_transpositions(&lowered, candidate),
        |_| limit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_policy;

    fn lower(text: &str, target: Target) -> Parsed {
        parse_policy(Arc::new(SourceFile::new("t.hcl", text)), target)
    }

    /// A big policy lowered in chunks on all cores gives the very rules and diagnostics of one
    /// pass, in the same order: blocks with errors (an unknown key, a wrong type, a bad
    /// pattern) fall in different chunks, some at a chunk's edge.
    #[test]
    fn chunked_lowering_matches_one_pass() {
        let mut text = String::from("name = \"big\"\n");
        for i in 0..1000 {
            let block = match i % 13 {
                0 => format!("path \"a/{i}/+*\" {{ capabilities = [\"read\"] }}\n"),
                3 => format!("path \"a/{i}\" {{ capabilitis = [\"read\"] }}\n"),
                7 => format!("path \"a/{i}\" {{ capabilities = 7 }}\n"),
                9 => format!("bogus{i} = 1\n"),
                _ => format!("path \"a/{i}/*\" {{ capabilities = [\"read\", \"list\"] }}\n"),
            };
            text.push_str(&block);
        }
        for target in [Target::Vault, Target::OpenBao] {
            let source = Arc::new(SourceFile::new("big.hcl", text.clone()));
            let one_pass = parse_text_with(source.clone(), target, usize::MAX);
            for chunk in [1, 2, 64, 999] {
                let chunked = parse_text_with(source.clone(), target, chunk);
                assert_eq!(chunked.diagnostics, one_pass.diagnostics, "chunk {chunk}");
                assert_eq!(
                    format!("{:?}", chunked.policy),
                    format!("{:?}", one_pass.policy),
                    "chunk {chunk}"
                );
            }
            assert!(one_pass.diagnostics.len() > 200);
            // Without the errors, the policy itself is kept, and it is the same too.
            let valid: String = text
                .lines()
                .filter(|line| line.contains("capabilities = [\"read\", \"list\"]"))
                .map(|line| format!("{line}\n"))
                .collect();
            let source = Arc::new(SourceFile::new("ok.hcl", valid));
            let one_pass = parse_text_with(source.clone(), target, usize::MAX);
            let chunked = parse_text_with(source, target, 7);
            assert!(one_pass
                .policy
                .as_ref()
                .is_some_and(|p| p.rules.len() > 500));
            assert_eq!(
                format!("{:?}", chunked.policy),
                format!("{:?}", one_pass.policy)
            );
        }
        // A JSON policy: one `path` object whose keys are the blocks.
        let entries: Vec<String> = (0..600)
            .map(|i| match i % 11 {
                4 => format!("\"j/{i}\": {{\"capabilitis\": [\"read\"]}}"),
                8 => format!("\"j/{i}\": {{\"capabilities\": \"read\"}}"),
                _ => format!("\"j/{i}/*\": {{\"capabilities\": [\"read\"]}}"),
            })
            .collect();
        let json = format!("{{\"path\": {{{}}}}}", entries.join(",\n"));
        let source = Arc::new(SourceFile::new("big.json", json));
        let one_pass = parse_text_with(source.clone(), Target::Vault, usize::MAX);
        let chunked = parse_text_with(source, Target::Vault, 5);
        assert!(one_pass.diagnostics.len() > 50);
        assert_eq!(chunked.diagnostics, one_pass.diagnostics);
        assert_eq!(
            format!("{:?}", chunked.policy),
            format!("{:?}", one_pass.policy)
        );
    }

    fn only_rule(text: &str, target: Target) -> Rule {
        let parsed = lower(text, target);
        let policy = parsed
            .policy
            .unwrap_or_else(|| panic!("refused: {:?}", parsed.diagnostics));
        assert_eq!(policy.rules.len(), 1);
        policy
            .rules
            .into_iter()
            .next()
            .unwrap_or_else(|| unreachable!())
    }

    fn caps(text: &str) -> Vec<&'static str> {
        only_rule(text, Target::OpenBao)
            .capabilities
            .iter()
            .map(Capability::name)
            .collect()
    }

    #[test]
    fn old_style_policy_maps_to_capabilities() {
        assert_eq!(caps(r#"path "a" { policy = "read" }"#), ["read", "list"]);
        assert_eq!(
            caps(r#"path "a" { policy = "write" }"#),
            ["create", "read", "update", "delete", "list"]
        );
        assert_eq!(
            caps(r#"path "a" { policy = "sudo" capabilities = ["patch"] }"#),
            ["create", "read", "update", "delete", "list", "sudo", "patch"]
        );
        assert_eq!(
            caps(r#"path "a" { policy = "deny" capabilities = ["banana"] }"#),
            ["deny"]
        );
        assert_eq!(
            caps(r#"path "a" { policy = "" capabilities = ["read"] }"#),
            ["read"]
        );
    }

    #[test]
    fn capability_walk_stops_at_deny_and_duplicates_append() {
        assert_eq!(
            caps(r#"path "a" { capabilities = ["deny", "banana"] }"#),
            ["deny"]
        );
        assert_eq!(
            caps("path \"a\" {\n capabilities = [\"read\"]\n capabilities = [\"update\"]\n}"),
            ["read", "update"]
        );
        let refused = lower(
            r#"path "a" { capabilities = ["banana", "deny"] }"#,
            Target::OpenBao,
        );
        assert!(refused.policy.is_none());
        assert_eq!(refused.diagnostics[0].rule, "invalid-capability");
        assert_eq!(
            refused.diagnostics[0].message,
            r#"path "a": invalid capability "banana""#
        );
    }

    #[test]
    fn the_target_decides_product_specific_capabilities_and_keys() {
        // Spec 1.4 and 8: `scan` is OpenBao's, `subscribe` Vault's.
        assert!(
            lower(r#"path "a" { capabilities = ["scan"] }"#, Target::OpenBao)
                .policy
                .is_some()
        );
        let vault = lower(r#"path "a" { capabilities = ["scan"] }"#, Target::Vault);
        assert_eq!(vault.diagnostics[0].rule, "invalid-capability");
        assert!(vault.diagnostics[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("OpenBao")));
        // Spec 1.3: `subscribe_event_types` is a Vault key, `pagination_limit` an OpenBao one.
        let text = r#"path "a" { capabilities = ["subscribe"] subscribe_event_types = ["*"] }"#;
        assert!(lower(text, Target::Vault).policy.is_some());
        assert_eq!(
            lower(text, Target::OpenBao).diagnostics[0].rule,
            "invalid-key"
        );
        let paginated = r#"path "a" { capabilities = ["list"] pagination_limit = 5 }"#;
        assert_eq!(
            lower(paginated, Target::Vault).diagnostics[0].rule,
            "invalid-key"
        );
        assert_eq!(
            only_rule(paginated, Target::OpenBao)
                .extra()
                .pagination_limit
                .as_ref()
                .map(|p| p.value),
            Some(5)
        );
    }

    #[test]
    fn ttl_messages_follow_each_target() {
        let text =
            r#"path "a" { capabilities = ["read"] min_wrapping_ttl = 300 max_wrapping_ttl = 200 }"#;
        // OpenBao 2.7.2 prefixes the label; Vault's text has no prefix (spec 1.7).
        assert_eq!(
            lower(text, Target::OpenBao).diagnostics[0].message,
            r#"path "a": max_wrapping_ttl cannot be less than min_wrapping_ttl"#
        );
        assert_eq!(
            lower(text, Target::Vault).diagnostics[0].message,
            "max_wrapping_ttl cannot be less than min_wrapping_ttl"
        );
        let rule = only_rule(
            r#"path "a" { min_wrapping_ttl = "300s" max_wrapping_ttl = 3600 }"#,
            Target::Vault,
        );
        assert_eq!(
            rule.extra().min_wrapping_ttl.as_ref().map(|t| t.value),
            Some(300)
        );
        assert_eq!(
            rule.extra().max_wrapping_ttl.as_ref().map(|t| t.value),
            Some(3600)
        );
    }

    #[test]
    fn json_is_flattened_once_like_openbao() {
        // Checked against OpenBao 2.7.2: `b` stays a key of `path "a"` (flattening the result
        // again would make it `path "a" "b"` and accept the policy).
        let nested = lower(
            r#"{"path": {"a": {"b": [{"capabilities": ["read"]}]}}}"#,
            Target::OpenBao,
        );
        assert!(nested.policy.is_none());
        assert_eq!(
            nested.diagnostics[0].message,
            r#"path "a": invalid key "b" on line 1"#
        );
        let listed = lower(
            r#"{"path": {"x": {"capabilities": [{"a": 1}]}}}"#,
            Target::OpenBao,
        );
        assert!(listed.policy.is_none());
        assert!(
            listed.diagnostics[0]
                .message
                .ends_with("root.Capabilities[0]: unknown type for string *ast.ObjectItem"),
            "{:?}",
            listed.diagnostics
        );
    }

    /// The decoder names fields lazily (`Member`, `format_args!`): the texts stay Go's.
    #[test]
    fn decoder_messages_name_nested_fields() {
        let message = |text: &str| lower(text, Target::OpenBao).diagnostics[0].message.clone();
        assert_eq!(
            message("path \"a\" {\n min_wrapping_ttl = true\n min_wrapping_ttl = \"1s\"\n}"),
            "path \"a\": At 3:21: root.min_wrapping_ttl: unknown type *ast.LiteralType"
        );
        assert_eq!(
            message(r#"path "a" { allowed_parameters { "x" "y" {} } }"#),
            r#"path "a": root.allowed_parameters.x[0]: cannot decode into interface: *ast.ObjectItem"#
        );
    }

    #[test]
    fn base64_bodies_are_decoded_first() {
        assert_eq!(
            go_base64_decode("cGF0aCAiYSIge30="),
            Some(b"path \"a\" {}".to_vec())
        );
        assert_eq!(go_base64_decode("path"), Some(vec![0xa5, 0xab, 0x61]));
        assert_eq!(go_base64_decode("pat"), None);
        assert_eq!(go_base64_decode("a=b="), None);
        assert_eq!(go_base64_decode(" "), None);
        let parsed = lower(
            "cGF0aCAiYSIgeyBjYXBhYmlsaXRpZXMgPSBbInJlYWQiXSB9",
            Target::OpenBao,
        );
        let policy = parsed
            .policy
            .unwrap_or_else(|| panic!("{:?}", parsed.diagnostics));
        assert_eq!(policy.rules[0].raw_pattern, "a");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Never a panic, on any text, for either target; a refused text always says why.
        #[test]
        fn never_panics(text in "(path|\\{|\\}|\\[|\\]|\"|=|,|capabilities|policy|deny|read|\\{\\{|\\}\\}|\\+\\*|min_wrapping_ttl|control_group|factor|identity|1|1\\.5|true|é|\\n| |#|<<EOT\\n|EOT\\n|:)*") {
            for target in [Target::Vault, Target::OpenBao] {
                let parsed = lower(&text, target);
                if parsed.policy.is_none() {
                    proptest::prop_assert!(parsed.diagnostics.iter().any(Diagnostic::is_invalid));
                }
            }
        }
    }

    #[test]
    fn vault_control_groups_follow_spec_1_9() {
        // Spec 1.9 (VP): Vault's shape and validation texts.
        let good = r#"path "a" {
  capabilities = ["read", "update"]
  control_group = {
    ttl = "4h"
    factor "managers" {
      controlled_capabilities = ["update"]
      identity { group_ids = ["g1"] approvals = 1 }
    }
  }
}"#;
        let rule = only_rule(good, Target::Vault);
        let group = rule
            .extra()
            .control_group
            .clone()
            .unwrap_or_else(|| panic!("no control group"));
        assert_eq!(group.ttl.map(|t| t.value), Some(4 * 3600));
        assert_eq!(group.factors[0].group_ids, ["g1"]);
        let first_message = |text: &str| lower(text, Target::Vault).diagnostics[0].message.clone();
        assert_eq!(
            first_message(r#"path "a" { capabilities = ["read"] control_group = { ttl = "1h" } }"#),
            "no control group factors provided"
        );
        assert_eq!(
            first_message(
                r#"path "a" { capabilities = ["read"] control_group = { factor "f" { controlled_capabilities = ["read"] } } }"#
            ),
            "no control_group factor provided"
        );
        assert_eq!(
            first_message(
                r#"path "a" { capabilities = ["read"] control_group = { factor "f" { identity { group_names = ["g"] approvals = 0 } } } }"#
            ),
            "must provide more than one identity group and approvals > 0"
        );
        assert_eq!(
            first_message(
                r#"path "a" { capabilities = ["read"] control_group = { factor "f" { controlled_capabilities = ["update"] identity { group_names = ["g"] approvals = 1 } } } }"#
            ),
            "control group factor capabilities must be a subset of the policy's capabilities"
        );
        assert_eq!(
            first_message(
                r#"path "a" { capabilities = ["read"] control_group = { ttl = "x" factor "f" {} } }"#
            ),
            "error parsing control group max ttl: time: invalid duration \"x\""
        );
    }

    #[test]
    fn templated_labels_keep_markers_and_no_pattern() {
        let rule = only_rule(
            r#"path "secret/{{ identity.entity.id }}/*" { capabilities = ["read"] }"#,
            Target::Vault,
        );
        assert!(rule.pattern.is_none());
        assert_eq!(rule.template_vars[0].value, "identity.entity.id");
        // The span covers the marker itself: `{{ identity.entity.id }}` starts after `secret/`.
        assert_eq!(rule.template_vars[0].span.start, 6 + 7);
        let refused = lower(
            r#"path "{{identity.entity.id}}/+*" { capabilities = ["read"] }"#,
            Target::OpenBao,
        );
        assert_eq!(refused.diagnostics[0].rule, "invalid-wildcard");
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggest("capabilites", &COMMON_PATH_KEYS),
            Some("capabilities")
        );
        assert_eq!(suggest("paht", &TOP_LEVEL_KEYS), Some("path"));
        assert_eq!(suggest("zzzzzz", &TOP_LEVEL_KEYS), None);
    }
}
