# Vault Agent sidecar of the inference pods: logs in as `inference-role` and renders the
# OpenAI key into a file the application reads.
auto_auth {
  method "kubernetes" {
    mount_path = "auth/kubernetes"
    config = {
      role = "inference-role"
    }
  }

  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
    }
  }
}

template {
  source      = "openai.ctmpl"
  destination = "/vault/secrets/openai.env"
}
