"""Plan layer: per environment, everything the stacks render, computed before any construct exists.

Pure Python over ``base`` and ``pipeline_defs``; no ``aws_cdk`` import.
"""
