# The research team's inference jobs. This policy lives in the `ai-research/` namespace (its
# folder names it), so its paths are relative to that namespace: `secret/` here is the
# research team's own KV mount, not the platform's.
path "secret/data/research/*" {
  capabilities = ["read"]
}

# The team's admin key stays with its leads.
path "secret/data/research/admin" {
  capabilities = ["deny"]
}
