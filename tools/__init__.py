"""Top layer: the command-line tools (review, drift, cost report, compile, local run), each ``python -m tools.<name>``."""
