"""One module per pipeline: PIPELINE_NAME, build_pipeline(ctx), optional SCHEDULES and GUARDRAIL_EXEMPTIONS."""
