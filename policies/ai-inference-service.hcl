# ai-inference-service: what the inference pods hold (Kubernetes role `inference-role`).
# Least privilege: read the OpenAI key and nothing else under `secret/`.

# `vault kv get secret/ai/openai` reads this KV v2 data path.
path "secret/data/ai/openai" {
  capabilities = ["read"]
}

# Everything else on the mount is denied outright, so a broader grant added later by
# another policy on `secret/*` cannot reach the other keys.
path "secret/*" {
  capabilities = ["deny"]
}
