//! Mounts, auth roles, identity groups and entities: who holds which policies.
//! Owned by the inventory work. The `*Spec` types are the `capable.yaml` sections
//! (`roles`, `groups`, `entities`), deserialised by `crate::config`.

/// One auth role (key: `<auth mount>/<role>`, e.g. `kubernetes/inference-role`). To be filled in.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {}

/// One identity group (key: group name). To be filled in.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {}

/// One identity entity (key: entity name). To be filled in.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySpec {}
