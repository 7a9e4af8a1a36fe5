"""What a synthesized environment holds, for the review: target, security summary, and each pipeline's instance-hours.

Read from its templates alone, so the base side of a review needs neither its ``cdk.json`` nor its code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from base.config import DEFAULT_MAX_JOB_RUNTIME_HOURS
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from planning.cost import PipelineCost, ScheduledRuns, pipeline_cost
from tools.assembly import SynthesizedEnvironment
from tools.review.policy import describe_statement
from tools.review.schedules import stack_schedules

RUNTIME_CAP_KEY = "sagemaker:MaxRuntimeInSeconds"
INTERNET_ROUTES = ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway")


def _resources(env: SynthesizedEnvironment) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack in env.stacks.values():
        for logical_id, resource in stack.resources().items():
            yield stack.name, logical_id, resource


def _guardrail_statements(env: SynthesizedEnvironment) -> list[dict[str, Any]]:
    """The Deny statements of the environment's managed policies (the job guardrails on every role)."""
    statements = []
    for _, _, resource in _resources(env):
        if resource.get("Type") == "AWS::IAM::ManagedPolicy":
            document = (resource.get("Properties") or {}).get("PolicyDocument") or {}
            statements += [s for s in document.get("Statement") or [] if isinstance(s, dict) and s.get("Effect") == "Deny"]
    return statements


def runtime_cap_seconds(env: SynthesizedEnvironment) -> int:
    """The longest run time the job guardrails let a job ask for (``maxJobRuntimeHours``), else the default."""
    for statement in _guardrail_statements(env):
        value = ((statement.get("Condition") or {}).get("NumericGreaterThan") or {}).get(RUNTIME_CAP_KEY)
        if isinstance(value, (str, int)) and str(value).isdigit():
            return int(value)
    return DEFAULT_MAX_JOB_RUNTIME_HOURS * 3600


def exempt_pipelines(env: SynthesizedEnvironment) -> list[str]:
    """Pipelines whose own role carries the network-isolation exemption tag."""
    owners = env.own_stacks()
    exempt = []
    for stack, _, resource in _resources(env):
        tags = (resource.get("Properties") or {}).get("Tags") or []
        if resource.get("Type") == "AWS::IAM::Role" and {"Key": NETWORK_ISOLATION_EXEMPTION_TAG, "Value": "true"} in tags:
            exempt.append(owners.get(stack, stack))
    return sorted(set(exempt))


def environment_summary(env: SynthesizedEnvironment) -> list[str]:
    """Account, region and what guards the environment: for an environment added or removed."""
    targets = sorted({stack.environment.removeprefix("aws://") for stack in env.stacks.values()})
    lines = [f"account/region: {', '.join(targets) or 'unknown'}"]
    routes = sorted(r.get("Type") for _, _, r in _resources(env) if r.get("Type") in INTERNET_ROUTES)
    lines.append(f"internet routes: {', '.join(routes) if routes else 'none (isolated subnets)'}")
    lines.append(f"network-isolation exemptions: {', '.join(exempt_pipelines(env)) or 'none'}")
    lines.append(f"job run-time cap: {runtime_cap_seconds(env) // 3600} h")
    for statement in _guardrail_statements(env):
        lines.append(f"guardrail {statement.get('Sid') or 'statement'}: {describe_statement(statement)}")
    return lines


def pipeline_costs(env: SynthesizedEnvironment, *, now: datetime) -> dict[str, PipelineCost]:
    """Each pipeline's instance-hours: per execution, and per month under the schedules of its own stack."""
    owners = env.own_stacks()
    schedules: dict[str, list[ScheduledRuns]] = {}
    for stack_name, pipeline in owners.items():
        schedules[pipeline] = [
            ScheduledRuns(expression=s.expression, parameter_values=s.parameters, enabled=s.enabled)
            for s in stack_schedules(env.stacks[stack_name].resources()).values()
        ]
    cap = runtime_cap_seconds(env)
    return {
        name: pipeline_cost(definition=pipeline.definition, schedules=schedules.get(name, []), cap_seconds=cap, now=now)
        for name, pipeline in env.pipelines().items()
    }

