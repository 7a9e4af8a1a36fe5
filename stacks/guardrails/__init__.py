"""Guardrails component: KMS key, artifact bucket, permission boundary (the ceiling), the guardrail Denies on every role, the data perimeter."""
