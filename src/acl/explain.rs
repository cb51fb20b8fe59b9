//! Answers with their explanation: `sys/capabilities` (spec 3.8), `authorize` (spec 3.2, 3.6,
//! 3.7, 3.9, section 6) and mount visibility (spec 3.5).
//!
//! The explanation is always computed: besides the lookup it costs a second walk of the stores
//! for the losing candidates and a clone of every rule it names (O(c × rule size) for c matching
//! rules). Callers that decide many requests and need only the verdict can use
//! [`Acl::capability_set`] and [`Acl::is_allowed`].

use super::builtin;
use super::lookup::Resolution;
use super::params::{check_pagination, check_parameters};
use super::request::{Operation, Request};
use super::types::{Acl, Candidate, Decision, DenyReason, Explanation, MergedRule, Verdict};
use crate::policy::{CapSet, Capability, PatternKind};
use crate::target::Target;

impl Acl {
    /// What `sys/capabilities` reports for `path`: the sorted names (`["deny"]`, `["root"]`)
    /// and why. The path is evaluated as a list operation, capability-only (spec 3.8).
    pub fn capabilities(&self, path: &str) -> (Vec<&'static str>, Explanation) {
        let path = path.trim_start_matches('/');
        let mut explanation = Explanation {
            path: path.to_string(),
            ..Explanation::default()
        };
        if self.root {
            explanation.root = true;
            return (vec!["root"], explanation);
        }
        if self.policy_count == 0 {
            explanation.deny_reason = Some(DenyReason::NoPolicies);
            return (vec!["deny"], explanation);
        }
        let resolution = self.resolve(path, true, true);
        let capabilities = self.fill(&mut explanation, &resolution);
        explanation.sudo_required = Some(self.requires_sudo(path));
        explanation.deny_reason = match &explanation.winner {
            None => Some(DenyReason::NoMatchingRule),
            Some(_) if capabilities.is_deny() => Some(DenyReason::ExplicitDeny),
            Some(_) if capabilities.is_empty() => Some(DenyReason::Other(
                "the matching rule grants no capabilities".into(),
            )),
            Some(_) => None,
        };
        (capabilities.sys_capabilities(), explanation)
    }

    /// The capability bitmap `sys/capabilities` reads for `path`, without an explanation
    /// (`None` for a root ACL). Cost: one lookup.
    pub fn capability_set(&self, path: &str) -> Option<CapSet> {
        if self.root {
            return None;
        }
        let path = path.trim_start_matches('/');
        let resolution = self.resolve(path, true, false);
        Some(self.bitmap(resolution.winner))
    }

    /// Decides one request, including sudo, wrapping TTL and parameter checks.
    pub fn authorize(&self, request: &Request) -> Decision {
        self.decide(request, true)
    }

    /// [`Acl::authorize`] without building the explanation (the verdict only).
    pub fn is_allowed(&self, request: &Request) -> bool {
        self.decide(request, false).allowed
    }

    /// Decides one request like [`Acl::authorize`] without building the explanation: the
    /// winning rule is borrowed, not cloned. For callers that ask many questions and look at
    /// the winner (the lint probes). Cost: one lookup plus the winner's parameter checks.
    pub fn verdict(&self, request: &Request) -> Verdict<'_> {
        self.judge(request, None)
    }

    fn decide(&self, request: &Request, explain: bool) -> Decision {
        let path = request.path.trim_start_matches('/');
        let mut explanation = Explanation {
            path: path.to_string(),
            ..Explanation::default()
        };
        let verdict = if explain {
            self.judge(request, Some(&mut explanation))
        } else {
            self.judge(request, None)
        };
        explanation.root = self.root && request.operation.capability().is_some();
        if request.operation.capability().is_some() && !self.root && self.policy_count > 0 {
            explanation.sudo_required = Some(verdict.sudo_required);
        }
        explanation.deny_reason = verdict.deny_reason;
        Decision {
            allowed: verdict.allowed,
            capabilities: verdict.capabilities,
            root_privs: verdict.root_privs,
            explanation,
        }
    }

    /// The decision procedure behind [`Acl::authorize`] and [`Acl::verdict`]; with
    /// `explanation`, the lookup's winner, step and losers are copied into it.
    fn judge<'a>(
        &'a self,
        request: &Request,
        explanation: Option<&mut Explanation>,
    ) -> Verdict<'a> {
        let path = request.path.trim_start_matches('/');
        let Some(needed) = request.operation.capability() else {
            // Help is allowed before any rule lookup, and needs no sudo.
            return Verdict::allow(CapSet::EMPTY, false);
        };
        if self.root {
            let everything = Capability::ALL
                .into_iter()
                .filter(|c| *c != Capability::Deny && c.valid_for(self.target));
            return Verdict::allow(CapSet::of(&everything.collect::<Vec<_>>()), true);
        }
        if self.policy_count == 0 {
            return Verdict::deny(CapSet::EMPTY, false, DenyReason::NoPolicies);
        }
        let explain = explanation.is_some();
        let resolution = self.resolve(path, self.is_listing(request.operation), explain);
        let capabilities = match explanation {
            Some(explanation) => self.fill(explanation, &resolution),
            None => self.bitmap(resolution.winner),
        };
        let root_privs = capabilities.contains(Capability::Sudo);
        let sudo_required = self.requires_sudo(path);
        let Some(winner) = resolution.winner.map(|id| &self.rules[id as usize]) else {
            return Verdict::deny(capabilities, root_privs, DenyReason::NoMatchingRule)
                .with_sudo(sudo_required);
        };
        let outcome = match self.allow_operation(winner, request, needed) {
            Err(reason) => Verdict::deny(capabilities, root_privs, reason),
            Ok(()) if sudo_required && !root_privs => {
                Verdict::deny(capabilities, root_privs, DenyReason::SudoRequired)
            }
            Ok(()) => Verdict::allow(capabilities, root_privs),
        };
        Verdict {
            winner: Some(winner),
            ..outcome.with_sudo(sudo_required)
        }
    }

    /// `AllowOperation` after the winning rule is known (spec 3.6).
    fn allow_operation(
        &self,
        winner: &MergedRule,
        request: &Request,
        needed: Capability,
    ) -> Result<(), DenyReason> {
        let capabilities = winner.capabilities;
        if capabilities.is_deny() {
            return Err(DenyReason::ExplicitDeny);
        }
        if !capabilities.contains(needed) {
            return Err(DenyReason::MissingCapability(needed));
        }
        check_wrapping(winner, request.wrap_ttl)?;
        if self.checks_parameters(request.operation) {
            check_parameters(winner, &request.data, self.target)?;
        }
        if self.target == Target::OpenBao && request.operation.is_listing() {
            check_pagination(winner, &request.data)?;
        }
        Ok(())
    }

    /// List fallbacks: list and scan on OpenBao, list only on Vault (spec 3.3).
    fn is_listing(&self, operation: Operation) -> bool {
        match self.target {
            Target::OpenBao => operation.is_listing(),
            Target::Vault => operation == Operation::List,
        }
    }

    /// Read, create, update and patch (Vault also recover) check parameters (spec 3.6).
    fn checks_parameters(&self, operation: Operation) -> bool {
        match operation {
            Operation::Read | Operation::Create | Operation::Update | Operation::Patch => true,
            Operation::Recover => self.target == Target::Vault,
            _ => false,
        }
    }

    /// Sudo-protected paths (spec 6), including `sys/seal` and `sys/step-down`.
    pub fn requires_sudo(&self, path: &str) -> bool {
        let path = path.trim_start_matches('/');
        // The request is routed to the deepest namespace; its root paths are relative to it.
        let (_, path) = self.namespaces.split(path);
        path == "sys/seal" || path == "sys/step-down" || builtin::requires_sudo(self.target, path)
    }

    fn bitmap(&self, winner: Option<u32>) -> CapSet {
        winner.map_or(CapSet::EMPTY, |id| self.rules[id as usize].capabilities)
    }

    /// Copies the lookup into the explanation; returns the winner's capabilities.
    fn fill(&self, explanation: &mut Explanation, resolution: &Resolution) -> CapSet {
        explanation.step = resolution.step;
        explanation.winner = resolution.winner.map(|id| self.rules[id as usize].clone());
        explanation.losers = resolution
            .losers
            .iter()
            .map(|&(id, beaten_by)| Candidate {
                rule: self.rules[id as usize].clone(),
                beaten_by,
            })
            .collect();
        self.bitmap(resolution.winner)
    }

    /// Whether the token sees the mount `mount` at all (`hasMountAccess`, spec 3.5): what the
    /// `kv` CLI preflight `GET sys/internal/ui/mounts/<mount>` needs. A missing trailing `/` is
    /// added. Cost: one lookup, walks of the exact and prefix rules under the mount, and one
    /// pass over the segment-wildcard rules (bounded by their number).
    pub fn has_mount_access(&self, mount: &str) -> bool {
        if self.root {
            return true;
        }
        if self.policy_count == 0 {
            return false;
        }
        let mut mount = mount.trim_start_matches('/').to_string();
        if !mount.ends_with('/') {
            mount.push('/');
        }
        if self
            .capability_set(&mount)
            .is_none_or(|caps| caps.sys_capabilities() != ["deny"])
        {
            return true;
        }
        let grants = |rule: &&MergedRule| self.grants_access(rule.capabilities);
        if self.exact_rules_under(&mount).iter().any(grants) {
            return true;
        }
        if self.prefix_rules_under(&mount).iter().any(grants) {
            return true;
        }
        self.bare_mount_match(&mount)
    }

    fn grants_access(&self, capabilities: CapSet) -> bool {
        if capabilities.is_deny() {
            return false;
        }
        let mut wanted = vec![
            Capability::Create,
            Capability::Delete,
            Capability::List,
            Capability::Read,
            Capability::Sudo,
            Capability::Update,
            Capability::Patch,
        ];
        if self.target == Target::OpenBao {
            wanted.push(Capability::Scan);
        }
        wanted.into_iter().any(|c| capabilities.contains(c))
    }

    /// `CheckAllowedFromNonExactPaths(mount, bareMount=true)`.
    fn bare_mount_match(&self, mount: &str) -> bool {
        if self.wildcard.len() == 0 {
            // Vault newest no longer looks at prefix rules here; the fork era and OpenBao return
            // the longest covering prefix rule even when it is deny-only.
            return self.target == Target::OpenBao
                && self.prefix.longest_prefix_of(mount.as_bytes()).is_some();
        }
        let mount_parts: Vec<&str> = mount.split('/').collect();
        self.rules
            .iter()
            .filter(|rule| rule.pattern.kind == PatternKind::SegmentWildcard)
            .filter(|rule| !rule.capabilities.is_deny() && !rule.capabilities.is_empty())
            .any(|rule| wildcard_covers_mount(&rule.pattern.normalized, mount, &mount_parts))
    }
}

/// The bare-mount walk of one wildcard pattern: its parts are matched against the mount's up to
/// the mount's last real segment, and the matched segments must spell a path under the mount.
fn wildcard_covers_mount(pattern: &str, mount: &str, mount_parts: &[&str]) -> bool {
    let (body, is_prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = body.split('/').collect();
    let last_real = mount_parts.len().saturating_sub(2);
    if pattern_parts.len() <= last_real {
        return false;
    }
    let mut segments: Vec<&str> = Vec::new();
    for (i, part) in pattern_parts.iter().enumerate() {
        let path_part = mount_parts[i];
        if *part == "+" || *part == path_part {
            segments.push(path_part);
        } else if is_prefix && i == pattern_parts.len() - 1 && path_part.starts_with(part) {
            segments.extend(&mount_parts[i..]);
        }
        if i == last_real {
            let joined = format!("{}/", segments.join("/"));
            return joined.starts_with(mount);
        }
    }
    false
}

/// Response-wrapping TTL bounds of the winning rule (spec 3.6 step 5).
fn check_wrapping(rule: &MergedRule, requested: Option<i64>) -> Result<(), DenyReason> {
    let (min, max) = (rule.extra().min_wrapping_ttl, rule.extra().max_wrapping_ttl);
    let refused = DenyReason::WrappingRequired {
        min,
        max,
        requested,
    };
    if max > 0 && requested.is_none_or(|ttl| ttl > max) {
        return Err(refused);
    }
    if min > 0 && requested.is_none_or(|ttl| ttl < min) {
        return Err(refused);
    }
    if min != 0 && max != 0 && max < min {
        return Err(DenyReason::WrappingTtlConflict { min, max });
    }
    Ok(())
}
