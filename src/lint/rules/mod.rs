//! One file per rule; each file's `//!` comment is the rule's user documentation
//! (What it does / Why is this bad / Example / Use instead). The machinery rules share lives
//! one level up, in `crate::lint` (see its module documentation).

pub mod agent_secret_unreadable;
pub mod audit_admin;
pub mod auth_method_admin;
pub mod auth_role_admin;
pub mod broad_secret_access;
pub mod create_without_update;
pub mod deny_with_capabilities;
pub mod deprecated_policy_key;
pub mod duplicate_path;
pub mod expired_rule;
pub mod grants_everything;
pub mod identity_admin;
pub mod kv2_list_on_data;
pub mod kv2_missing_data_prefix;
pub mod kv2_parameters;
pub mod leading_slash;
pub mod lease_revoke_prefix;
pub mod literal_plus;
pub mod literal_star;
pub mod mount_admin;
pub mod no_capabilities;
pub mod overridden_deny;
pub mod parameter_key_case_clash;
pub mod parameters_narrowed_by_merge;
pub mod parameters_unused;
pub mod plugin_admin;
pub mod policy_admin;
pub mod raw_storage;
pub mod seal_admin;
pub mod sudo_unneeded;
pub mod sudo_wildcard;
pub mod terraform_interpolated_policy;
pub mod token_create;
pub mod unknown_template_variable;
pub mod unresolved_template;
pub mod unused_ignore;
pub mod wildcard_mount;
