"""Pipelines component: each compiled pipeline's job files and upsert custom resource, and its provider."""
