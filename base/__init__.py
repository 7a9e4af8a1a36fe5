"""Lowest layer: environment settings, the error and exit-code convention, the offline-synth recipe.

Imports neither ``aws_cdk`` nor the SageMaker SDK, so every other layer (and every command) can use it.
"""
