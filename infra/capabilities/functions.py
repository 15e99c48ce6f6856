"""Lambda: one function per entry point in TOPOLOGY, one role per function, the shared ``dawra`` layer.

Runtime: Python 3.11 on arm64 (Graviton: ~20% cheaper per GB-second, and the layer's compiled wheels, e.g.
pydantic-core, are built for cp311/aarch64 to match ``requires-python``). Memory and timeout come from TOPOLOGY,
where each value is chosen (docs/deploy.md, "Sizing"). Powertools is configured only through environment
variables, and those are exactly TOPOLOGY's (the parity test holds the template to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from dawra.topology import Function as FunctionSpec
from dawra.topology import Topology

from .naming import pascal

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

DDB_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"]
DDB_WRITE = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
TASK_RESPONSE = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]

# Why a role has a "*" resource. Each entry is attached, word for word, to that role's cdk-nag suppression.
STAR_REASONS = {
    "xray": "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments/PutTelemetryRecords have no resource-level "
    "permissions, AWS requires Resource *.",
    "lifecycle:callback": "states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat are authorised by the opaque task "
    "token and have no resource type in the Step Functions service authorization reference, so AWS requires "
    "Resource * (scoping them to the state machine ARN is an implicit deny at run time).",
    "sns:sms": "sns:Publish to a phone number (SMS) targets no topic ARN, so AWS requires Resource *; the role has no "
    "other SNS permission.",
    "stream": "The Orders-stream event source mapping needs dynamodb:ListStreams, which has no resource-level "
    "permissions (AWS requires Resource *); DescribeStream/GetRecords/GetShardIterator are scoped to the stream ARN.",
}


@dataclass
class DeployedFunction:
    spec: FunctionSpec
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    star_reasons: list[str]


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        layer_dir: Path,
        resolve_env,
        deletion_protection: bool,
    ) -> None:
        """``resolve_env(spec)`` returns the environment values that can be resolved now; state machine refs are
        added later by :meth:`add_environment` (the state machine needs these functions' ARNs first)."""
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        self.layer = lambda_.LayerVersion(
            self,
            "DawraLayer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="The dawra package and its locked runtime dependencies (linux/arm64, cp311).",
        )
        self.functions: dict[str, DeployedFunction] = {}
        for spec in topology.functions:
            cid = pascal(spec.id)
            log_group = logs.LogGroup(
                self,
                f"{cid}Logs",
                log_group_name=f"/aws/lambda/{spec.name}",
                retention=LOG_RETENTION,
                removal_policy=removal,
            )
            role = iam.Role(
                self,
                f"{cid}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Runs {spec.name} only: {spec.purpose}",
            )
            # Instead of AWSLambdaBasicExecutionRole (any log group): write to this function's own log group only.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                )
            )
            function = lambda_.Function(
                self,
                cid,
                function_name=spec.name,
                description=spec.purpose,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                code=lambda_.Code.from_asset(
                    str(spec.code_path), exclude=["__pycache__", "*.pyc", ".pytest_cache", "tests"]
                ),
                handler=spec.handler,
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_s),
                environment=resolve_env(spec),
                layers=[self.layer],
                role=role,
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
            )
            self.functions[spec.id] = DeployedFunction(spec, function, role, log_group, [STAR_REASONS["xray"]])

    def add_environment(self, function_id: str, name: str, value: str) -> None:
        self.functions[function_id].function.add_environment(name, value)

    def grant_permissions(self, *, data, messaging, lifecycle, parameters) -> None:
        """Map each TOPOLOGY permission string to exact actions on exact resources."""
        tables = data.tables
        for deployed in self.functions.values():
            role = deployed.role
            for permission in deployed.spec.permissions:
                if permission in ("orders:read", "inventory:read"):
                    table = tables[permission.split(":")[0]]
                    spec_table = _table_spec(data, permission.split(":")[0])
                    resources = [table.table_arn] + [
                        f"{table.table_arn}/index/{index.name}" for index in spec_table.indexes
                    ]
                    role.add_to_policy(iam.PolicyStatement(actions=DDB_READ, resources=resources))
                elif permission in ("orders:write", "inventory:write"):
                    table = tables[permission.split(":")[0]]
                    role.add_to_policy(iam.PolicyStatement(actions=DDB_WRITE, resources=[table.table_arn]))
                elif permission == "ops-alerts:publish":
                    role.add_to_policy(
                        iam.PolicyStatement(actions=["sns:Publish"], resources=[messaging.topics["ops-alerts"].topic_arn])
                    )
                elif permission == "lifecycle:start":
                    role.add_to_policy(
                        iam.PolicyStatement(
                            actions=["states:StartExecution"],
                            resources=[lifecycle.state_machines["order-lifecycle"].state_machine_arn],
                        )
                    )
                elif permission == "lifecycle:callback":
                    role.add_to_policy(iam.PolicyStatement(actions=TASK_RESPONSE, resources=["*"]))
                    deployed.star_reasons.append(STAR_REASONS["lifecycle:callback"])
                elif permission == "ses:send":
                    sender = parameters["sender-email"].value_as_string
                    identity = f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity"
                    sender_domain = _email_domain(sender)
                    role.add_to_policy(
                        iam.PolicyStatement(
                            actions=["ses:SendEmail", "ses:SendRawEmail"],
                            resources=[
                                # The address itself, or its domain when the domain is the verified identity.
                                f"{identity}/{sender}",
                                f"{identity}/{sender_domain}",
                                (f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:configuration-set/"
                                f"{messaging.configuration_set.configuration_set_name}"),
                            ],
                        )
                    )
                elif permission == "sns:sms":
                    role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
                    deployed.star_reasons.append(STAR_REASONS["sns:sms"])
                elif permission == "carrier-secret:read":
                    for secret in messaging.secrets.values():
                        role.add_to_policy(
                            iam.PolicyStatement(
                                actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
                            )
                        )
                elif permission == "tracking-queue:consume":
                    # Granted by the SQS event source mapping (ReceiveMessage/DeleteMessage/ChangeMessageVisibility/
                    # GetQueueAttributes on that queue only): see lifecycle.py / dawra_stack.py wiring.
                    pass
                else:  # pragma: no cover - the Literal type in topology.py keeps this exhaustive
                    raise ValueError(f"no grant for permission {permission!r}")


    def connect_event_sources(self, *, topology: Topology, data, messaging) -> None:
        """SQS and DynamoDB-stream event source mappings, every setting from TOPOLOGY."""
        for source in topology.queue_event_sources:
            self.functions[source.function].function.add_event_source(
                event_sources.SqsEventSource(
                    messaging.queues[source.queue],
                    batch_size=source.batch_size,
                    max_batching_window=Duration.seconds(source.max_batching_window_s)
                    if source.max_batching_window_s
                    else None,
                    report_batch_item_failures=source.report_batch_item_failures,
                )
            )
        for source in topology.stream_event_sources:
            deployed = self.functions[source.function]
            deployed.function.add_event_source(
                event_sources.DynamoEventSource(
                    data.tables[source.table],
                    starting_position=getattr(lambda_.StartingPosition, source.starting_position),
                    batch_size=source.batch_size,
                    bisect_batch_on_error=source.bisect_on_error,
                    retry_attempts=source.max_retry_attempts,
                    report_batch_item_failures=source.report_batch_item_failures,
                    on_failure=event_sources.SqsDlq(messaging.queues[source.on_failure_queue]),
                    filters=[lambda_.FilterCriteria.filter(pattern) for pattern in source.filter_patterns] or None,
                )
            )
            deployed.star_reasons.append(STAR_REASONS["stream"])


def _table_spec(data, table_id):
    return data.topology.table(table_id)


def _email_domain(email_token: str) -> str:
    return Fn.select(1, Fn.split("@", email_token))
