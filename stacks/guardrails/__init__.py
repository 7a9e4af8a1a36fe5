"""Guardrails component: KMS key, artifact bucket, permission boundary, execution role, job Denies."""
