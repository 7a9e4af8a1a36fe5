"""CDK code only: one Stage per environment rendering its plan, grouped by component (one folder each)."""
