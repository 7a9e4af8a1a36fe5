"""Top layer: the command-line tools (review, cost report, compile, local run), each ``python -m tools.<name>``."""
