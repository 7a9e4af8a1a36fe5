"""CDK code: environment config, the per-environment stage, its stacks and their constructs."""
