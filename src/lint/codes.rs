//! The flat rule registry (like ruff's `codes.rs`): every rule, in one table.

use super::rules::*;
use super::Rule;

/// Every lint rule, in catalog order: correctness, then security, then style.
pub static RULES: &[&dyn Rule] = &[
    // correctness
    &literal_star::LiteralStar,
    &literal_plus::LiteralPlus,
    &deny_with_capabilities::DenyWithCapabilities,
    &no_capabilities::NoCapabilities,
    &duplicate_path::DuplicatePath,
    &deprecated_policy_key::DeprecatedPolicyKey,
    &kv2_missing_data_prefix::Kv2MissingDataPrefix,
    &kv2_list_on_data::Kv2ListOnData,
    &kv2_parameters::Kv2Parameters,
    &parameter_key_case_clash::ParameterKeyCaseClash,
    &parameters_unused::ParametersUnused,
    &unknown_template_variable::UnknownTemplateVariable,
    &create_without_update::CreateWithoutUpdate,
    &sudo_unneeded::SudoUnneeded,
    &sudo_missing::SudoMissing,
    &unauthenticated_path::UnauthenticatedPath,
    &capability_unsupported::CapabilityUnsupported,
    &unknown_endpoint::UnknownEndpoint,
    &expired_rule::ExpiredRule,
    &parameters_narrowed_by_merge::ParametersNarrowedByMerge,
    &unresolved_template::UnresolvedTemplate,
    &agent_secret_unreadable::AgentSecretUnreadable,
    &terraform_interpolated_policy::TerraformInterpolatedPolicy,
    // security
    &grants_everything::GrantsEverything,
    &wildcard_mount::WildcardMount,
    &sudo_wildcard::SudoWildcard,
    &policy_admin::PolicyAdmin,
    &token_create::TokenCreate,
    &auth_role_admin::AuthRoleAdmin,
    &identity_admin::IdentityAdmin,
    &auth_method_admin::AuthMethodAdmin,
    &audit_admin::AuditAdmin,
    &mount_admin::MountAdmin,
    &plugin_admin::PluginAdmin,
    &raw_storage::RawStorage,
    &seal_admin::SealAdmin,
    &lease_revoke_prefix::LeaseRevokePrefix,
    &kv2_destroy::Kv2Destroy,
    &pki_ca_admin::PkiCaAdmin,
    &secrets_role_admin::SecretsRoleAdmin,
    &transit_key_export::TransitKeyExport,
    &broad_secret_access::BroadSecretAccess,
    &overridden_deny::OverriddenDeny,
    // style
    &leading_slash::LeadingSlash,
    &unused_ignore::UnusedIgnore,
];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|rule| rule.meta().id == id)
}
