//! The ACL and the shape of its answers. The ACL work owns the internals; keep these
//! public signatures stable (other modules use them).

use std::sync::Arc;

use super::identity::Identity;
use super::request::Request;
use crate::policy::{CapSet, Capability, ParamMap, PathPattern, Policy};
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// Where a merged rule came from: one `path` block of one policy.
#[derive(Clone, Debug)]
pub struct RuleSource {
    pub policy: String,
    /// The label as written.
    pub raw_pattern: String,
    pub file: Arc<SourceFile>,
    pub pattern_span: Span,
    pub block_span: Span,
    /// The capabilities this block contributed.
    pub capabilities: CapSet,
}

/// One entry of the ACL: every block with the same store and key, merged (spec 2).
#[derive(Clone, Debug)]
pub struct MergedRule {
    /// The normalised pattern (after template substitution).
    pub pattern: PathPattern,
    pub capabilities: CapSet,
    /// Per capability, the policies that granted it (in merge order).
    pub granting_policies: Vec<(Capability, Vec<String>)>,
    pub allowed_parameters: Option<ParamMap>,
    pub denied_parameters: Option<ParamMap>,
    pub required_parameters: Vec<String>,
    pub min_wrapping_ttl: i64,
    pub max_wrapping_ttl: i64,
    pub mfa_methods: Vec<String>,
    pub pagination_limit: i64,
    /// Every block that merged into this entry, in merge order.
    pub sources: Vec<RuleSource>,
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

#[derive(Clone, Debug, PartialEq)]
pub enum AclError {
    /// `other policies present along with root`.
    RootWithOthers,
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AclError::RootWithOthers => f.write_str("other policies present along with root"),
        }
    }
}

/// Policies merged for one token.
#[derive(Clone, Debug)]
pub struct Acl {
    target: Target,
}

impl Acl {
    /// Merges the policies in order (spec 2). A policy named `root` must be alone. Templated
    /// rules resolve against `identity`; rules whose substitution fails are skipped.
    pub fn new(
        policies: &[&Policy],
        target: Target,
        identity: Option<&Identity>,
    ) -> Result<Acl, AclError> {
        let _ = (policies, identity);
        Ok(Acl { target })
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// What `sys/capabilities` reports for `path`: the sorted names (`["deny"]`, `["root"]`)
    /// and why.
    pub fn capabilities(&self, path: &str) -> (Vec<&'static str>, Explanation) {
        let _ = path;
        (vec!["deny"], Explanation::default())
    }

    /// Decides one request, including sudo, wrapping TTL and parameter checks.
    pub fn authorize(&self, request: &Request) -> Decision {
        Decision {
            allowed: false,
            capabilities: CapSet::EMPTY,
            root_privs: false,
            explanation: Explanation {
                path: request.path.clone(),
                ..Explanation::default()
            },
        }
    }

    /// The merged rules, exact, prefix and wildcard stores together (no particular order).
    pub fn rules(&self) -> Vec<&MergedRule> {
        Vec::new()
    }
}
