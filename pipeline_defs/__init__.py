"""Pipeline definitions compiled offline and deterministically from the SageMaker Python SDK v3.

Importing this package does not import the SDK; :mod:`pipeline_defs.compiler` does.
"""
