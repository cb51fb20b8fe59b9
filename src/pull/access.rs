//! Every path `pull` reads, with the capability it needs: the one table both the reader's 403
//! messages and `pull --print-policy` come from, so the printed policy is exactly what pull
//! uses (a test proves a token holding only it pulls everything).

/// One kind of request pull makes: a capability on a path pattern (policy syntax; `+` stands
/// for an auth mount, a role, a user or an id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub capability: &'static str,
    pub path: &'static str,
    /// Why pull reads it.
    pub why: &'static str,
}

/// The auth method types whose roles pull reads, and the collections each keeps them in
/// (`<mount>/<collection>/<name>`).
pub const ROLE_COLLECTIONS: &[(&str, &str)] = &[
    ("approle", "role"),
    ("kubernetes", "role"),
    ("jwt", "role"),
    ("oidc", "role"),
    ("userpass", "users"),
    ("ldap", "users"),
    ("ldap", "groups"),
    ("cert", "certs"),
];

/// What pull reads in each namespace it pulls.
pub const ACCESSES: &[Access] = &[
    Access {
        capability: "list",
        path: "sys/policies/acl/",
        why: "the ACL policy names",
    },
    Access {
        capability: "read",
        path: "sys/policies/acl/*",
        why: "each policy's text",
    },
    Access {
        capability: "read",
        path: "sys/auth",
        why: "the auth mounts and their types",
    },
    Access {
        capability: "read",
        path: "sys/mounts",
        why: "the secrets mounts, their types and KV versions",
    },
    Access {
        capability: "list",
        path: "auth/+/role/",
        why: "approle, kubernetes, jwt and oidc role names",
    },
    Access {
        capability: "read",
        path: "auth/+/role/+",
        why: "each role's policies and bindings",
    },
    Access {
        capability: "read",
        path: "auth/+/role/+/role-id",
        why: "an AppRole's role_id, which names its logins' entity alias",
    },
    Access {
        capability: "list",
        path: "auth/+/users/",
        why: "userpass and ldap user names",
    },
    Access {
        capability: "read",
        path: "auth/+/users/+",
        why: "each user's policies (no password is returned)",
    },
    Access {
        capability: "list",
        path: "auth/+/groups/",
        why: "ldap group names",
    },
    Access {
        capability: "read",
        path: "auth/+/groups/+",
        why: "each ldap group's policies",
    },
    Access {
        capability: "list",
        path: "auth/+/certs/",
        why: "cert role names",
    },
    Access {
        capability: "read",
        path: "auth/+/certs/+",
        why: "each cert role's policies",
    },
    Access {
        capability: "list",
        path: "auth/token/roles/",
        why: "the token role names",
    },
    Access {
        capability: "read",
        path: "auth/token/roles/+",
        why: "each token role's allowed policies",
    },
    Access {
        capability: "list",
        path: "identity/entity/id/",
        why: "the entity ids",
    },
    Access {
        capability: "read",
        path: "identity/entity/id/+",
        why: "each entity's policies, metadata, aliases and groups",
    },
    Access {
        capability: "list",
        path: "identity/group/id/",
        why: "the group ids",
    },
    Access {
        capability: "read",
        path: "identity/group/id/+",
        why: "each group's policies, members and metadata",
    },
];

/// Read on the child namespace list, needed when child namespaces are pulled too.
pub const NAMESPACES: Access = Access {
    capability: "list",
    path: "sys/namespaces/",
    why: "the child namespaces",
};

/// How many levels of child namespaces the printed policy covers (each level is one more
/// `+/` in front of every path).
pub const PRINTED_CHILD_LEVELS: usize = 3;

/// The minimal read-only policy `pull` needs, to write in the namespace pulled. With
/// `children`, every path is repeated for [`PRINTED_CHILD_LEVELS`] levels of child
/// namespaces. Cost: O(accesses × levels).
pub fn minimal_policy(children: bool) -> String {
    let mut out = String::from(
        "# The read-only policy `capable pull` needs: it lists and reads policies, auth mounts\n\
         # and their roles, token roles, identity entities and groups, and the mount table.\n\
         # `+` matches one path segment, so auth mounts at nested paths (`auth/a/b/`) need\n\
         # their own lines. Write it in the namespace you pull.\n",
    );
    let levels = if children { PRINTED_CHILD_LEVELS } else { 0 };
    for level in 0..=levels {
        let prefix = "+/".repeat(level);
        match level {
            0 => {}
            1 => out.push_str("\n# The same in every child namespace:\n"),
            _ => out.push_str(&format!("\n# ... and {level} levels down:\n")),
        }
        let mut accesses: Vec<Access> = ACCESSES.to_vec();
        if children {
            accesses.insert(0, NAMESPACES);
        }
        for access in accesses {
            out.push_str(&format!(
                "path \"{prefix}{}\" {{\n  capabilities = [\"{}\"]  # {}\n}}\n",
                access.path, access.capability, access.why
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_read_only_and_parses() {
        for children in [false, true] {
            let text = minimal_policy(children);
            let source = std::sync::Arc::new(crate::source::SourceFile::new("pull.hcl", text));
            let parsed = crate::policy::parse_policy(source, crate::target::Target::OpenBao);
            let policy = parsed.policy.expect("the printed policy parses");
            assert!(parsed.diagnostics.iter().all(|d| !d.is_invalid()));
            for rule in &policy.rules {
                for capability in &rule.capability_list {
                    let name = format!("{:?}", capability.value).to_lowercase();
                    assert!(name == "read" || name == "list", "{name}");
                }
            }
            let paths = policy.rules.len();
            let per_level = ACCESSES.len() + usize::from(children);
            let levels = if children {
                PRINTED_CHILD_LEVELS + 1
            } else {
                1
            };
            assert_eq!(paths, per_level * levels);
        }
    }
}
