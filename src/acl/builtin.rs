//! Built-in data of each product, written as our own data: the built-in policies (spec
//! section 5) and the root-protected ("sudo") paths (spec section 6).
//!
//! The built-in policies are kept as policy text, because that text is what users see in
//! `explain`; the model is built from it with [`crate::policy::parse_policy`]. A table of the
//! same rules backs it up: if the text ever failed to parse, the model is built from the table
//! instead (never a panic), and the unit tests check that text and table agree.

use std::sync::{Arc, OnceLock};

use crate::config::Mounts;
use crate::policy::{parse_policy, CapSet, Capability, PathPattern, Policy, Rule};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};
use crate::target::Target;

// ---------------------------------------------------------------------------------------------
// Built-in policies (spec section 5)
// ---------------------------------------------------------------------------------------------

/// The rules both products' `default` policy holds. A macro so that `concat!` can build both
/// texts from one copy.
macro_rules! default_common_text {
    () => {
        r#"# Built-in `default` policy: what every token gets unless created without it.

# A token may read its own properties, renew and revoke itself.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# A token may ask for its own capabilities on any path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# A token may read its own entity, by id or by name (templated: a token without an entity
# does not get these two paths).
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# A token may read the ACL that results from all of its policies (used by the UI).
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Lease renewal and lookup by lease id in the request body.
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# A token owns its cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap any value, look up and unwrap wrapping tokens.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}
path "sys/wrapping/lookup" {
  capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# General purpose hashing.
path "sys/tools/hash" {
  capabilities = ["update"]
}
path "sys/tools/hash/*" {
  capabilities = ["update"]
}

# The authorization endpoint of every OIDC provider.
path "identity/oidc/provider/+/authorize" {
  capabilities = ["read", "update"]
}
"#
    };
}

/// OpenBao's `default` policy (OpenBao removed `sys/renew` and `sys/control-group/request`).
pub const DEFAULT_POLICY_OPENBAO: &str = default_common_text!();

/// Vault's `default` policy: the common rules plus two paths OpenBao removed.
pub const DEFAULT_POLICY_VAULT: &str = concat!(
    default_common_text!(),
    r#"
# Vault only: lease renewal on the legacy path.
path "sys/renew" {
  capabilities = ["update"]
}

# Vault only (Enterprise): a token may request control group authorization.
path "sys/control-group/request" {
  capabilities = ["update"]
}
"#
);

/// The `response-wrapping` policy (both products): what a wrapping token may do.
pub const RESPONSE_WRAPPING_POLICY: &str = r#"# Built-in `response-wrapping` policy (immutable, not assignable).
path "cubbyhole/response" {
  capabilities = ["create", "read"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
"#;

/// The `control-group` policy (Vault only).
pub const CONTROL_GROUP_POLICY: &str = r#"# Built-in `control-group` policy (Vault only; immutable, not assignable).
path "cubbyhole/control-group" {
  capabilities = ["update", "create", "read"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
"#;

/// One rule of a built-in policy, as a table row: the label and its capabilities.
pub type BuiltinRule = (&'static str, &'static [Capability]);

use Capability::{Create, Delete, List, Read, Update};

/// The rules of [`default_common_text`], in text order.
const DEFAULT_COMMON_RULES: &[BuiltinRule] = &[
    ("auth/token/lookup-self", &[Read]),
    ("auth/token/renew-self", &[Update]),
    ("auth/token/revoke-self", &[Update]),
    ("sys/capabilities-self", &[Update]),
    ("identity/entity/id/{{identity.entity.id}}", &[Read]),
    ("identity/entity/name/{{identity.entity.name}}", &[Read]),
    ("sys/internal/ui/resultant-acl", &[Read]),
    ("sys/leases/renew", &[Update]),
    ("sys/leases/lookup", &[Update]),
    ("cubbyhole/*", &[Create, Read, Update, Delete, List]),
    ("sys/wrapping/wrap", &[Update]),
    ("sys/wrapping/lookup", &[Update]),
    ("sys/wrapping/unwrap", &[Update]),
    ("sys/tools/hash", &[Update]),
    ("sys/tools/hash/*", &[Update]),
    ("identity/oidc/provider/+/authorize", &[Read, Update]),
];

/// The rules only Vault's `default` policy has, appended after the common ones.
const DEFAULT_VAULT_ONLY_RULES: &[BuiltinRule] = &[
    ("sys/renew", &[Update]),
    ("sys/control-group/request", &[Update]),
];

const RESPONSE_WRAPPING_RULES: &[BuiltinRule] = &[
    ("cubbyhole/response", &[Create, Read]),
    ("sys/wrapping/unwrap", &[Update]),
];

const CONTROL_GROUP_RULES: &[BuiltinRule] = &[
    ("cubbyhole/control-group", &[Update, Create, Read]),
    ("sys/wrapping/unwrap", &[Update]),
];

/// The text of a target's `default` policy.
pub fn default_policy_text(target: Target) -> &'static str {
    match target {
        Target::Vault => DEFAULT_POLICY_VAULT,
        Target::OpenBao => DEFAULT_POLICY_OPENBAO,
    }
}

/// The rules of a target's `default` policy as a table (label, capabilities), in text order.
pub fn default_policy_rules(target: Target) -> Vec<BuiltinRule> {
    let mut rules = DEFAULT_COMMON_RULES.to_vec();
    if target == Target::Vault {
        rules.extend_from_slice(DEFAULT_VAULT_ONLY_RULES);
    }
    rules
}

/// The built-in `default` policy of a target (spec 5), named `default`. Parsed once per target
/// and then cloned.
pub fn default_policy(target: Target) -> Policy {
    default_policy_ref(target).clone()
}

/// [`default_policy`], borrowed: an ACL per subject (`who-can` builds 10,000) needs no copy.
pub fn default_policy_ref(target: Target) -> &'static Policy {
    static VAULT: OnceLock<Policy> = OnceLock::new();
    static OPENBAO: OnceLock<Policy> = OnceLock::new();
    let cell = match target {
        Target::Vault => &VAULT,
        Target::OpenBao => &OPENBAO,
    };
    cell.get_or_init(|| {
        let rules = default_policy_rules(target);
        builtin_policy("default", default_policy_text(target), &rules, target)
    })
}

/// The built-in `response-wrapping` policy (spec 5); the same in both products.
pub fn response_wrapping_policy(target: Target) -> Policy {
    builtin_policy(
        "response-wrapping",
        RESPONSE_WRAPPING_POLICY,
        RESPONSE_WRAPPING_RULES,
        target,
    )
}

/// Vault's built-in `control-group` policy (spec 5). OpenBao has none; this is Vault data.
pub fn control_group_policy() -> Policy {
    builtin_policy(
        "control-group",
        CONTROL_GROUP_POLICY,
        CONTROL_GROUP_RULES,
        Target::Vault,
    )
}

/// The built-in policy a token may name without it being stored: `default` (the target's) or
/// `root` (an empty policy the ACL treats as root: everything allowed).
pub fn builtin_named(name: &str, target: Target) -> Option<Policy> {
    match name {
        "default" => Some(default_policy(target)),
        "root" => Some(Policy {
            name: "root".into(),
            source: Arc::new(SourceFile::new("<builtin root>", "")),
            declared_name: None,
            rules: Vec::new(),
            templated: false,
            namespace: String::new(),
            template_flags: Default::default(),
        }),
        _ => None,
    }
}

/// Whether a source file is one of the built-in policies' texts (no file on disk).
pub fn is_builtin_source(file: &SourceFile) -> bool {
    file.name.starts_with("<builtin")
}

/// Parses a built-in text; falls back to building the model from its table if the parser
/// refuses it (a bug the unit tests catch, never a reason to panic).
fn builtin_policy(name: &str, text: &str, table: &[BuiltinRule], target: Target) -> Policy {
    let source = Arc::new(SourceFile::new(
        format!("<builtin {name} ({})>", target.name()),
        text,
    ));
    let parsed = parse_policy(source.clone(), target);
    let mut policy = match parsed.policy {
        Some(policy) if policy.rules.len() == table.len() => policy,
        _ => policy_from_table(source, table),
    };
    policy.name = name.to_string();
    policy
}

/// Builds the model by hand from a table, with spans pointing into the text.
/// Cost: O(rules × text length) for the span search; run once per built-in policy.
fn policy_from_table(source: Arc<SourceFile>, table: &[BuiltinRule]) -> Policy {
    let rules: Vec<Rule> = table
        .iter()
        .map(|(label, capabilities)| rule_from_row(&source.text, label, capabilities))
        .collect();
    let templated = rules.iter().any(Rule::is_templated);
    Policy {
        name: String::new(),
        source,
        declared_name: None,
        rules,
        templated,
        namespace: String::new(),
        template_flags: Default::default(),
    }
}

fn rule_from_row(text: &str, label: &str, capabilities: &[Capability]) -> Rule {
    let quoted = format!("\"{label}\"");
    let block_start = text.find(&format!("path {quoted}")).unwrap_or(0);
    let pattern_start = block_start + "path ".len();
    // Search for the closing brace after the label: a templated label holds `}}` itself.
    let label_end = pattern_start + quoted.len();
    let block_end = text[label_end..]
        .find('}')
        .map_or(text.len(), |offset| label_end + offset + 1);
    let block = &text[block_start..block_end];
    let list_start = block
        .find("capabilities")
        .map_or(block_start, |o| block_start + o);
    let capability_list = capabilities
        .iter()
        .map(|capability| {
            let token = format!("\"{}\"", capability.name());
            let start = block.find(&token).map_or(list_start, |o| block_start + o);
            Spanned::new(*capability, Span::new(start, start + token.len()))
        })
        .collect();
    let template_vars = template_vars(label, pattern_start + 1);
    let pattern = if template_vars.is_empty() {
        PathPattern::parse(label).ok()
    } else {
        None
    };
    Rule {
        pattern_span: Span::new(pattern_start, pattern_start + quoted.len()),
        block_span: Span::new(block_start, block_end),
        template_vars,
        capability_list,
        capabilities_span: Some(Span::new(list_start, block_end.saturating_sub(1))),
        ..Rule::bare(label, pattern, CapSet::of(capabilities))
    }
}

/// The `{{...}}` markers of a label (inner text, span of the whole marker); `offset` is where
/// the label starts in the source.
fn template_vars(label: &str, offset: usize) -> Vec<Spanned<String>> {
    let mut vars = Vec::new();
    let mut rest_start = 0;
    while let Some(open) = label[rest_start..].find("{{") {
        let open = rest_start + open;
        let Some(close) = label[open..].find("}}") else {
            break;
        };
        let close = open + close + 2;
        let inner = label[open + 2..close - 2].trim().to_string();
        vars.push(Spanned::new(
            inner,
            Span::new(offset + open, offset + close),
        ));
        rest_start = close;
    }
    vars
}

// ---------------------------------------------------------------------------------------------
// Root-protected ("sudo") paths (spec section 6)
// ---------------------------------------------------------------------------------------------

/// Which products protect a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Products {
    Both,
    VaultOnly,
    OpenBaoOnly,
}

impl Products {
    fn includes(self, target: Target) -> bool {
        match self {
            Products::Both => true,
            Products::VaultOnly => target == Target::Vault,
            Products::OpenBaoOnly => target == Target::OpenBao,
        }
    }
}

/// One backend's `PathsSpecial.Root` list. Patterns are written in full under the backend's
/// usual mount (so they double as Vault policy patterns); a trailing `*` makes a prefix entry,
/// anything else is exact.
struct RootTable {
    /// The mount the patterns are written under, with its trailing `/`.
    mount: &'static str,
    entries: &'static [(&'static str, Products)],
}

/// The system backend, mounted at `sys/`.
const SYS_ROOT: RootTable = RootTable {
    mount: "sys/",
    entries: &[
        ("sys/auth/*", Products::Both),
        ("sys/remount", Products::Both),
        ("sys/audit", Products::Both),
        ("sys/audit/*", Products::Both),
        ("sys/raw", Products::Both),
        ("sys/raw/*", Products::Both),
        ("sys/rotate", Products::Both),
        ("sys/rotate/keyring", Products::OpenBaoOnly),
        ("sys/rotate/root", Products::OpenBaoOnly),
        ("sys/config/cors", Products::Both),
        ("sys/config/auditing/*", Products::Both),
        ("sys/config/ui/headers/*", Products::Both),
        ("sys/plugins/catalog/*", Products::Both),
        ("sys/revoke-prefix/*", Products::Both),
        ("sys/revoke-force/*", Products::Both),
        ("sys/leases/revoke-prefix/*", Products::Both),
        ("sys/leases/revoke-force/*", Products::Both),
        ("sys/leases/lookup/*", Products::Both),
        ("sys/leases", Products::Both),
        ("sys/internal/inspect/*", Products::Both),
        (
            "sys/replication/primary/secondary-token",
            Products::VaultOnly,
        ),
        (
            "sys/replication/performance/primary/secondary-token",
            Products::VaultOnly,
        ),
        (
            "sys/replication/dr/primary/secondary-token",
            Products::VaultOnly,
        ),
        ("sys/replication/reindex", Products::VaultOnly),
        ("sys/replication/dr/reindex", Products::VaultOnly),
        ("sys/replication/performance/reindex", Products::VaultOnly),
        (
            "sys/storage/raft/snapshot-auto/config/*",
            Products::VaultOnly,
        ),
    ],
};

/// The token store, mounted at `auth/token/`.
const TOKEN_ROOT: RootTable = RootTable {
    mount: "auth/token/",
    entries: &[
        ("auth/token/revoke-orphan/*", Products::Both),
        // A prefix without `/`: matches `accessors`, `accessors/` and `accessorsx`.
        ("auth/token/accessors*", Products::Both),
    ],
};

/// The PKI backend, written under its usual mount `pki/`; it applies under every PKI mount.
const PKI_ROOT: RootTable = RootTable {
    mount: "pki/",
    entries: &[
        ("pki/root", Products::Both),
        ("pki/root/sign-self-issued", Products::Both),
    ],
};

/// Paths whose handlers demand sudo in code rather than through a `PathsSpecial` list.
const ALWAYS_SUDO: &[&str] = &["sys/seal", "sys/step-down"];

/// The PKI mount [`requires_sudo`] assumes.
pub const DEFAULT_PKI_MOUNT: &str = "pki/";

/// Whether a request path needs `sudo` (spec 6), assuming a PKI engine at `pki/` and no other.
/// `path` is the path the ACL sees (leading `/` ignored; list requests carry their trailing `/`).
/// Cost: O(table size × path length), the tables being fixed and small (under 30 entries).
pub fn requires_sudo(target: Target, path: &str) -> bool {
    requires_sudo_with_mounts(target, path, &[DEFAULT_PKI_MOUNT])
}

/// Whether a request path needs `sudo` (spec 6), given where PKI engines are mounted
/// (`pki_mounts`, with or without the trailing `/`).
///
/// The path is routed to the longest mount among `sys/`, `auth/token/` and the PKI mounts;
/// only the longest root-path entry matching the path relative to that mount counts: a prefix
/// entry protects the path, an exact entry only when it equals the path. `sys/seal` and
/// `sys/step-down` always need sudo.
///
/// Cost: O((pki mounts + table size) × path length); the tables are fixed and small.
pub fn requires_sudo_with_mounts(target: Target, path: &str, pki_mounts: &[&str]) -> bool {
    let path = path.trim_start_matches('/');
    if ALWAYS_SUDO.contains(&path) {
        return true;
    }
    let Some((mount_length, table)) = route(path, pki_mounts) else {
        return false;
    };
    table.protects(target, &path[mount_length..])
}

/// The PKI mounts of a mount table (engine `pki`), for [`requires_sudo_with_mounts`].
pub fn pki_mount_paths(mounts: &Mounts) -> Vec<&str> {
    mounts
        .iter()
        .filter(|mount| mount.engine == "pki")
        .map(|mount| mount.path.as_str())
        .collect()
}

/// The protected paths as Vault policy patterns (e.g. `sys/auth/*`, `sys/audit`), PKI ones
/// under `pki/`, plus `sys/seal` and `sys/step-down`. For lints that ask whether any protected
/// path lies under a rule's pattern.
pub fn sudo_patterns(target: Target) -> Vec<&'static str> {
    [&SYS_ROOT, &TOKEN_ROOT, &PKI_ROOT]
        .into_iter()
        .flat_map(|table| table.entries.iter())
        .filter(|(_, products)| products.includes(target))
        .map(|(pattern, _)| *pattern)
        .chain(ALWAYS_SUDO.iter().copied())
        .collect()
}

/// The mount a path routes to among those with a root-path table: the longest mount path that
/// prefixes it. Returns the length of the mount path (with its `/`) in `path`, and its table.
/// No allocation: this runs on every request decision.
fn route(path: &str, pki_mounts: &[&str]) -> Option<(usize, &'static RootTable)> {
    let fixed = [&SYS_ROOT, &TOKEN_ROOT]
        .into_iter()
        .filter_map(|table| mount_length(path, table.mount).map(|length| (length, table)));
    let pki = pki_mounts
        .iter()
        .filter_map(|mount| mount_length(path, mount).map(|length| (length, &PKI_ROOT)));
    fixed.chain(pki).max_by_key(|(length, _)| *length)
}

/// How much of `path` the mount covers, `/` included, when the path lies below the mount
/// (`mount` may omit its trailing `/` and carry leading ones).
fn mount_length(path: &str, mount: &str) -> Option<usize> {
    let mount = mount.trim_start_matches('/');
    let bare = mount.strip_suffix('/').unwrap_or(mount);
    if bare.is_empty() {
        return None;
    }
    let rest = path.strip_prefix(bare)?;
    rest.starts_with('/').then_some(bare.len() + 1)
}

impl RootTable {
    /// Longest-match rule: among the entries whose key (pattern minus a trailing `*`, relative
    /// to the mount) prefixes `relative`, only the longest counts. Cost: O(entries × length).
    fn protects(&self, target: Target, relative: &str) -> bool {
        let longest = self
            .entries
            .iter()
            .filter(|(_, products)| products.includes(target))
            .map(|(pattern, _)| self.relative_entry(pattern))
            .filter(|(key, _)| relative.starts_with(key))
            .max_by_key(|(key, _)| key.len());
        match longest {
            Some((_, true)) => true,
            Some((key, false)) => key == relative,
            None => false,
        }
    }

    /// An entry relative to the mount: its key and whether it is a prefix entry.
    fn relative_entry(&self, pattern: &'static str) -> (&'static str, bool) {
        let relative = pattern.strip_prefix(self.mount).unwrap_or(pattern);
        match relative.strip_suffix('*') {
            Some(key) => (key, true),
            None => (relative, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PatternKind;

    fn sudo(path: &str) -> bool {
        requires_sudo(Target::OpenBao, path)
    }

    fn vault_sudo(path: &str) -> bool {
        requires_sudo(Target::Vault, path)
    }

    #[test]
    fn auth_prefix_protects_children_not_the_list() {
        assert!(!sudo("sys/auth"));
        assert!(sudo("sys/auth/"));
        assert!(sudo("sys/auth/x"));
        assert!(sudo("sys/auth/token/tune"));
        assert!(!sudo("sys/authx"));
    }

    #[test]
    fn exact_entries_protect_only_themselves() {
        for path in [
            "sys/remount",
            "sys/audit",
            "sys/raw",
            "sys/rotate",
            "sys/config/cors",
        ] {
            assert!(sudo(path), "{path}");
            assert!(!sudo(&format!("{path}x")), "{path}x");
        }
        assert!(!sudo("sys/remount/"));
        assert!(!sudo("sys/config/cors/"));
        assert!(!sudo("sys/rotate/config"));
    }

    #[test]
    fn exact_and_prefix_pairs_cover_both_forms() {
        assert!(sudo("sys/audit/file"));
        assert!(sudo("sys/audit/"));
        assert!(sudo("sys/raw/core/keyring"));
        assert!(!sudo("sys/auditx"));
        assert!(!sudo("sys/rawx"));
    }

    #[test]
    fn config_prefixes() {
        assert!(sudo("sys/config/auditing/request-headers"));
        assert!(sudo("sys/config/auditing/"));
        assert!(!sudo("sys/config/auditing"));
        assert!(sudo("sys/config/ui/headers/x"));
        assert!(sudo("sys/config/ui/headers/"));
        assert!(!sudo("sys/config/ui/headers"));
        assert!(!sudo("sys/config/ui"));
    }

    #[test]
    fn plugin_catalog_prefix() {
        assert!(sudo("sys/plugins/catalog/"));
        assert!(sudo("sys/plugins/catalog/secret/kv"));
        assert!(!sudo("sys/plugins/catalog"));
        assert!(!sudo("sys/plugins/reload/backend"));
    }

    #[test]
    fn revoke_prefixes_old_and_new() {
        for base in [
            "sys/revoke-prefix/",
            "sys/revoke-force/",
            "sys/leases/revoke-prefix/",
            "sys/leases/revoke-force/",
        ] {
            assert!(sudo(base), "{base}");
            assert!(sudo(&format!("{base}aws/creds")), "{base}");
            assert!(!sudo(base.trim_end_matches('/')), "{base}");
        }
        assert!(!sudo("sys/revoke/x"));
        assert!(!sudo("sys/leases/revoke"));
    }

    #[test]
    fn leases_longest_match_rule() {
        assert!(sudo("sys/leases"));
        assert!(sudo("sys/leases/lookup/x"));
        assert!(sudo("sys/leases/lookup/"));
        // The longest matching key is the exact `leases`, which does not equal these paths.
        assert!(!sudo("sys/leases/lookup"));
        assert!(!sudo("sys/leases/"));
        assert!(!sudo("sys/leases/renew"));
        assert!(!sudo("sys/leasesx"));
    }

    #[test]
    fn internal_inspect_prefix() {
        assert!(sudo("sys/internal/inspect/router/sys/"));
        assert!(sudo("sys/internal/inspect/request"));
        assert!(!sudo("sys/internal/inspect"));
        assert!(!sudo("sys/internal/ui/mounts"));
    }

    #[test]
    fn rotate_children_are_openbao_only() {
        assert!(sudo("sys/rotate/keyring"));
        assert!(sudo("sys/rotate/root"));
        assert!(!sudo("sys/rotate/keyring/"));
        // Spec 6: Vault VF protects only `rotate`.
        assert!(!vault_sudo("sys/rotate/keyring"));
        assert!(!vault_sudo("sys/rotate/root"));
        assert!(vault_sudo("sys/rotate"));
    }

    #[test]
    fn replication_and_raft_auto_are_vault_only() {
        // Spec 6 table: replication secondary-token and reindex, raft snapshot-auto config.
        for path in [
            "sys/replication/primary/secondary-token",
            "sys/replication/performance/primary/secondary-token",
            "sys/replication/dr/primary/secondary-token",
            "sys/replication/reindex",
            "sys/replication/dr/reindex",
            "sys/replication/performance/reindex",
            "sys/storage/raft/snapshot-auto/config/daily",
        ] {
            assert!(vault_sudo(path), "{path}");
            assert!(!sudo(path), "{path}");
        }
        assert!(!vault_sudo("sys/replication/status"));
        assert!(!vault_sudo("sys/storage/raft/snapshot-auto/config"));
    }

    #[test]
    fn seal_and_step_down_always() {
        for target in [Target::Vault, Target::OpenBao] {
            assert!(requires_sudo(target, "sys/seal"));
            assert!(requires_sudo(target, "/sys/step-down"));
            assert!(!requires_sudo(target, "sys/seal-status"));
            assert!(!requires_sudo(target, "sys/unseal"));
        }
    }

    #[test]
    fn token_store_entries() {
        assert!(sudo("auth/token/revoke-orphan/x"));
        assert!(sudo("auth/token/revoke-orphan/"));
        assert!(!sudo("auth/token/revoke-orphan"));
        assert!(sudo("auth/token/accessors"));
        assert!(sudo("auth/token/accessors/"));
        assert!(sudo("auth/token/accessorsx"));
        assert!(!sudo("auth/token/accessor"));
        assert!(!sudo("auth/token/create"));
        assert!(!sudo("auth/tokenx/accessors"));
    }

    #[test]
    fn pki_entries_follow_the_mounts() {
        assert!(sudo("pki/root"));
        assert!(sudo("pki/root/sign-self-issued"));
        assert!(!sudo("pki/root/generate/internal"));
        assert!(!sudo("pki/rootx"));
        assert!(!sudo("pki-int/root"));
        let mounts = ["pki-int", "/corp/pki/"];
        let with = |path| requires_sudo_with_mounts(Target::OpenBao, path, &mounts);
        assert!(with("pki-int/root"));
        assert!(with("corp/pki/root/sign-self-issued"));
        assert!(!with("pki/root"));
        assert!(!with("corp/pki/roots"));
        assert!(with("sys/audit"));
    }

    #[test]
    fn a_pki_mount_nested_under_sys_does_not_shadow_sys_rules() {
        // The longest mount wins, and a mount only claims paths below it.
        assert!(requires_sudo_with_mounts(
            Target::OpenBao,
            "sys/auth/x",
            &["sys/auth/x"]
        ));
        assert!(!requires_sudo_with_mounts(
            Target::OpenBao,
            "sys/auth/x/y",
            &["sys/auth/x"]
        ));
    }

    #[test]
    fn leading_slashes_are_ignored() {
        assert!(sudo("//sys/audit"));
        assert!(!sudo("/sys/auth"));
    }

    #[test]
    fn unrelated_paths_are_not_protected() {
        for path in [
            "",
            "secret/data/x",
            "sys",
            "sys/",
            "sys/mounts",
            "sys/policies/acl/x",
        ] {
            assert!(!sudo(path), "{path}");
            assert!(!vault_sudo(path), "{path}");
        }
    }

    #[test]
    fn sudo_patterns_are_valid_patterns_that_match_protected_paths() {
        for target in [Target::Vault, Target::OpenBao] {
            let patterns = sudo_patterns(target);
            for pattern in &patterns {
                let parsed = PathPattern::parse(pattern).expect("valid pattern");
                // Each pattern's own key is protected, prefix keys included (a `*` rule
                // covers its key).
                let sample = match parsed.kind {
                    PatternKind::Prefix => format!("{}x", parsed.key()),
                    _ => parsed.key().to_string(),
                };
                assert!(requires_sudo(target, &sample), "{target} {pattern}");
            }
            assert!(patterns.contains(&"sys/auth/*"));
            assert!(patterns.contains(&"sys/seal"));
            assert_eq!(
                patterns.contains(&"sys/rotate/keyring"),
                target == Target::OpenBao
            );
            assert_eq!(
                patterns.contains(&"sys/replication/reindex"),
                target == Target::Vault
            );
        }
    }

    fn rule_table(policy: &Policy) -> Vec<(String, CapSet)> {
        policy
            .rules
            .iter()
            .map(|rule| (rule.raw_pattern.clone(), rule.capabilities))
            .collect()
    }

    fn expected_table(rules: &[BuiltinRule]) -> Vec<(String, CapSet)> {
        rules
            .iter()
            .map(|(label, caps)| (label.to_string(), CapSet::of(caps)))
            .collect()
    }

    #[test]
    fn default_policy_differs_by_target() {
        let vault = default_policy(Target::Vault);
        let openbao = default_policy(Target::OpenBao);
        assert_eq!(vault.name, "default");
        assert_eq!(openbao.name, "default");
        assert_eq!(openbao.source.name, "<builtin default (openbao)>");
        assert_eq!(rule_table(&openbao), expected_table(DEFAULT_COMMON_RULES));
        let vault_rules = default_policy_rules(Target::Vault);
        assert_eq!(rule_table(&vault), expected_table(&vault_rules));
        let vault_only: Vec<&str> = vault
            .rules
            .iter()
            .map(|rule| rule.raw_pattern.as_str())
            .filter(|label| !openbao.rules.iter().any(|r| r.raw_pattern == *label))
            .collect();
        assert_eq!(vault_only, ["sys/renew", "sys/control-group/request"]);
        assert!(vault.templated && openbao.templated);
    }

    #[test]
    fn builtin_texts_parse_as_their_tables() {
        // The parser must accept our own texts; the table fallback is only a safety net.
        let cases: Vec<(&str, Target, Vec<BuiltinRule>)> = vec![
            (
                DEFAULT_POLICY_VAULT,
                Target::Vault,
                default_policy_rules(Target::Vault),
            ),
            (
                DEFAULT_POLICY_OPENBAO,
                Target::OpenBao,
                default_policy_rules(Target::OpenBao),
            ),
            (
                RESPONSE_WRAPPING_POLICY,
                Target::OpenBao,
                RESPONSE_WRAPPING_RULES.to_vec(),
            ),
            (
                CONTROL_GROUP_POLICY,
                Target::Vault,
                CONTROL_GROUP_RULES.to_vec(),
            ),
        ];
        for (text, target, table) in cases {
            let source = Arc::new(SourceFile::new("builtin.hcl", text));
            let parsed = parse_policy(source, target);
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            let policy = parsed.policy.expect("builtin text parses");
            assert_eq!(rule_table(&policy), expected_table(&table));
        }
    }

    #[test]
    fn table_fallback_points_into_the_text() {
        let source = Arc::new(SourceFile::new("t", DEFAULT_POLICY_OPENBAO));
        let policy = policy_from_table(source.clone(), DEFAULT_COMMON_RULES);
        for rule in &policy.rules {
            assert_eq!(
                source.slice(rule.pattern_span),
                format!("\"{}\"", rule.raw_pattern)
            );
            assert!(source.slice(rule.block_span).starts_with("path "));
            assert!(source.slice(rule.block_span).ends_with('}'));
            for capability in &rule.capability_list {
                assert_eq!(
                    source.slice(capability.span),
                    format!("\"{}\"", capability.value)
                );
            }
        }
        let templated = &policy.rules[4];
        assert_eq!(templated.template_vars[0].value, "identity.entity.id");
        assert_eq!(
            source.slice(templated.template_vars[0].span),
            "{{identity.entity.id}}"
        );
        assert!(templated.pattern.is_none());
        let wildcard = &policy.rules[15];
        assert_eq!(
            wildcard.pattern.as_ref().map(|p| p.kind),
            Some(PatternKind::SegmentWildcard)
        );
    }

    #[test]
    fn wrapping_and_control_group_policies() {
        let wrapping = response_wrapping_policy(Target::OpenBao);
        assert_eq!(wrapping.name, "response-wrapping");
        assert_eq!(
            rule_table(&wrapping),
            expected_table(RESPONSE_WRAPPING_RULES)
        );
        let control = control_group_policy();
        assert_eq!(control.name, "control-group");
        assert_eq!(rule_table(&control), expected_table(CONTROL_GROUP_RULES));
    }

    #[test]
    fn table_fallback_equals_the_parsed_text() {
        for target in [Target::Vault, Target::OpenBao] {
            let text = default_policy_text(target);
            let source = Arc::new(SourceFile::new("d.hcl", text));
            let parsed = parse_policy(source.clone(), target)
                .policy
                .expect("builtin text parses");
            let fallback = policy_from_table(source, &default_policy_rules(target));
            assert_eq!(parsed.rules.len(), fallback.rules.len());
            assert_eq!(parsed.templated, fallback.templated);
            for (ours, theirs) in fallback.rules.iter().zip(&parsed.rules) {
                assert_eq!(ours.raw_pattern, theirs.raw_pattern);
                assert_eq!(ours.pattern, theirs.pattern);
                assert_eq!(ours.capabilities, theirs.capabilities);
                assert_eq!(
                    ours.pattern_span, theirs.pattern_span,
                    "{}",
                    ours.raw_pattern
                );
                assert_eq!(ours.block_span, theirs.block_span, "{}", ours.raw_pattern);
                assert_eq!(ours.capability_list, theirs.capability_list);
                assert_eq!(ours.template_vars, theirs.template_vars);
            }
        }
    }
}
