//! The policy model: what a policy means, independent of how it was written.
//! Every node keeps the span of the source token it came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::capability::{CapSet, Capability};
use super::pattern::PathPattern;
use crate::source::SourceFile;
use crate::span::{Span, Spanned};

/// One parsed ACL policy. Its name is the file stem (Vault renames stored policies to the URL
/// name, so a `name = ...` inside the text is effectively a comment).
// Serialize only: the findings cache keys a Terraform policy by its serialized model
// (`crate::terraform::check`), without the source (whose text is keyed apart). Nothing
// reads a model back.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Policy {
    pub name: String,
    #[serde(skip)]
    pub source: Arc<SourceFile>,
    /// `name = "..."` as written, if any.
    pub declared_name: Option<Spanned<String>>,
    /// Path rules in source order. Rules the target drops at parse time (OpenBao's expired
    /// `expiration`) are kept here with `expired = true`; the ACL skips them.
    pub rules: Vec<Rule>,
    /// At least one well-formed `{{...}}` in some path label (spec 1.8).
    pub templated: bool,
    /// The namespace the policy lives in: `""` for the root namespace, else its path with a
    /// trailing `/` (`admin/team-a/`). Its rules apply under that path (spec 1.5 step 5); see
    /// `docs/namespaces.md`.
    pub namespace: String,
    /// OpenBao's per-policy template switches. The server stores them with the policy, not in
    /// its text, so they come from `capable.yaml` (`policies:`).
    pub template_flags: TemplateFlags,
}

/// OpenBao's policy-level switches that unblock characters in substituted values (spec 1.8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TemplateFlags {
    /// `allow_slashes_in_identity_templates`: unblocks `/`.
    pub allow_slashes: bool,
    /// `allow_wildcards_in_identity_templates`: unblocks `*` and `+`.
    pub allow_wildcards: bool,
}

impl Policy {
    /// A nameless policy without rules: it stands in where an ACL needs some policy but none
    /// of the subject's holds a rule (an ACL of only inert policies still holds one).
    pub fn without_rules() -> Policy {
        Policy {
            name: String::new(),
            source: Arc::new(SourceFile::new("", "")),
            declared_name: None,
            rules: Vec::new(),
            templated: false,
            namespace: String::new(),
            template_flags: Default::default(),
        }
    }

    /// The name the workspace and inventory know the policy by: the namespace path and the
    /// name (`admin/team-a/reader`), or the bare name in the root namespace.
    pub fn qualified_name(&self) -> String {
        format!("{}{}", self.namespace, self.name)
    }
}

/// One `path "<pattern>" { ... }` block.
///
/// Memory: 176 bytes plus the label twice (as written, and normalised in [`PathPattern`])
/// and 24 bytes per listed capability; every key other than `capabilities` lives in
/// [`RuleExtra`], allocated only for the blocks that set one (most set none).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Rule {
    /// The label as written (after unescaping), before any normalisation.
    pub raw_pattern: String,
    /// The label token (the quoted string, or the `path` keyword when there is no label).
    pub pattern_span: Span,
    /// The whole block, from the `path` keyword to the closing brace.
    pub block_span: Span,
    /// `None` when the label is templated: it is normalised after substitution, when an ACL
    /// is built for an identity.
    pub pattern: Option<PathPattern>,
    /// `{{...}}` segments in the label, in order.
    pub template_vars: Vec<Spanned<String>>,
    /// The effective capability bitmap after `policy =` mapping and deny handling.
    pub capabilities: CapSet,
    /// Each capability as written in `capabilities = [...]`, with its span.
    pub capability_list: Vec<Spanned<Capability>>,
    /// The `capabilities` key and list, if present.
    pub capabilities_span: Option<Span>,
    /// OpenBao only: the expiration is in the past, so the target drops this rule.
    pub expired: bool,
    /// The other keys; `None` when the block sets none of them (read through
    /// [`Rule::extra`]).
    pub extra: Option<Box<RuleExtra>>,
}

/// The keys of a `path` block other than `capabilities`, kept apart because few blocks set
/// any: a block without them costs one pointer instead of this struct's 448 bytes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RuleExtra {
    /// Old-style `policy = "write"`.
    pub old_policy: Option<Spanned<String>>,
    /// `None` when unset; `Some(empty)` behaves like unset (spec 1.6). Keys lower-cased.
    pub allowed_parameters: Option<ParamMap>,
    pub denied_parameters: Option<ParamMap>,
    /// As written (lower-cased at check time).
    pub required_parameters: Vec<Spanned<String>>,
    /// Seconds; 0 means unset.
    pub min_wrapping_ttl: Option<Spanned<i64>>,
    pub max_wrapping_ttl: Option<Spanned<i64>>,
    pub mfa_methods: Vec<Spanned<String>>,
    pub control_group: Option<ControlGroup>,
    /// Vault only.
    pub subscribe_event_types: Vec<Spanned<String>>,
    /// OpenBao only.
    pub pagination_limit: Option<Spanned<i64>>,
    /// OpenBao only: as written.
    pub expiration: Option<Spanned<String>>,
    /// OpenBao only.
    pub list_scan_response_keys_filter_path: Option<Spanned<String>>,
    /// Keys of `allowed_parameters` or `denied_parameters` written in two spellings that are
    /// equal once lower-cased (spec 1.6); the maps above merged them.
    pub param_case_clashes: Vec<ParamCaseClash>,
}

/// What [`Rule::extra`] lends for a block that sets no other key.
static NO_EXTRA: RuleExtra = RuleExtra {
    old_policy: None,
    allowed_parameters: None,
    denied_parameters: None,
    required_parameters: Vec::new(),
    min_wrapping_ttl: None,
    max_wrapping_ttl: None,
    mfa_methods: Vec::new(),
    control_group: None,
    subscribe_event_types: Vec::new(),
    pagination_limit: None,
    expiration: None,
    list_scan_response_keys_filter_path: None,
    param_case_clashes: Vec::new(),
};

impl RuleExtra {
    /// Whether no key is set (then no box is kept): equal to `NO_EXTRA`, so a key
    /// added to this struct is covered without being listed here.
    pub fn is_empty(&self) -> bool {
        *self == NO_EXTRA
    }
}

impl Rule {
    /// A rule with only its label, pattern and capability bitmap: no spans, no other key set,
    /// `capability_list` empty. Callers that build the model without parsing (the built-in
    /// tables, the lowering, tests) start here and override the fields they know.
    pub fn bare(
        raw_pattern: impl Into<String>,
        pattern: Option<PathPattern>,
        capabilities: CapSet,
    ) -> Rule {
        Rule {
            raw_pattern: raw_pattern.into(),
            pattern_span: Span::default(),
            block_span: Span::default(),
            pattern,
            template_vars: Vec::new(),
            capabilities,
            capability_list: Vec::new(),
            capabilities_span: None,
            expired: false,
            extra: None,
        }
    }

    /// Whether the label contains template markers.
    pub fn is_templated(&self) -> bool {
        !self.template_vars.is_empty()
    }

    /// The keys other than `capabilities` (all unset when the block has none). Cost: O(1).
    pub fn extra(&self) -> &RuleExtra {
        self.extra.as_deref().unwrap_or(&NO_EXTRA)
    }

    /// The other keys, for writing (allocates them on first use).
    pub fn extra_mut(&mut self) -> &mut RuleExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Sets the other keys, keeping no allocation when none is set.
    pub fn set_extra(&mut self, extra: RuleExtra) {
        self.extra = (!extra.is_empty()).then(|| Box::new(extra));
    }
}

/// Parameter constraints: lower-cased name → allowed (or denied) values; an empty list means
/// any value.
pub type ParamMap = BTreeMap<String, ParamEntry>;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ParamEntry {
    /// The key token.
    pub span: Span,
    pub values: Vec<Spanned<ParamValue>>,
}

/// Two keys of one parameter block equal once lower-cased but spelt differently: OpenBao
/// stores them into one Go map key, so which one's values survive varies per write.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ParamCaseClash {
    /// `allowed_parameters` or `denied_parameters`.
    pub block: &'static str,
    /// The first key with that lower-cased name, as written.
    pub first: Spanned<String>,
    /// A later key with the same lower-cased name and a different spelling.
    pub second: Spanned<String>,
}

/// A parameter value as decoded from HCL (type-sensitive: HCL `1` is an integer, and does
/// not equal a JSON float `1.0`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum ParamValue {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<ParamValue>),
    Map(BTreeMap<String, ParamValue>),
}

/// A `control_group` block (Enterprise in Vault; see spec 1.9).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ControlGroup {
    pub span: Span,
    pub ttl: Option<Spanned<i64>>,
    pub factors: Vec<ControlGroupFactor>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ControlGroupFactor {
    pub name: String,
    pub span: Span,
    pub group_names: Vec<String>,
    pub group_ids: Vec<String>,
    pub approvals: i64,
    pub controlled_capabilities: Vec<String>,
}
