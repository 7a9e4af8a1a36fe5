"""Compare two synthesized outputs the way a reviewer reads them: pipelines, steps, parameters, schedules,
policies, instance-hours, security.

Pure functions over :mod:`tools.assembly` objects, so the comparison is testable on
outputs derived from one synth, without git or a second synth.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from pipeline_defs.contract import BUILD_ID_PATTERN, NETWORK_ISOLATION_EXEMPTION_TAG
from base.naming import PIPELINE_RESOURCE_TYPE
from tools.assembly import PipelineDefinition, SynthesizedEnvironment, SynthesizedStack
from tools.review.policy import POLICY_KEYS, policy_lines
from planning.cost import cost_change_text
from tools.review.environment import environment_summary, exempt_pipelines, pipeline_costs
from tools.review.schedules import SCHEDULE_TYPE, read_schedule, schedule_change_lines, schedule_lines, stack_schedules


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
"""Stands for a value one side does not have."""

SECURITY_KEY = re.compile(
    r"InstanceType|Kms|Vpc|Subnet|SecurityGroup|NetworkIsolation|InterContainerTraffic|NetworkConfig"
    r"|Encrypt|Role|(?<!Retry)Policy|PublicAccess|Principal|Boundary"
)
"""Property names whose change alters network config, isolation, encryption, roles or instance types.

A schedule target's ``RetryPolicy`` says how often to retry, not who may do what.
"""

SECURITY_RESOURCE_PREFIXES = (
    "AWS::IAM::",
    "AWS::KMS::",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::Route",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::FlowLog",
    "AWS::EC2::TransitGateway",
    "AWS::S3::BucketPolicy",
    "AWS::Lambda::Permission",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "Custom::VpcRestrictDefaultSG",
)
"""Resource types where any change is security-relevant (IAM and security groups also get CDK's tables)."""

CDK_TABLE_PREFIXES = ("AWS::IAM::", "AWS::EC2::SecurityGroup", "AWS::Lambda::Permission", "AWS::S3::BucketPolicy")
"""Types whose changes ``cdk diff --security-only`` renders as IAM statement and security group tables."""

SCHEDULE_RESOURCE_TYPES = ("AWS::Events::Rule", "AWS::Scheduler::Schedule", "AWS::Scheduler::ScheduleGroup")

DETAIL = "    "
"""Prefix of a line that details the line before it (a policy statement under its resource, a schedule's facts)."""

IGNORED_RESOURCE_KEYS = ("Metadata",)
ASSET_HASH = re.compile(r"[0-9a-f]{64}")
"""How CDK names an asset (a Lambda code or layer zip, a deployment source, a template) by its content."""
PLUMBING = (ASSET_HASH, BUILD_ID_PATTERN)
"""Content names whose change, outside a step, only echoes a change the review shows where it happens."""
DERIVED_TAGS = ("SourceVersion",)
"""Tags that only echo a hash of what the review already compares."""


@dataclass(frozen=True)
class ValueChange:
    path: str
    old: Any
    new: Any

    @property
    def security_relevant(self) -> bool:
        """The path, or a key inside a value that appeared or went, names a security setting."""
        if SECURITY_KEY.search(self.path) or NETWORK_ISOLATION_EXEMPTION_TAG in repr((self.old, self.new)):
            return True
        return any(SECURITY_KEY.search(key) for value in (self.old, self.new) for key in _keys(value))


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield str(key)
            yield from _keys(child)
    elif isinstance(value, list):
        for child in value:
            yield from _keys(child)


@dataclass(frozen=True)
class StepChange:
    step: str
    kind: str  # "added", "removed" or "changed"
    step_type: str
    changes: tuple[ValueChange, ...] = ()


@dataclass(frozen=True)
class PipelineChange:
    pipeline: str
    steps: tuple[StepChange, ...] = ()
    parameters: tuple[str, ...] = ()
    settings: tuple[ValueChange, ...] = ()
    schedules: tuple[str, ...] = ()
    """Lines of the schedules of the pipeline's own stack (details start with :data:`DETAIL`)."""
    resources: tuple[str, ...] = ()
    """Lines of the other resources of the pipeline's own stack: its role and policies (details start with :data:`DETAIL`)."""


@dataclass(frozen=True)
class SecurityFinding:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class EnvironmentReview:
    name: str
    status: str = "changed"  # "added", "removed" or "changed"
    pipelines_added: tuple[str, ...] = ()
    pipelines_removed: tuple[str, ...] = ()
    pipelines_changed: tuple[PipelineChange, ...] = ()
    pipeline_details: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Lines under a pipeline added or removed: its schedules in full (details start with :data:`DETAIL`)."""
    summary: tuple[str, ...] = ()
    """An environment added or removed: its account, region and security summary."""
    schedules: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    cost: tuple[str, ...] = ()
    """Instance-hours per pipeline whose figures differ: ``~ <pipeline>: ml.m5 49 → 73 h/run; ...``."""
    security: tuple[SecurityFinding, ...] = ()
    cdk_table_stacks: tuple[str, ...] = ()
    """Selectors of stacks whose IAM or security group resources changed (for ``cdk diff --security-only``)."""
    cdk_tables: dict[str, str] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        return self.status == "changed" and not (
            self.pipelines_added
            or self.pipelines_removed
            or self.pipelines_changed
            or self.schedules
            or self.resources
            or self.security
            or self.cost
        )


@dataclass(frozen=True)
class Review:
    base: str
    head: str
    environments: tuple[EnvironmentReview, ...]

    @property
    def security_relevant(self) -> bool:
        return any(env.security or env.status in ("added", "removed") for env in self.environments)


def value_changes(old: Any, new: Any, *, path: str = "") -> Iterator[ValueChange]:
    """Leaf-level differences with JSON paths (``a.b[2].c``); a list of different length differs per index."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            child = f"{path}.{key}" if path else str(key)
            yield from value_changes(old.get(key, MISSING), new.get(key, MISSING), path=child)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            yield from value_changes(
                old[index] if index < len(old) else MISSING,
                new[index] if index < len(new) else MISSING,
                path=f"{path}[{index}]",
            )
    elif old != new or type(old) is not type(new):
        yield ValueChange(path=path, old=old, new=new)


def _security_leaves(value: Any, *, path: str = "") -> Iterator[ValueChange]:
    """Security-relevant values of something new (a step or resource), as changes from nothing."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _security_leaves(value[key], path=f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _security_leaves(child, path=f"{path}[{index}]")
    else:
        change = ValueChange(path=path, old=MISSING, new=value)
        if change.security_relevant:
            yield change


def _new_step_findings(*, where: str, name: str, step: dict[str, Any]) -> list[SecurityFinding]:
    """One line per new step with its security-relevant settings, named by their last key."""
    leaves = [f"{_leaf_name(leaf.path)}={show_value(leaf.new, limit=60)}" for leaf in _security_leaves(step)]
    return [SecurityFinding(where=f"{where} new step {name}", what=", ".join(leaves))] if leaves else []


def _leaf_name(path: str) -> str:
    """The last key of a path that says what the value is (``InstanceType`` rather than ``Get``)."""
    parts = path.split(".")
    return parts[-2] if parts[-1] == "Get" and len(parts) > 1 else parts[-1]


def _parameter_changes(old: list[dict], new: list[dict]) -> tuple[list[str], list[SecurityFinding]]:
    """Lines per added, removed or changed parameter; an instance-type (or role, key...) parameter is security-relevant."""
    before = {p["Name"]: p for p in old}
    after = {p["Name"]: p for p in new}
    lines, security = [], []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            own = [f"- parameter {name}"]
        elif name not in before:
            own = [f"+ parameter {name} ({after[name].get('Type')}, default {show_value(after[name].get('DefaultValue', MISSING))})"]
        else:
            own = [
                f"~ parameter {name}: {change.path} {show_change(change.old, change.new)}"
                for change in value_changes(before[name], after[name])
            ]
        lines.extend(own)
        if SECURITY_KEY.search(name):
            security.extend(SecurityFinding(where=f"parameter {name}", what=line[2:]) for line in own)
    return lines, security


def compare_pipeline(*, old: PipelineDefinition, new: PipelineDefinition) -> tuple[PipelineChange | None, list[SecurityFinding]]:
    """Step, parameter and setting changes of one pipeline, and which of them are security-relevant."""
    where = new.name
    security: list[SecurityFinding] = []
    steps: list[StepChange] = []
    for name in _ordered_union(list(old.steps), list(new.steps)):
        before, after = old.steps.get(name), new.steps.get(name)
        if before is None:
            steps.append(StepChange(step=name, kind="added", step_type=after.get("Type", "?")))
            security.extend(_new_step_findings(where=where, name=name, step=after))
        elif after is None:
            steps.append(StepChange(step=name, kind="removed", step_type=before.get("Type", "?")))
        else:
            changes = tuple(value_changes(before, after))
            if changes:
                steps.append(StepChange(step=name, kind="changed", step_type=after.get("Type", "?"), changes=changes))
                security.extend(
                    SecurityFinding(where=f"{where} step {name}", what=f"{c.path} {show_change(c.old, c.new)}")
                    for c in changes
                    if c.security_relevant
                )
    parameters, parameter_security = _parameter_changes(old.head.get("Parameters") or [], new.head.get("Parameters") or [])
    security.extend(SecurityFinding(where=f"{where} {f.where}", what=f.what) for f in parameter_security)
    head_old = {k: v for k, v in old.head.items() if k != "Parameters"}
    head_new = {k: v for k, v in new.head.items() if k != "Parameters"}
    settings = list(value_changes(head_old, head_new, path="Definition"))
    settings += (
        c for c in value_changes(_without_derived_tags(old.properties), _without_derived_tags(new.properties)) if not _plumbing(c)
    )
    settings += value_changes(old.substitutions, new.substitutions, path="Substitutions")
    security.extend(
        SecurityFinding(where=where, what=f"{c.path} {show_change(c.old, c.new)}") for c in settings if c.security_relevant
    )
    if not (steps or parameters or settings):
        return None, security
    return PipelineChange(pipeline=where, steps=tuple(steps), parameters=tuple(parameters), settings=tuple(settings)), security


def _without_derived_tags(properties: dict[str, Any]) -> dict[str, Any]:
    tags = properties.get("Tags")
    if not isinstance(tags, list):
        return properties
    kept = [t for t in tags if not (isinstance(t, dict) and t.get("Key") in DERIVED_TAGS)]
    return {**properties, "Tags": kept}


def _ordered_union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*second, *first]))


def show_value(value: Any, *, limit: int = 120) -> str:
    """A value as JSON on one line, cut at ``limit`` characters so one change stays one line."""
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_change(old: Any, new: Any, *, limit: int = 120) -> str:
    """``old → new``; two long values are shown around their first difference, so they never look the same."""
    texts = ["(absent)" if v is MISSING else json.dumps(v, sort_keys=True, ensure_ascii=False) for v in (old, new)]
    if all(len(t) <= limit for t in texts):
        return f"{texts[0]} → {texts[1]}"
    first = next((i for i, (a, b) in enumerate(zip(*texts)) if a != b), min(len(t) for t in texts))
    start = max(0, first - limit // 4)
    shown = [("…" if start else "") + t[start : start + limit] + ("…" if len(t) > start + limit else "") for t in texts]
    return f"{shown[0]} → {shown[1]}"


def _resource_label(*, stack: str, logical_id: str, resource: dict[str, Any], own: bool) -> str:
    """Type and construct path; inside a pipeline's own stack the path starts below the stack."""
    path = (resource.get("Metadata") or {}).get("aws:cdk:path", "")
    parts = path.split("/")
    if own:
        return f"{resource.get('Type')} {'/'.join(parts[2:]) if len(parts) > 2 else logical_id}"
    return f"{resource.get('Type')} {'/'.join(parts[1:]) if len(parts) > 1 else logical_id} ({stack})"


def _security_resource(resource_type: str) -> bool:
    return resource_type.startswith(SECURITY_RESOURCE_PREFIXES)


@dataclass
class _StackChanges:
    """What changed in one stack; ``where`` prefixes its security findings (the pipeline that owns it, if one does)."""

    where: str
    owner_removed: bool = False
    """The owning pipeline is gone: its resources go with it, which narrows what runs and is not flagged."""
    schedules: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    security: list[SecurityFinding] = field(default_factory=list)
    cdk_table: bool = False

    def finding(self, *, label: str, what: str) -> None:
        self.security.append(SecurityFinding(where=f"{self.where} {label}".strip(), what=what))


def _without_plumbing(value: Any) -> str:
    text = repr(value) if value is MISSING else json.dumps(value, sort_keys=True)
    for pattern in PLUMBING:
        text = pattern.sub("#", text)
    return text


def _plumbing(change: ValueChange) -> bool:
    """A change of asset hashes or build ids only (code and layer S3 keys, the code a role protects): shown where it happens."""
    return _without_plumbing(change.old) == _without_plumbing(change.new)


def _readable(value: Any) -> Any:
    """Tags by key and inline policies by name, so a change reads ``Tags.<key>`` rather than ``Tags[3]``."""
    if isinstance(value, dict):
        return {key: _readable_field(key, child) for key, child in value.items()}
    if isinstance(value, list):
        return [_readable(child) for child in value]
    return value


def _readable_field(key: str, value: Any) -> Any:
    if key in ("Tags", "Policies") and isinstance(value, list) and all(isinstance(v, dict) for v in value):
        name = "Key" if key == "Tags" else "PolicyName"
        if all(name in v for v in value):
            return {str(v[name]): _readable(v.get("Value") if key == "Tags" else v.get("PolicyDocument")) for v in value}
    return _readable(value)


def _policies(value: Any, *, path: str = "") -> dict[str, Any]:
    """Policy documents in a resource's properties by path (``Policies.<name>``, ``KeyPolicy``), removed from ``value`` in place."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key in list(value):
            child_path = f"{path}.{key}" if path else key
            if key in POLICY_KEYS or path.endswith("Policies"):
                found[child_path] = value.pop(key)
            else:
                found.update(_policies(value[key], path=child_path))
    return found


def _resource_details(before: dict | None, after: dict | None) -> tuple[list[str], list[ValueChange]]:
    """Policy statement lines and the other value changes (asset plumbing left out) of one resource."""
    old = _readable({k: v for k, v in (before or {}).items() if k not in IGNORED_RESOURCE_KEYS})
    new = _readable({k: v for k, v in (after or {}).items() if k not in IGNORED_RESOURCE_KEYS})
    old_policies, new_policies = _policies(old), _policies(new)
    lines = [
        f"{path.removeprefix('Properties.')}: {line}"
        for path in sorted(set(old_policies) | set(new_policies))
        if _without_plumbing(old_policies.get(path, MISSING)) != _without_plumbing(new_policies.get(path, MISSING))
        for line in policy_lines(old_policies.get(path), new_policies.get(path))
    ]
    if before is None or after is None:
        return lines, []
    return lines, [c for c in value_changes(old, new) if not _plumbing(c)]


def _exemption_note(changes: list[ValueChange]) -> list[str]:
    """The network-isolation exemption tag of a role appearing or going, said as what it does."""
    return [
        f"{'now exempt' if c.new == 'true' else 'no longer exempt'} from network isolation: {c.path} {show_change(c.old, c.new)}"
        for c in changes
        if c.path.endswith(f"Tags.{NETWORK_ISOLATION_EXEMPTION_TAG}")
    ]


def _compare_schedule(*, changes: _StackChanges, logical_id: str, before: dict | None, after: dict | None, now: datetime) -> bool:
    """A schedule added or removed in full, or changed with its parameters by name; False for other resources."""
    old = read_schedule(logical_id=logical_id, resource=before) if before else None
    new = read_schedule(logical_id=logical_id, resource=after) if after else None
    if (before is not None and old is None) or (after is not None and new is None):
        return False
    present = new or old
    name = present.name.removeprefix(f"{changes.where}-") if changes.where else present.name
    if old is None or new is None:
        changes.schedules.append(f"{'+' if old is None else '-'} schedule {name}")
        changes.schedules.extend(f"{DETAIL}{line}" for line in schedule_lines(present, now=now))
        return True
    lines = schedule_change_lines(old, new, now=now)
    _, values = _resource_details(before, after)
    described = ("Properties.ScheduleExpression", "Properties.ScheduleExpressionTimezone", "Properties.State", "Properties.Description")
    lines += [
        f"{c.path}: {show_change(c.old, c.new)}"
        for c in values
        if not c.path.startswith(described + ("Properties.Target.SageMakerPipelineParameters", "Properties.Target.Input"))
    ]
    if lines:
        changes.schedules.append(f"~ schedule {name}")
        changes.schedules.extend(f"{DETAIL}{line}" for line in lines)
    return True


def _compare_resource(*, changes: _StackChanges, label: str, logical_id: str, before: dict | None, after: dict | None, now: datetime) -> None:
    """One resource added, removed or changed: its lines, and its findings when security-relevant."""
    resource_type = (after or before or {}).get("Type", "?")
    if resource_type == SCHEDULE_TYPE and _compare_schedule(changes=changes, logical_id=logical_id, before=before, after=after, now=now):
        return
    policy, values = _resource_details(before, after)
    details = policy + [f"{c.path}: {show_change(c.old, c.new)}" for c in values]
    if before is not None and after is not None and not details:
        return
    mark = "+" if before is None else "-" if after is None else "~"
    target = changes.schedules if resource_type in SCHEDULE_RESOURCE_TYPES else changes.resources
    target.append(f"{mark} {label}")
    if after is not None:
        target.extend(f"{DETAIL}{line}" for line in details)
    changes.cdk_table = changes.cdk_table or resource_type.startswith(CDK_TABLE_PREFIXES)
    if after is None and changes.owner_removed:
        return
    notes = _exemption_note(values)
    if before is None:
        leaves = list(_security_leaves(after.get("Properties", {}), path="Properties"))
        if _security_resource(resource_type):
            changes.finding(label=label, what="added")
            for line in policy:
                changes.finding(label=label, what=line)
        elif leaves:
            changes.finding(label=label, what="added: " + ", ".join(f"{_leaf_name(c.path)}={show_value(c.new, limit=60)}" for c in leaves))
    elif after is None:
        if _security_resource(resource_type):
            changes.finding(label=label, what="removed")
    else:
        for note in notes:
            changes.finding(label=label, what=note)
        for line in policy:
            changes.finding(label=label, what=line)
        security_type = _security_resource(resource_type)
        for c in values:
            if (security_type or c.security_relevant) and not c.path.endswith(f"Tags.{NETWORK_ISOLATION_EXEMPTION_TAG}"):
                changes.finding(label=label, what=f"{c.path} {show_change(c.old, c.new)}")


def _compare_stack(
    *, before: SynthesizedStack | None, after: SynthesizedStack | None, owner: str | None, owner_removed: bool, now: datetime
) -> _StackChanges:
    """Resources and sections of one stack.

    A shared stack added or removed is one line and one finding. A pipeline's own stack added lists
    its resources, so its new role and policies are that pipeline's findings; removed, it is one line.
    Outputs are left out: they only pass values between this app's own stacks.
    """
    present = after or before
    changes = _StackChanges(where=owner or "", owner_removed=owner_removed)
    own = owner is not None
    if before is None or after is None:
        changes.resources.append(f"{'+' if before is None else '-'} stack {present.name}")
        if not own:
            changes.finding(label=present.name, what=f"stack {'added' if before is None else 'removed'}")
        if not own or after is None:
            return changes
    old_resources = before.resources() if before else {}
    new_resources = after.resources() if after else {}
    for logical_id in sorted(set(old_resources) | set(new_resources)):
        a, b = old_resources.get(logical_id), new_resources.get(logical_id)
        if (b or a).get("Type") == PIPELINE_RESOURCE_TYPE:
            continue
        label = _resource_label(stack=present.name, logical_id=logical_id, resource=b or a, own=own)
        _compare_resource(changes=changes, label=label, logical_id=logical_id, before=a, after=b, now=now)
    # A new pipeline stack's CDK bootstrap check is the same in every one of them.
    for section in ("Rules", "Conditions", "Parameters") if before is not None or not own else ():
        old_section = before.template.get(section, {}) if before else {}
        new_section = after.template.get(section, {}) if after else {}
        for change in value_changes(old_section, new_section, path=section):
            shown = change.path if own else f"{present.name} {change.path}"
            changes.resources.append(f"~ {shown}: {show_change(change.old, change.new, limit=60)}")
    return changes


def _own_stacks(*, old: SynthesizedEnvironment, new: SynthesizedEnvironment) -> dict[str, str]:
    """Stack → the pipeline whose own stack it is on either side; never a stack pipelines move from."""
    moved_from = {stack for env in (old, new) for pipeline in env.pipelines().values() for stack in pipeline.adopt_from}
    return {stack: name for stack, name in {**old.own_stacks(), **new.own_stacks()}.items() if stack not in moved_from}


def _cost_lines(*, old: SynthesizedEnvironment | None, new: SynthesizedEnvironment | None, now: datetime) -> list[str]:
    """One line per pipeline whose instance-hours differ, added or removed ones included."""
    before = pipeline_costs(old, now=now) if old else {}
    after = pipeline_costs(new, now=now) if new else {}
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            lines.append(f"+ {name}: {after[name].text()}")
        elif name not in after:
            lines.append(f"- {name}: {before[name].text()}")
        else:
            change = cost_change_text(before[name], after[name])
            if change:
                lines.append(f"~ {name}: {change}")
    return lines


def _whole_pipeline_lines(env: SynthesizedEnvironment, *, names: set[str], now: datetime) -> dict[str, tuple[str, ...]]:
    """The schedules of pipelines added or removed, in full, from their own stacks."""
    details: dict[str, tuple[str, ...]] = {}
    for stack_name, owner in env.own_stacks().items():
        if owner not in names:
            continue
        lines: list[str] = []
        for schedule in stack_schedules(env.stacks[stack_name].resources()).values():
            lines.append(f"schedule {schedule.name.removeprefix(f'{owner}-')}")
            lines.extend(f"{DETAIL}{line}" for line in schedule_lines(schedule, now=now))
        if lines:
            details[owner] = tuple(lines)
    return details


def _exemption_findings(*, old: SynthesizedEnvironment, new: SynthesizedEnvironment, security: list[SecurityFinding]) -> list[SecurityFinding]:
    """Which pipelines are exempt from network isolation, when a pipeline became exempt or the network-isolation Deny of the job guardrails changed."""
    before, after = exempt_pipelines(old), exempt_pipelines(new)
    guardrail_changed = any("NetworkIsolation" in f.what and "AWS::IAM::ManagedPolicy" in f.where for f in security)
    if not guardrail_changed and set(after) <= set(before):
        return []  # exemptions only ended: that narrows what runs
    change = " ".join([*(f"+ {p}" for p in after if p not in before), *(f"- {p}" for p in before if p not in after)])
    what = f"network-isolation exemptions {change or 'unchanged'}; exempt now: {', '.join(after) or 'none'}"
    return [SecurityFinding(where=new.name, what=what)]


def compare_environment(*, old: SynthesizedEnvironment | None, new: SynthesizedEnvironment | None, now: datetime) -> EnvironmentReview:
    """Everything that differs between two syntheses of one environment, each pipeline's own stack under that pipeline."""
    if old is None or new is None:
        present = new or old
        return EnvironmentReview(
            name=present.name,
            status="added" if old is None else "removed",
            pipelines_added=tuple(sorted(new.pipelines())) if new else (),
            pipelines_removed=tuple(sorted(old.pipelines())) if old else (),
            pipeline_details=_whole_pipeline_lines(present, names=set(present.pipelines()), now=now),
            summary=tuple(environment_summary(present)),
            cost=tuple(_cost_lines(old=old, new=new, now=now)),
            security=(SecurityFinding(where=present.name, what=f"environment {'added' if old is None else 'removed'}"),),
        )
    old_pipelines, new_pipelines = old.pipelines(), new.pipelines()
    owners = _own_stacks(old=old, new=new)
    security: list[SecurityFinding] = []
    changed: dict[str, PipelineChange] = {}
    for name in sorted(set(old_pipelines) & set(new_pipelines)):
        change, findings = compare_pipeline(old=old_pipelines[name], new=new_pipelines[name])
        security.extend(findings)
        if change is not None:
            changed[name] = change
    for name in sorted(set(new_pipelines) - set(old_pipelines)):
        for step_name, step in new_pipelines[name].steps.items():
            security.extend(_new_step_findings(where=name, name=step_name, step=step))

    schedules: list[str] = []
    resources: list[str] = []
    table_stacks: list[str] = []
    for stack_name in sorted(set(old.stacks) | set(new.stacks)):
        before, after = old.stacks.get(stack_name), new.stacks.get(stack_name)
        owner = owners.get(stack_name)
        removed = owner is not None and owner not in new_pipelines
        stack = _compare_stack(before=before, after=after, owner=owner, owner_removed=removed, now=now)
        security.extend(stack.security)
        if stack.cdk_table and after is not None:
            table_stacks.append(after.selector)
        # An added or removed pipeline's own stack is its "+"/"-" pipeline line; its findings still name it.
        if owner is None:
            schedules += stack.schedules
            resources += stack.resources
        elif (stack.schedules or stack.resources) and owner in old_pipelines and owner in new_pipelines:
            change = changed.get(owner, PipelineChange(pipeline=owner))
            changed[owner] = dataclasses.replace(
                change, schedules=change.schedules + tuple(stack.schedules), resources=change.resources + tuple(stack.resources)
            )
    security.extend(_exemption_findings(old=old, new=new, security=security))
    added, removed_names = set(new_pipelines) - set(old_pipelines), set(old_pipelines) - set(new_pipelines)
    return EnvironmentReview(
        name=new.name,
        pipelines_added=tuple(sorted(added)),
        pipelines_removed=tuple(sorted(removed_names)),
        pipelines_changed=tuple(changed[name] for name in sorted(changed)),
        pipeline_details={**_whole_pipeline_lines(new, names=added, now=now), **_whole_pipeline_lines(old, names=removed_names, now=now)},
        schedules=tuple(schedules),
        resources=tuple(resources),
        cost=tuple(_cost_lines(old=old, new=new, now=now)),
        security=tuple(security),
        cdk_table_stacks=tuple(table_stacks),
    )


def compare_outputs(
    *, old: dict[str, SynthesizedEnvironment], new: dict[str, SynthesizedEnvironment], base: str, head: str, now: datetime
) -> Review:
    """The review of every environment either side synthesized, in name order; ``now`` dates the schedules' next runs."""
    return Review(
        base=base,
        head=head,
        environments=tuple(
            compare_environment(old=old.get(name), new=new.get(name), now=now) for name in sorted(set(old) | set(new))
        ),
    )
