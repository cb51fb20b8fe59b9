//! The ACL and the shape of its answers. The ACL work owns the internals; keep these
//! public signatures stable (other modules use them).

use std::collections::HashMap;
use std::sync::Arc;

use super::identity::Identity;
use super::priority::Descriptor;
use super::store::{ExactIndex, RadixTree, RuleId, SegmentTrie};
use super::template::TemplateFlags;
use crate::namespace::Namespaces;
use crate::policy::{CapSet, Capability, ControlGroup, ParamMap, PathPattern, PatternKind, Policy};
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// Where a merged rule came from: one `path` block of one policy. 88 bytes plus the label;
/// the policy name is shared by every block of the policy.
#[derive(Clone, Debug)]
pub struct RuleSource {
    /// The policy's qualified name.
    pub policy: Arc<str>,
    /// The label as written.
    pub raw_pattern: String,
    pub file: Arc<SourceFile>,
    pub pattern_span: Span,
    pub block_span: Span,
    /// The capabilities this block contributed.
    pub capabilities: CapSet,
}

impl RuleSource {
    /// 1-based line and column of the block's pattern label, for reports.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.pattern_span.start)
    }

    /// The block as every machine format shows it: `policy`, `pattern` (as written), `file`,
    /// `line` and `column` of the pattern label.
    pub fn location_json(&self) -> serde_json::Value {
        let (line, column) = self.line_col();
        serde_json::json!({
            "policy": &*self.policy,
            "pattern": self.raw_pattern,
            "file": self.file.name,
            "line": line,
            "column": column,
        })
    }
}

/// The blocks that merged into one ACL entry, in merge order: a slice to every reader. Nearly
/// every entry has exactly one (a pattern written once), kept inline, so that a big policy's
/// ACL makes no allocation per entry for its sources; two or more live in a `Vec`.
#[derive(Clone, Debug)]
pub struct Sources(SourcesRepr);

#[derive(Clone, Debug)]
enum SourcesRepr {
    One(RuleSource),
    /// None, or two and more.
    Many(Vec<RuleSource>),
}

impl Sources {
    /// No source (a synthetic entry such as `root`'s).
    pub fn none() -> Sources {
        Sources(SourcesRepr::Many(Vec::new()))
    }

    pub fn one(source: RuleSource) -> Sources {
        Sources(SourcesRepr::One(source))
    }

    /// Appends `more` after these sources. Cost: O(sources).
    pub fn extend(&mut self, more: Sources) {
        if more.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = more;
            return;
        }
        let list = match &mut self.0 {
            SourcesRepr::Many(list) => list,
            SourcesRepr::One(_) => {
                let SourcesRepr::One(first) =
                    std::mem::replace(&mut self.0, SourcesRepr::Many(Vec::with_capacity(2)))
                else {
                    unreachable!("matched `One` above")
                };
                let SourcesRepr::Many(list) = &mut self.0 else {
                    unreachable!("just replaced by `Many`")
                };
                list.push(first);
                list
            }
        };
        match more.0 {
            SourcesRepr::One(source) => list.push(source),
            SourcesRepr::Many(sources) => list.extend(sources),
        }
    }
}

impl std::ops::Deref for Sources {
    type Target = [RuleSource];

    fn deref(&self) -> &[RuleSource] {
        match &self.0 {
            SourcesRepr::One(source) => std::slice::from_ref(source),
            SourcesRepr::Many(sources) => sources,
        }
    }
}

impl<'a> IntoIterator for &'a Sources {
    type Item = &'a RuleSource;
    type IntoIter = std::slice::Iter<'a, RuleSource>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One entry of the ACL: every block with the same store and key, merged (spec 2).
///
/// Memory: the size of this struct (its one [`RuleSource`] inline), the normalised pattern's
/// text, 88 bytes per further merged block and, only when some block set a key other than
/// `capabilities`, a [`MergedExtra`].
#[derive(Clone, Debug)]
pub struct MergedRule {
    /// The normalised pattern (after template substitution).
    pub pattern: PathPattern,
    pub capabilities: CapSet,
    /// The merged keys other than `capabilities`; `None` when no block set one (read through
    /// [`MergedRule::extra`]).
    pub extra: Option<Box<MergedExtra>>,
    /// Every block that merged into this entry, in merge order (blocks ignored because the
    /// entry already held `deny` included).
    pub sources: Sources,
}

/// The merged keys of an ACL entry other than `capabilities`, kept apart because few blocks
/// set any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergedExtra {
    pub allowed_parameters: Option<ParamMap>,
    pub denied_parameters: Option<ParamMap>,
    pub required_parameters: Vec<String>,
    pub min_wrapping_ttl: i64,
    pub max_wrapping_ttl: i64,
    pub mfa_methods: Vec<String>,
    pub pagination_limit: i64,
    /// Vault only: merged like `RemoveDuplicates` (sorted, deduplicated).
    pub subscribe_event_types: Vec<String>,
    /// OpenBao only: the first non-empty value among the merged blocks.
    pub list_scan_response_keys_filter_path: Option<String>,
    /// Vault appends the factors of every merged block; OpenBao keeps the first block's group.
    pub control_group: Option<ControlGroup>,
}

/// What [`MergedRule::extra`] lends for an entry without other keys.
static NO_MERGED_EXTRA: MergedExtra = MergedExtra {
    allowed_parameters: None,
    denied_parameters: None,
    required_parameters: Vec::new(),
    min_wrapping_ttl: 0,
    max_wrapping_ttl: 0,
    mfa_methods: Vec::new(),
    pagination_limit: 0,
    subscribe_event_types: Vec::new(),
    list_scan_response_keys_filter_path: None,
    control_group: None,
};

impl MergedExtra {
    /// Whether no key is set (then no box is kept): equal to `NO_MERGED_EXTRA`, so a key
    /// added to this struct is covered without being listed here.
    pub fn is_empty(&self) -> bool {
        *self == NO_MERGED_EXTRA
    }
}

impl MergedRule {
    /// The merged keys other than `capabilities` (all unset when no block set one).
    /// Cost: O(1).
    pub fn extra(&self) -> &MergedExtra {
        self.extra.as_deref().unwrap_or(&NO_MERGED_EXTRA)
    }

    /// The other keys, for writing (allocates them on first use).
    pub fn extra_mut(&mut self) -> &mut MergedExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Per capability (in capability order), the policies that granted it, in merge order;
    /// `[(deny, [the policy that denied])]` once a block denied. Derived from
    /// [`MergedRule::sources`] as the merge saw them (spec 2: blocks after a deny are ignored),
    /// so the entry does not keep a second copy of every policy name. Cost: O(sources ×
    /// capabilities); only explanations ask.
    pub fn granting_policies(&self) -> Vec<(Capability, Vec<String>)> {
        let mut granting: Vec<(Capability, Vec<String>)> = Vec::new();
        for source in &self.sources {
            if granting
                .first()
                .is_some_and(|(first, _)| *first == Capability::Deny)
            {
                break;
            }
            if source.capabilities.is_deny() {
                granting = vec![(Capability::Deny, vec![source.policy.to_string()])];
                continue;
            }
            for capability in source.capabilities.iter() {
                match granting
                    .iter_mut()
                    .find(|(granted, _)| *granted == capability)
                {
                    Some((_, names)) if names.iter().any(|name| *name == *source.policy) => {}
                    Some((_, names)) => names.push(source.policy.to_string()),
                    None => granting.push((capability, vec![source.policy.to_string()])),
                }
            }
            granting.sort_by_key(|(capability, _)| *capability);
        }
        granting
    }

    /// An entry that grants `capabilities` on `pattern` and nothing else: no parameter
    /// constraints, no wrapping bounds, no sources (used for synthetic rules such as `root`'s).
    pub fn only(pattern: PathPattern, capabilities: CapSet) -> Self {
        Self {
            pattern,
            capabilities,
            extra: None,
            sources: Sources::none(),
        }
    }
}

/// Which step of the lookup (spec 3.3) found the winning rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupStep {
    Exact,
    ExactTrimmed,
    NonExact,
    NonExactTrimmed,
    /// Vault newest: the pooled list resolver.
    ListPool,
}

/// The step of the priority order (spec 3.4) that made one candidate beat another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityStep {
    /// An exact rule beats every prefix and wildcard rule.
    ExactMatch,
    /// The winner's first `+` or glob comes later in the pattern.
    LaterWildcard,
    /// A non-prefix pattern beats a prefix (glob) one.
    NotPrefix,
    /// Fewer `+` segments.
    FewerPlus,
    /// Longer pattern.
    Longer,
    /// Lexicographically greater pattern.
    Lexicographic,
    /// Only the longest prefix rule is ever a candidate.
    ShorterPrefix,
    /// Vault newest list resolver: deny or list bit preference.
    ListResolver,
    /// OpenBao list/scan: the path with its trailing `/` is looked up first; candidates of the
    /// trimmed path are consulted only when the full path has none (spec 3.3).
    FullPathFirst,
}

/// A rule that matched the path but lost.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub rule: MergedRule,
    pub beaten_by: PriorityStep,
}

/// Why a request was denied.
#[derive(Clone, Debug, PartialEq)]
pub enum DenyReason {
    NoPolicies,
    NoMatchingRule,
    ExplicitDeny,
    MissingCapability(Capability),
    SudoRequired,
    WrappingRequired {
        min: i64,
        max: i64,
        requested: Option<i64>,
    },
    WrappingTtlConflict {
        min: i64,
        max: i64,
    },
    MissingRequiredParameter(String),
    DeniedParameter(String),
    ParameterNotAllowed(String),
    /// Anything else, in words.
    Other(String),
}

/// Why the answer is what it is.
#[derive(Clone, Debug, Default)]
pub struct Explanation {
    /// The path after stripping leading slashes.
    pub path: String,
    pub winner: Option<MergedRule>,
    pub step: Option<LookupStep>,
    /// Matching rules that lost, with the step that beat each.
    pub losers: Vec<Candidate>,
    /// `Some(true)` when the path is sudo-protected (spec 6).
    pub sudo_required: Option<bool>,
    pub deny_reason: Option<DenyReason>,
    pub root: bool,
}

/// The decision for one request.
#[derive(Clone, Debug)]
pub struct Decision {
    pub allowed: bool,
    /// The winning rule's capabilities (empty when none matched).
    pub capabilities: CapSet,
    /// The winning rule has `sudo`.
    pub root_privs: bool,
    pub explanation: Explanation,
}

/// A decision without its explanation ([`Acl::verdict`]): what [`Decision`] says, with the
/// winning rule borrowed from the ACL instead of cloned into an [`Explanation`].
#[derive(Clone, Debug)]
pub struct Verdict<'a> {
    pub allowed: bool,
    /// The winning rule's capabilities (empty when none matched).
    pub capabilities: CapSet,
    /// The winning rule has `sudo`.
    pub root_privs: bool,
    /// The winning rule, if one matched.
    pub winner: Option<&'a MergedRule>,
    /// Whether the path is sudo-protected (only looked at when a rule lookup happened).
    pub sudo_required: bool,
    pub deny_reason: Option<DenyReason>,
}

impl<'a> Verdict<'a> {
    pub(super) fn allow(capabilities: CapSet, root_privs: bool) -> Verdict<'a> {
        Verdict {
            allowed: true,
            capabilities,
            root_privs,
            winner: None,
            sudo_required: false,
            deny_reason: None,
        }
    }

    pub(super) fn deny(capabilities: CapSet, root_privs: bool, reason: DenyReason) -> Verdict<'a> {
        Verdict {
            allowed: false,
            deny_reason: Some(reason),
            ..Verdict::allow(capabilities, root_privs)
        }
    }

    pub(super) fn with_sudo(self, sudo_required: bool) -> Verdict<'a> {
        Verdict {
            sudo_required,
            ..self
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AclError {
    /// `other policies present along with root`.
    RootWithOthers,
    /// A templated policy whose substitution the target refuses as a whole (OpenBao's forbidden
    /// `/`, `*`, `+`, or a substituted `+*`): every request of the token fails.
    TemplatedPolicy { policy: String, message: String },
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AclError::RootWithOthers => f.write_str("other policies present along with root"),
            AclError::TemplatedPolicy { policy, message } => write!(
                f,
                "error parsing templated policy {policy:?}: failed to parse policy: {message}"
            ),
        }
    }
}

/// A rule the ACL left out, and why (template substitution failed, or OpenBao's `expiration`
/// passed). Vault skips such rules silently; `explain` shows them.
#[derive(Clone, Debug)]
pub struct SkippedRule {
    pub policy: String,
    pub raw_pattern: String,
    pub file: Arc<SourceFile>,
    pub pattern_span: Span,
    pub reason: String,
}

impl SkippedRule {
    pub(super) fn new(policy: &Policy, rule: &crate::policy::Rule, reason: String) -> SkippedRule {
        SkippedRule {
            policy: policy.qualified_name(),
            raw_pattern: rule.raw_pattern.clone(),
            file: policy.source.clone(),
            pattern_span: rule.pattern_span,
            reason,
        }
    }
}

/// Knobs of ACL construction beyond the policies themselves.
#[derive(Clone, Debug, Default)]
pub struct AclOptions {
    /// OpenBao's per-policy `allow_*_in_identity_templates` flags, by policy name; a policy not
    /// named here uses its own [`Policy::template_flags`] (default: both false).
    pub template_flags: HashMap<String, TemplateFlags>,
    /// Unix seconds used for `time.now` templates (default: the clock).
    pub now_unix: Option<i64>,
    /// The namespace tree: requests are routed to the deepest namespace of their full path,
    /// and sudo is judged on the path relative to it (default: the root namespace only).
    pub namespaces: Namespaces,
}

/// Policies merged for one token.
///
/// Stores (spec 2), each keyed by the normalised pattern:
/// - exact rules in a `HashMap` (lookup O(path length)), mirrored in a radix tree for walks by
///   prefix (mount visibility, `reach`);
/// - prefix rules in a byte radix tree (longest prefix in O(path length));
/// - segment-wildcard rules in a segment trie (O(segments × branching) per lookup).
#[derive(Clone, Debug)]
pub struct Acl {
    pub(super) target: Target,
    pub(super) root: bool,
    pub(super) policy_count: usize,
    pub(super) rules: Vec<MergedRule>,
    /// Per rule: the priority descriptor (`None` for exact rules).
    pub(super) descriptors: Vec<Option<Descriptor>>,
    pub(super) exact: ExactIndex,
    /// The exact keys as a radix tree, for [`Acl::exact_rules_under`] alone: built on its
    /// first call, so that an ACL only asked for decisions (a lint's, `caps`') never keeps it.
    pub(super) exact_tree: std::sync::OnceLock<RadixTree>,
    pub(super) prefix: RadixTree,
    pub(super) wildcard: SegmentTrie,
    pub(super) skipped: Vec<SkippedRule>,
    pub(super) namespaces: Namespaces,
}

impl Acl {
    /// Merges the policies in order (spec 2). A policy named `root` must be alone. Templated
    /// rules resolve against `identity`; rules whose substitution fails are skipped (see
    /// [`Acl::skipped_rules`]). Cost: O(total rule size).
    pub fn new(
        policies: &[&Policy],
        target: Target,
        identity: Option<&Identity>,
    ) -> Result<Acl, AclError> {
        Acl::with_options(policies, target, identity, &AclOptions::default())
    }

    /// [`Acl::new`] with explicit options (OpenBao template flags, a fixed clock).
    pub fn with_options(
        policies: &[&Policy],
        target: Target,
        identity: Option<&Identity>,
        options: &AclOptions,
    ) -> Result<Acl, AclError> {
        super::merge::build(policies, target, identity, options)
    }

    /// [`Acl::new`] for a token that also holds the target's built-in `default` policy (merged
    /// last, as Vault lists it after the token's own policies).
    pub fn with_default(
        policies: &[&Policy],
        target: Target,
        identity: Option<&Identity>,
    ) -> Result<Acl, AclError> {
        let default = super::builtin::default_policy(target);
        let mut all: Vec<&Policy> = policies.to_vec();
        all.push(&default);
        Acl::new(&all, target, identity)
    }

    pub(super) fn empty(target: Target, policy_count: usize) -> Acl {
        Acl {
            target,
            root: false,
            policy_count,
            rules: Vec::new(),
            descriptors: Vec::new(),
            exact: ExactIndex::default(),
            exact_tree: std::sync::OnceLock::new(),
            prefix: RadixTree::default(),
            wildcard: SegmentTrie::default(),
            skipped: Vec::new(),
            namespaces: Namespaces::default(),
        }
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// The ACL of the `root` policy: everything is allowed.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// How many policies were given (an ACL of zero policies denies everything but `help`).
    pub fn policy_count(&self) -> usize {
        self.policy_count
    }

    /// The namespace tree the ACL routes full paths with.
    pub fn namespaces(&self) -> &Namespaces {
        &self.namespaces
    }

    /// Rules left out when the ACL was built, with the reason.
    pub fn skipped_rules(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// The merged rules, exact, prefix and wildcard stores together (in first-seen order).
    pub fn rules(&self) -> Vec<&MergedRule> {
        self.rules.iter().collect()
    }

    /// The merged rules, in [`Acl::rules`] order, the rest of the ACL dropped. Cost: O(1)
    /// plus freeing the stores.
    pub fn into_rules(self) -> Vec<MergedRule> {
        self.rules
    }

    /// An ACL of no policy for `target`: it allows nothing. Cost: O(1).
    pub fn empty_of(target: Target) -> Acl {
        Acl::empty(target, 0)
    }

    /// The id of the merged exact rule for `key`, if any. Cost: O(key length).
    pub(super) fn exact_id(&self, key: &str) -> Option<RuleId> {
        let rules = &self.rules;
        self.exact.get(key, |id| rules[id as usize].pattern.key())
    }

    /// The exact rules' keys as a radix tree. Cost: O(their total length).
    fn build_exact_tree(&self) -> RadixTree {
        let mut tree = RadixTree::default();
        let exact = self.rules.iter().enumerate();
        for (id, rule) in exact.filter(|(_, rule)| rule.pattern.kind == PatternKind::Exact) {
            tree.insert(rule.pattern.key().as_bytes(), id as RuleId);
        }
        tree.shrink_to_fit();
        tree
    }

    /// The merged exact rule for `key`, if any. Cost: O(key length).
    pub fn exact_rule(&self, key: &str) -> Option<&MergedRule> {
        self.exact_id(key).map(|id| &self.rules[id as usize])
    }

    /// Exact rules whose key starts with `prefix`, in byte order. Cost: O(prefix length +
    /// matches), and on the ACL's first call O(exact rules' key length) to build the tree.
    pub fn exact_rules_under(&self, prefix: &str) -> Vec<&MergedRule> {
        let mut out = Vec::new();
        self.exact_tree
            .get_or_init(|| self.build_exact_tree())
            .for_each_with_prefix(prefix.as_bytes(), |id| out.push(&self.rules[id as usize]));
        out
    }

    /// Prefix rules whose key starts with `prefix`, in byte order. Cost: O(prefix length +
    /// matches).
    pub fn prefix_rules_under(&self, prefix: &str) -> Vec<&MergedRule> {
        let mut out = Vec::new();
        self.prefix
            .for_each_with_prefix(prefix.as_bytes(), |id| out.push(&self.rules[id as usize]));
        out
    }

    /// Prefix rules whose key is a prefix of `path`, shortest first. Cost: O(path length).
    pub fn prefix_rules_covering(&self, path: &str) -> Vec<&MergedRule> {
        let mut out = Vec::new();
        self.prefix
            .for_each_prefix_of(path.as_bytes(), |_, id| out.push(&self.rules[id as usize]));
        out
    }

    /// The segment-wildcard rules (for lints and `reach`, which need to look at them all).
    /// Cost: O(rules).
    pub fn wildcard_rules(&self) -> Vec<&MergedRule> {
        self.rules
            .iter()
            .filter(|rule| rule.pattern.kind == PatternKind::SegmentWildcard)
            .collect()
    }

    /// The non-exact rules matching `path` (the longest prefix and every matching wildcard
    /// rule), highest priority first. Cost: O(path length + segments × branching + c log c).
    pub fn matching_rules(&self, path: &str) -> Vec<&MergedRule> {
        let mut ids = self.candidates(path.trim_start_matches('/'));
        ids.sort_by(|a, b| self.compare(*b, *a));
        ids.into_iter().map(|id| &self.rules[id as usize]).collect()
    }
}
