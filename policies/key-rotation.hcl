# key-rotation: the operator who rotates the AI provider keys.
# `vault kv put`, `vault kv metadata get` and `vault kv rollback` on `secret/ai/*`.

# kv put writes new versions (create for a new key, update for an existing one);
# kv rollback reads the old version, then writes it back as the newest.
path "secret/data/ai/*" {
  capabilities = ["create", "read", "update"]
}

# kv metadata get shows versions; kv list walks the keys.
path "secret/metadata/ai/*" {
  capabilities = ["read", "list"]
}
