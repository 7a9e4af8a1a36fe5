"""Command-line tools over the synthesized app and the deployed account: review, drift, cost report."""
