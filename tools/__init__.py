"""Command-line tools: review, drift check, cost report, compile, local run."""
