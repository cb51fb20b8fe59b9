# model-eval: the nightly evaluation jobs compare every provider's models, so they read
# every AI provider key...
path "secret/data/ai/*" {
  capabilities = ["read"]
}

# ...except Anthropic's, which its contract limits to production inference.
path "secret/data/ai/anthropic" {
  capabilities = ["deny"]
}
