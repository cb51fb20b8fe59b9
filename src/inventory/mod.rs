//! Mounts, auth roles, identity groups and entities: who holds which policies.
//!
//! The `*Spec` types are the `capable.yaml` sections `roles`, `groups` and `entities`,
//! deserialised by `crate::config` with serde-saphyr (unknown fields are rejected; names that
//! refer to other things are [`serde_saphyr::Spanned`] so errors point at their line).
//! [`Inventory`] resolves them into effective policy sets and identities.
//!
//! ```yaml
//! roles:
//!   kubernetes/inference-role:          # <auth mount path>/<role or user name>
//!     policies: [ai-inference-service]
//!     bound_service_account_names: [inference-sa]
//!     bound_service_account_namespaces: [inference]
//!   userpass/alice:
//!     policies: [dev]
//!     entity: alice                     # optional: the entity this login maps to
//! groups:
//!   ai-team:
//!     policies: [ai-reader]
//!     member_entities: [alice]
//!     metadata: {team: ai}
//! entities:
//!   alice:
//!     metadata: {team: ai}
//!     aliases:
//!       - {mount: userpass, name: alice}
//!     groups: [ai-team]
//! ```
//!
//! How a login resolves to an entity, and how auth mounts get accessors, is described on
//! [`Inventory`].

mod entity_acls;
mod group_acls;
pub mod lints;
pub mod records;
mod resolve;

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use crate::source::SourceFile;

pub use entity_acls::EntityAcls;
pub use group_acls::GroupAcls;
pub use resolve::{
    accessor_for_mount, key_span_in, Inventory, InventoryError, LoginEntity, Subject,
};

/// One auth role, or user for `userpass`/`ldap` (key: `<auth mount>/<name>`, e.g.
/// `kubernetes/inference-role` or `userpass/alice`; the mount is everything before the last `/`).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// The namespace the auth mount lives in (default: root); the role's policies are that
    /// namespace's, and its logins' tokens are created there.
    pub namespace: Option<Spanned<String>>,
    /// The auth method type (`kubernetes`, `approle`, `userpass`, `jwt`, `oidc`, `ldap`, ...).
    /// Default: the first segment of the mount path.
    #[serde(rename = "type")]
    pub auth_type: Option<Spanned<String>>,
    /// The auth mount's accessor as the server shows it (`auth_kubernetes_1a2b3c4d`), needed
    /// only when templates name it. Default: synthesized, see [`accessor_for_mount`].
    pub accessor: Option<Spanned<String>>,
    /// The token policies the login gets (`token_policies`; `policies` is Vault's older name).
    #[serde(default, alias = "token_policies")]
    pub policies: Vec<Spanned<String>>,
    /// Leave `default` out of the token's policies.
    #[serde(default)]
    pub token_no_default_policy: bool,
    /// The entity the login maps to (by entity name).
    pub entity: Option<Spanned<String>>,
    /// The name of the entity alias the login creates or matches. Default: the user name for
    /// `userpass`/`ldap`/`radius`/`cert`, the `role_id` for `approle`,
    /// `<namespace>/<service account>` for `kubernetes` when exactly one of each is bound;
    /// otherwise unknown.
    pub alias_name: Option<Spanned<String>>,
    /// Metadata the auth method attaches to the alias (Kubernetes sets
    /// `service_account_name` and `service_account_namespace` by itself).
    #[serde(default)]
    pub alias_metadata: BTreeMap<String, String>,
    /// Kubernetes.
    #[serde(default)]
    pub bound_service_account_names: Vec<String>,
    /// Kubernetes.
    #[serde(default)]
    pub bound_service_account_namespaces: Vec<String>,
    /// JWT/OIDC.
    #[serde(default)]
    pub bound_audiences: Vec<String>,
    /// JWT/OIDC.
    #[serde(default)]
    pub bound_claims: BTreeMap<String, serde_json::Value>,
    /// JWT/OIDC.
    pub user_claim: Option<String>,
    /// JWT/OIDC.
    pub groups_claim: Option<String>,
    /// AppRole: the role's `role_id` (the alias name of its logins).
    pub role_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

/// One identity group (key: group name).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// The group ID as the server shows it; default: synthesized from the name.
    pub id: Option<String>,
    /// The namespace the group lives in (default: root); its policies are that namespace's.
    pub namespace: Option<Spanned<String>>,
    /// `internal` (default) or `external`. Membership of both kinds comes from
    /// `member_entities` / entities' `groups` here.
    #[serde(rename = "type")]
    pub group_type: Option<Spanned<String>>,
    #[serde(default)]
    pub policies: Vec<Spanned<String>>,
    /// Entity names.
    #[serde(default)]
    pub member_entities: Vec<Spanned<String>>,
    /// Group names whose members are also members of this group (Vault's `member_group_ids`:
    /// this group is their parent, so they inherit its policies).
    #[serde(default)]
    pub member_groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub description: Option<String>,
}

/// One identity entity (key: entity name).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySpec {
    /// The entity ID as the server shows it; default: synthesized from the name.
    pub id: Option<String>,
    /// The namespace the entity lives in (default: root); its policies are that namespace's.
    pub namespace: Option<Spanned<String>>,
    /// Policies attached to the entity itself.
    #[serde(default)]
    pub policies: Vec<Spanned<String>>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// One alias per auth mount.
    #[serde(default)]
    pub aliases: Vec<AliasSpec>,
    /// Group names (in addition to groups listing this entity in `member_entities`).
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    pub description: Option<String>,
}

/// An entity alias: the entity's name on one auth mount.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasSpec {
    /// The auth mount path (`userpass`, `userpass/`, or `auth/userpass/`).
    pub mount: Spanned<String>,
    /// The mount's accessor, if templates need the real one (see [`RoleSpec::accessor`]).
    pub accessor: Option<Spanned<String>>,
    pub name: Spanned<String>,
    pub id: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub custom_metadata: BTreeMap<String, String>,
}

/// Settings the server stores with a policy beside its text (key: the policy name, with its
/// namespace path in front for a policy in a child namespace: `admin/team-a/reader`).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// OpenBao: unblocks `*` and `+` in substituted template values (spec 1.8).
    #[serde(default)]
    pub allow_wildcards_in_identity_templates: bool,
    /// OpenBao: unblocks `/` in substituted template values (spec 1.8).
    #[serde(default)]
    pub allow_slashes_in_identity_templates: bool,
    pub description: Option<String>,
}

impl PolicySpec {
    pub fn template_flags(&self) -> crate::policy::TemplateFlags {
        crate::policy::TemplateFlags {
            allow_slashes: self.allow_slashes_in_identity_templates,
            allow_wildcards: self.allow_wildcards_in_identity_templates,
        }
    }
}

/// The `roles`, `groups` and `entities` sections together.
#[derive(Clone, Debug, Default)]
pub struct InventorySpecs {
    pub roles: BTreeMap<String, RoleSpec>,
    pub groups: BTreeMap<String, GroupSpec>,
    pub entities: BTreeMap<String, EntitySpec>,
    /// The policy names `policies:` gives settings for (each must name a policy).
    pub policy_settings: Vec<String>,
    /// The namespace tree of `namespaces:`.
    pub namespaces: crate::namespace::Namespaces,
    /// The files other than `capable.yaml` that values point into (source id `n` is
    /// `sources[n - 1]`, see [`spanned_in`]): the `.tf` files inventory was read from.
    pub sources: Vec<std::sync::Arc<SourceFile>>,
    /// Errors found while merging those files' inventory (duplicates), with source ids.
    pub conflicts: Vec<(u32, crate::diag::Diagnostic)>,
    /// The product (`target:`): OpenBao refuses identity memberships across namespaces.
    pub target: crate::target::Target,
}

/// Our span of a serde-saphyr location (byte offsets are known for string sources).
pub fn span_of(location: &serde_saphyr::Location) -> crate::span::Span {
    let span = location.span();
    let start = span.byte_offset().unwrap_or(0) as usize;
    let len = span.byte_len().unwrap_or(0) as usize;
    crate::span::Span::new(start, start + len)
}

/// The span of a spanned value (where it is referenced).
pub fn span_of_spanned<T>(value: &Spanned<T>) -> crate::span::Span {
    span_of(&value.referenced)
}

/// A value with a span in one of the inventory's source files: `source_id` 0 is
/// `capable.yaml`, `n` is the `n`-th file of [`InventorySpecs::sources`] (a `.tf` file). Used for
/// inventory read from Terraform, so that errors about it point into the `.tf` file. The
/// location is built through serde-saphyr's own `Location` deserializer (its constructors are
/// private); line and column are 1-based like the ones it reports.
pub fn spanned_in<T>(
    value: T,
    span: crate::span::Span,
    source: &SourceFile,
    source_id: u32,
) -> Spanned<T> {
    let (line, column) = source.line_col(span.start);
    let location = serde_json::json!({
        "line": line,
        "column": column,
        "span": {
            "offset": span.start,
            "len": span.len(),
            "byte_info": [span.start, span.len()],
        },
        "source_id": source_id,
    });
    let location: serde_saphyr::Location =
        serde_json::from_value(location).unwrap_or(serde_saphyr::Location::UNKNOWN);
    Spanned::new(value, location, location)
}

/// The source id of a spanned value (see [`spanned_in`]).
pub fn source_id_of<T>(value: &Spanned<T>) -> u32 {
    value.referenced.source_id()
}

/// One role, group, entity or mount declared outside `capable.yaml` (in Terraform), with
/// the span naming it (the resource's label or name) in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared<T> {
    /// The inventory key: `<mount>/<role>`, a group or entity name, a mount path.
    pub key: String,
    /// Where the item is declared in its file.
    pub span: crate::span::Span,
    /// The index of its file in [`InventorySpecs::sources`] plus one.
    pub source_id: u32,
    /// `vault_identity_group.ai` etc., for messages.
    pub what: String,
    pub spec: T,
}

/// Inventory read from Terraform, merged into the configuration's by
/// [`crate::config::Config::import_inventory`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    pub roles: Vec<Declared<RoleSpec>>,
    pub groups: Vec<Declared<GroupSpec>>,
    pub entities: Vec<Declared<EntitySpec>>,
    pub mounts: Vec<Declared<crate::mounts::Mount>>,
}

impl Imported {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.groups.is_empty()
            && self.entities.is_empty()
            && self.mounts.is_empty()
    }

    pub fn extend(&mut self, other: Imported) {
        self.roles.extend(other.roles);
        self.groups.extend(other.groups);
        self.entities.extend(other.entities);
        self.mounts.extend(other.mounts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanned_values_carry_their_file_and_span() {
        let source = SourceFile::new("x.tf", "a\n  name = \"ops\"\n");
        let span = crate::span::Span::new(11, 16);
        let value = spanned_in("ops".to_string(), span, &source, 3);
        assert_eq!(source_id_of(&value), 3);
        assert_eq!(span_of_spanned(&value), span);
        assert_eq!(value.referenced.line(), 2);
        // Values read from capable.yaml have source id 0.
        let yaml: BTreeMap<String, Spanned<String>> = serde_saphyr::from_str("k: v\n").unwrap();
        assert_eq!(source_id_of(&yaml["k"]), 0);
    }
}
