//! Which rules of one policy an ACL keeps for an identity: the template step of
//! [`Acl::new`](super::Acl::new) alone, without merging or indexing.

use super::identity::Identity;
use super::merge::{rule_pattern, template_input, Failure};
use super::types::{AclError, AclOptions};
use crate::policy::Policy;
use crate::target::Target;

/// Per rule of `policy`, whether `Acl::new(&[policy], target, identity)` keeps it (its
/// template resolves and its `expiration` has not passed), or the error that ACL fails with
/// (OpenBao's refused substitution). The same functions decide as in the build, so the answer
/// is the ACL's. Cost: O(policy size), against the build's merge and index.
pub fn kept_rules(
    policy: &Policy,
    target: Target,
    identity: Option<&Identity>,
) -> Result<Vec<bool>, AclError> {
    // A `root` policy is an ACL of its own: it keeps no path rule.
    if policy.name == "root" {
        return Ok(vec![false; policy.rules.len()]);
    }
    let options = AclOptions::default();
    let input = template_input(policy, target, identity, &options, None);
    policy
        .rules
        .iter()
        .map(|rule| match rule_pattern(rule, &policy.namespace, &input) {
            Ok(_) => Ok(true),
            Err(Failure::Skip(_)) => Ok(false),
            Err(Failure::Fatal(message)) => Err(AclError::TemplatedPolicy {
                policy: policy.name.clone(),
                message: format!("path {:?}: {message}", rule.raw_pattern),
            }),
        })
        .collect()
}
