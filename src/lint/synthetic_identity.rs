//! The synthetic holder of a templated policy: an entity whose name, id, metadata, aliases
//! and groups make every template variable of the policy resolve, so that rules can ask what
//! the templated blocks grant. Every value is [`SELF`], or the group named in the variable.

use crate::acl::{Alias, Group, Identity};
use crate::policy::Policy;

/// The value every template of a policy resolves to for the synthetic holder.
pub const SELF: &str = "self";

/// The synthetic identity for `policy`; `None` when the policy has no template variable.
/// Cost: O(variables × aliases and groups named).
pub fn for_policy(policy: &Policy) -> Option<Identity> {
    let variables: Vec<&str> = policy
        .rules
        .iter()
        .filter(|rule| rule.is_templated())
        .flat_map(|rule| rule.template_vars.iter())
        .map(|var| var.value.trim())
        .collect();
    if variables.is_empty() {
        return None;
    }
    let mut identity = Identity {
        entity_id: SELF.into(),
        entity_name: SELF.into(),
        ..Default::default()
    };
    for variable in variables {
        add_to_identity(&mut identity, variable);
    }
    Some(identity)
}

/// Extends the synthetic identity so that one template variable resolves.
fn add_to_identity(identity: &mut Identity, variable: &str) {
    if let Some(key) = variable.strip_prefix("identity.entity.metadata.") {
        identity.metadata.insert(key.into(), SELF.into());
    } else if let Some(rest) = variable.strip_prefix("identity.entity.aliases.") {
        let Some((accessor, field)) = rest.split_once('.') else {
            return;
        };
        let position = identity
            .aliases
            .iter()
            .position(|a| a.mount_accessor == accessor);
        let index = position.unwrap_or_else(|| {
            identity.aliases.push(Alias {
                mount_accessor: accessor.into(),
                id: SELF.into(),
                name: SELF.into(),
                ..Default::default()
            });
            identity.aliases.len() - 1
        });
        let alias = &mut identity.aliases[index];
        if let Some(key) = field.strip_prefix("metadata.") {
            alias.metadata.insert(key.into(), SELF.into());
        } else if let Some(key) = field.strip_prefix("custom_metadata.") {
            alias.custom_metadata.insert(key.into(), SELF.into());
        }
    } else if let Some(rest) = variable.strip_prefix("identity.groups.names.") {
        add_group(identity, rest, true);
    } else if let Some(rest) = variable.strip_prefix("identity.groups.ids.") {
        add_group(identity, rest, false);
    }
}

/// `<group>.id|name|metadata.<key>`: a group known by `<group>` (its name when `by_name`,
/// else its id), merged with an earlier one of the same key.
fn add_group(identity: &mut Identity, rest: &str, by_name: bool) {
    let (group_key, key) = match rest.split_once(".metadata.") {
        Some((group_key, key)) => (group_key, Some(key)),
        None => match rest.rsplit_once('.') {
            Some((group_key, _)) => (group_key, None),
            None => return,
        },
    };
    let known = |group: &Group| {
        if by_name {
            group.name == group_key
        } else {
            group.id == group_key
        }
    };
    let index = match identity.groups.iter().position(known) {
        Some(index) => index,
        None => {
            let mut group = Group {
                id: SELF.into(),
                name: SELF.into(),
                ..Default::default()
            };
            if by_name {
                group.name = group_key.into();
            } else {
                group.id = group_key.into();
            }
            identity.groups.push(group);
            identity.groups.len() - 1
        }
    };
    if let Some(key) = key {
        identity.groups[index]
            .metadata
            .insert(key.into(), SELF.into());
    }
}
