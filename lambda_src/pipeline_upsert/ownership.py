"""Which stack owns a pipeline, and how ownership moves between stacks without deleting anything.

A pipeline carries ``smp:managed-by=<stack>``. A stack creates or adopts only a pipeline it owns or
one explicitly handed over to it, and deletes only a pipeline it still owns: when a pipeline moves
to another stack, the old stack's Delete finds another owner and leaves the pipeline (and its
executions history) alone.

The copies below of the project's naming rules (``base/naming.py``: the managed-by tag and
``pipeline_stack_name``) exist because this code ships alone; a test compares them.
"""

from __future__ import annotations

import hashlib

MANAGED_BY_TAG = "smp:managed-by"
"""Tag naming the CloudFormation stack that owns a pipeline."""
MODULE_TAG = "Pipeline"
"""Tag carrying the module name a pipeline was built from; its stack name derives from it."""
STACK_NAME_MAX_LENGTH = 128


def pipeline_stack_name(*, resource_prefix: str, module_pipeline_name: str) -> str:
    """``<prefix>-pipeline-<module>``, bounded like the project's rule (head plus a digest when too long)."""
    name = f"{resource_prefix}-pipeline-{module_pipeline_name}"
    if len(name) <= STACK_NAME_MAX_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{name[: STACK_NAME_MAX_LENGTH - len(digest) - 1].rstrip('-')}-{digest}"


def stack_name(*, stack_id: str) -> str:
    """The stack name inside a CloudFormation stack ARN (or the text itself when it is no ARN)."""
    parts = stack_id.split(":stack/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else stack_id
