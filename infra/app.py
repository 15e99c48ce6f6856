"""CDK entry point: ``npx cdk synth`` (cdk.json runs ``python -m infra.app``).

cdk-nag's AwsSolutions checks run on every synthesis, so `make synth` shows any unsuppressed finding, and the tests
assert there are none.
"""

from __future__ import annotations

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from .config import DeployConfig
from .dawra_stack import DawraStack

STACK_NAME = "Dawra"
# Stack tags, which CloudFormation also puts on every resource it can (with @aws-cdk/core:explicitStackTags they must
# be given to the stack itself; Tags.of(stack) tags the template's resources).
STACK_TAGS = {"project": "dawra"}


def build_app(**app_kwargs) -> tuple[App, DawraStack, AwsSolutionsChecks]:
    app = App(**app_kwargs)
    config = DeployConfig.from_context(app.node)
    stack = DawraStack(
        app,
        STACK_NAME,
        config=config,
        description="Dawra: serverless order lifecycle (orders API, Step Functions lifecycle, tracking, notifications)",
        tags=STACK_TAGS,
    )
    for key, value in STACK_TAGS.items():
        Tags.of(stack).add(key, value)
    nag = AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    Validations.of(app).add_plugins(nag)
    return app, stack, nag


def main() -> None:
    app, _, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
