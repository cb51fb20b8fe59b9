//! Diagnostics that are not lint rules: the target's refusals (`invalid-*`), inventory and
//! Terraform findings, configuration errors. Each has a summary and help text, used by the
//! SARIF rule descriptors and by the README's "Other diagnostics" table (with an anchor per id,
//! which the SARIF `helpUri` links to). Lint rules document themselves in `lint/rules/`.

/// One non-lint diagnostic id.
#[derive(Clone, Copy, Debug)]
pub struct OtherCode {
    pub id: &'static str,
    pub summary: &'static str,
    pub help: &'static str,
}

const fn code(id: &'static str, summary: &'static str, help: &'static str) -> OtherCode {
    OtherCode { id, summary, help }
}

/// Every non-lint id capable reports, sorted by id.
pub const OTHER_CODES: &[OtherCode] = &[
    code(
        "config",
        "`capable.yaml` cannot be read or has an unknown key or a bad value",
        "fix the key or value at the position shown; unknown keys are errors so typos never pass silently",
    ),
    code(
        "conflicting-accessor",
        "one auth mount is given two different accessors in the inventory",
        "an auth mount has one accessor: write the same value on every role and alias of the mount",
    ),
    code(
        "cross-namespace-member",
        "on `openbao`, a group member, an entity's group or a role's entity lives in another namespace",
        "declare the member in the group's namespace (OpenBao refuses others)",
    ),
    code(
        "duplicate-inventory",
        "a role, group, entity or mount declared twice (in `capable.yaml` and Terraform, or in two `.tf` files)",
        "keep one declaration; check each Vault's files as their own workspace",
    ),
    code(
        "invalid-capability",
        "a capability the target does not know (a typo, or another product's capability)",
        "use one of the capabilities the message lists for the target",
    ),
    code(
        "invalid-control-group",
        "a `control_group` block the target refuses",
        "give `factor` blocks with `identity` groups and a valid `approvals` count",
    ),
    code(
        "invalid-empty-policy",
        "the target refuses a policy with no rules",
        "add a `path` block, or delete the file",
    ),
    code(
        "invalid-expiration",
        "an `expiration` the target cannot read (OpenBao)",
        "write an RFC 3339 timestamp such as `2030-01-01T00:00:00Z`",
    ),
    code(
        "invalid-filter-path",
        "a `list_scan_response_keys_filter_path` the target refuses (OpenBao)",
        "write a path template such as `{{ .path }}` that OpenBao accepts",
    ),
    code(
        "invalid-group-type",
        "an identity group in `capable.yaml` with a type Vault does not have",
        "use `internal` or `external`",
    ),
    code(
        "invalid-key",
        "a key the target does not accept at this level of the policy",
        "check the spelling: the message suggests the closest valid key",
    ),
    code(
        "invalid-policy-value",
        "an old-style `policy = \"...\"` value the target does not know",
        "use `deny`, `read`, `write` or `sudo`, or a `capabilities` list",
    ),
    code(
        "invalid-role-name",
        "a role in `capable.yaml` not written as `<auth mount>/<role>`",
        "name roles by their auth mount path and role name, e.g. `kubernetes/inference-role`",
    ),
    code(
        "invalid-scenario",
        "a scenario capable cannot run: an unknown key, subject, capability or command",
        "fix the scenario at the position shown; the other scenarios still run",
    ),
    code(
        "invalid-syntax",
        "the policy is not valid HCL1 or JSON: the target's parser refuses it",
        "fix the syntax at the position shown (the message is the target's own)",
    ),
    code(
        "invalid-template",
        "a templated path the target refuses (an unbalanced `{{` or `}}`)",
        "balance the braces, or escape a literal brace",
    ),
    code(
        "invalid-ttl",
        "a wrapping TTL the target cannot read, or a minimum above the maximum",
        "write a duration such as `30s`, `5m` or `1h`, with `min_wrapping_ttl` at most `max_wrapping_ttl`",
    ),
    code(
        "invalid-type",
        "a value of the wrong type (a string where the target wants a list, say)",
        "write the value in the type the message names",
    ),
    code(
        "invalid-wildcard",
        "a path pattern the target refuses (`+` and `*` used in a way it does not accept)",
        "use `+` for one whole segment and `*` only as the last character",
    ),
    code(
        "terraform-computed-inventory",
        "a role, group, entity or mount value in Terraform that Terraform computes, so it is left out",
        "write the value literally or as a reference to a resource of the same module, or declare it in `capable.yaml`",
    ),
    code(
        "terraform-policy-file",
        "a `vault_policy` reads its text with `file(...)` from a file capable cannot read",
        "check the path; it is resolved from the `.tf` file's folder and must stay inside the project",
    ),
    code(
        "terraform-unparsed",
        "a `.tf` file capable cannot parse, so its policies are not checked",
        "run `terraform validate`; capable reads HCL2 as Terraform does",
    ),
    code(
        "unknown-entity",
        "the inventory names an entity that is not declared (under `entities:` or as a `vault_identity_entity`)",
        "declare the entity, or fix the name",
    ),
    code(
        "unknown-group",
        "the inventory names a group that is not declared (under `groups:` or as a `vault_identity_group`)",
        "declare the group, or fix the name",
    ),
    code(
        "unknown-namespace",
        "the inventory names a namespace that `namespaces:` does not declare",
        "declare the namespace, or fix the name",
    ),
    code(
        "unknown-policy",
        "the inventory gives a policy that no policy file defines",
        "add the policy file (its name is the file stem), or fix the name",
    ),
    code(
        "unknown-subject",
        "a guard's `except` names no role, group, entity or policy of the workspace",
        "name a role (`kubernetes/inference-role`), group, entity or policy, or fix the spelling",
    ),
];

/// The entry for `id`, if it is a non-lint id. Cost: O(log n).
pub fn other_code(id: &str) -> Option<&'static OtherCode> {
    OTHER_CODES
        .binary_search_by(|code| code.id.cmp(id))
        .ok()
        .map(|index| &OTHER_CODES[index])
}

/// The README's table of non-lint ids (between `<!-- codes:start -->` and
/// `<!-- codes:end -->`), without ids the lint registry documents.
pub fn other_codes_markdown_table() -> String {
    let mut table = String::from("| Id | What it reports | What to do |\n|---|---|---|\n");
    for code in OTHER_CODES {
        if crate::lint::rule_meta(code.id).is_some() {
            continue;
        }
        table.push_str(&format!(
            "| <a id=\"{id}\"></a>`{id}` | {summary} | {help} |\n",
            id = code.id,
            summary = code.summary.replace('|', "\\|"),
            help = code.help.replace('|', "\\|"),
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique_so_lookup_works() {
        assert!(OTHER_CODES.windows(2).all(|pair| pair[0].id < pair[1].id));
        assert_eq!(
            other_code("invalid-key").map(|code| code.id),
            Some("invalid-key")
        );
        assert!(other_code("policy-admin").is_none());
    }
}
