# model-server: dynamic database credentials for the model server, nothing else.

# `vault read database/creds/model-server` issues a short-lived database user.
path "database/creds/model-server" {
  capabilities = ["read"]
}
