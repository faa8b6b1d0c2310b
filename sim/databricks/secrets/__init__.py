"""Secrets API 2.0: scopes and base64 secret values (what `dbutils.secrets.get` reads)."""
