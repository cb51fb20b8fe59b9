# auditor: sees which keys and policies exist, never a secret value.

# Key names, versions and timestamps, but not the data (`secret/data/` is not granted).
# capable:ignore broad-secret-access -- auditors must see every key name, never a value
path "secret/metadata/*" {
  capabilities = ["read", "list"]
}

# Read every ACL policy.
path "sys/policies/acl/*" {
  capabilities = ["read", "list"]
}

# Listing the audit devices is root-protected: it needs sudo.
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
