"""What GitHub Actions needs in an account, deployed once per account: the OIDC provider and its roles.

Each environment's deploy role trusts only a job of this repository that runs on the main branch
in the GitHub environment of the same name, and may do nothing but assume the CDK bootstrap roles,
which hold the real deploy permissions. The review role lets a pull request read the deployed
templates of the app's stacks for ``cdk diff`` and nothing else. No long-lived keys anywhere.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, Fn, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from base.config import EnvironmentConfig
from base.delivery import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    REVIEW_ROLE_NAME,
    bootstrap_role_pattern,
    deploy_role_name,
    deploy_subject,
    pull_request_subject,
)
from stacks.nag import acknowledge_wildcards

_BOOTSTRAP_ROLES_REASON = (
    "The CDK bootstrap roles of one account and region differ only by kind (deploy, file and image "
    "publishing, lookup); the CLI assumes each, and the account and region in the name pin them to this environment."
)
_STACK_TEMPLATES_REASON = (
    "CloudFormation stack ARNs end in an id assigned at creation; the name prefix limits the read to this "
    "app's stacks of the environment."
)


class GitHubOidcProvider(Construct):
    """The account's GitHub OIDC provider, or the one that exists already (stack parameter ``CreateOidcProvider``)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        create = CfnParameter(
            self,
            "Create",
            type="String",
            allowed_values=["true", "false"],
            default="true",
            description=f"false when the account already has the {GITHUB_OIDC_HOST} OIDC provider (one per account)",
        )
        # The logical id of the parameter is what `cdk deploy --parameters` names.
        create.override_logical_id("CreateOidcProvider")
        creates = CfnCondition(self, "Creates", expression=Fn.condition_equals(create.value_as_string, "true"))
        provider = iam.OidcProviderNative(
            self, "Provider", url=f"https://{GITHUB_OIDC_HOST}", client_ids=[GITHUB_OIDC_AUDIENCE]
        )
        provider.node.default_child.cfn_options.condition = creates
        existing = Stack.of(self).format_arn(
            service="iam", region="", resource="oidc-provider", resource_name=GITHUB_OIDC_HOST
        )
        self.arn = Token.as_string(Fn.condition_if(creates.logical_id, provider.oidc_provider_arn, existing))
        """The provider's ARN, created here or not: a trust policy names it either way."""

    def principal(self, *, subject_condition: str, subject: str) -> iam.WebIdentityPrincipal:
        """Tokens of this provider for AWS STS whose subject matches ``subject`` (``StringEquals`` or ``StringLike``)."""
        conditions: dict[str, dict[str, str]] = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE}}
        conditions.setdefault(subject_condition, {})[f"{GITHUB_OIDC_HOST}:sub"] = subject
        return iam.WebIdentityPrincipal(self.arn, conditions=conditions)


class GitHubBootstrapStack(Stack):
    """The GitHub OIDC provider, one deploy role per environment of one account and, for explicit accounts, the review role.

    Env-agnostic environments get their own stack, deployed into the account they use, naming
    that account and region through pseudo parameters.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        main_branch: str,
        environments: Sequence[EnvironmentConfig],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.provider = GitHubOidcProvider(self, "GitHubOidc")
        self.deploy_roles = {
            config.name: self._deploy_role(config=config, repository=repository, main_branch=main_branch)
            for config in environments
        }
        explicit = [config for config in environments if not config.is_env_agnostic]
        self.review_role = self._review_role(environments=explicit, repository=repository) if explicit else None

    def _deploy_role(self, *, config: EnvironmentConfig, repository: str, main_branch: str) -> iam.Role:
        account = config.account or Aws.ACCOUNT_ID
        region = config.region or Aws.REGION
        document = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="AssumeCdkBootstrapRoles",
                    actions=["sts:AssumeRole"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="iam",
                            region="",
                            account=account,
                            resource="role",
                            resource_name=bootstrap_role_pattern(account=account, region=region),
                        )
                    ],
                )
            ]
        )
        role = iam.Role(
            self,
            f"{config.name}DeployRole",
            role_name=deploy_role_name(environment=config.name),
            description=f"GitHub Actions deploy of {config.resource_prefix}: {repository} on {main_branch}, environment {config.name}",
            assumed_by=self.provider.principal(
                subject_condition="StringEquals",
                subject=deploy_subject(repository=repository, environment=config.name, branch=main_branch),
            ),
            max_session_duration=Duration.hours(1),
            inline_policies={"AssumeCdkBootstrapRoles": document},
        )
        acknowledge_wildcards(scope=role, document=document, reasons={"AssumeCdkBootstrapRoles": _BOOTSTRAP_ROLES_REASON})
        return role

    def _review_role(self, *, environments: Sequence[EnvironmentConfig], repository: str) -> iam.Role:
        document = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="ReadDeployedTemplates",
                    actions=["cloudformation:DescribeStacks", "cloudformation:GetTemplate"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="cloudformation",
                            region=config.region,
                            account=config.account,
                            resource="stack",
                            resource_name=f"{config.resource_prefix}-*/*",
                        )
                        for config in environments
                    ],
                )
            ]
        )
        role = iam.Role(
            self,
            "ReviewRole",
            role_name=REVIEW_ROLE_NAME,
            description=f"GitHub Actions pull-request review of {repository}: reads deployed templates for cdk diff",
            assumed_by=self.provider.principal(
                subject_condition="StringLike", subject=pull_request_subject(repository=repository)
            ),
            max_session_duration=Duration.hours(1),
            inline_policies={"ReadDeployedTemplates": document},
        )
        acknowledge_wildcards(scope=role, document=document, reasons={"ReadDeployedTemplates": _STACK_TEMPLATES_REASON})
        return role
