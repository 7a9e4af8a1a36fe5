"""SageMaker's pipeline-name rule, as the handlers check it.

A copy of ``base/naming.py``'s rule (shipped code cannot import the project); a test compares the two
on names at and around every edge of the rule.
"""

from __future__ import annotations

import re

PIPELINE_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")
PIPELINE_NAME_ALLOWED = "a SageMaker pipeline name: letters, digits and hyphens, starting and ending with a letter or digit, at most 256 characters"
