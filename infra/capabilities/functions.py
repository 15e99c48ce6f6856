"""Lambda: one function per entry point in TOPOLOGY, one role per function, the shared ``dawra`` layer.

Runtime: Python 3.11 on arm64 (Graviton: ~20% cheaper per GB-second, and the layer's compiled wheels, e.g.
pydantic-core, are built for cp311/aarch64 to match ``requires-python``). Memory and timeout come from TOPOLOGY,
where each value is chosen (docs/deploy.md, "Sizing"). Powertools is configured only through environment
variables, and those are exactly TOPOLOGY's (the parity test holds the template to that).

A role's statements: TOPOLOGY's grants (:meth:`Functions.apply_grants`, the same data the embedded cloud renders
into its local roles), plus three kinds this module adds because they follow from how the function is deployed, not
from what it does: writing to its own log group, X-Ray (Tracing.ACTIVE), and what each event source mapping grants
for itself (SQS: receive/delete/change visibility/attributes on its queue; the Orders stream: DescribeStream/
GetRecords/GetShardIterator on the stream, ListStreams on "*", and sending to the on-failure queue; a topic
subscription: sending to the dead-letter queue of its failed asynchronous invocations).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from dawra.topology import AnyResource, Topology
from dawra.topology import Function as FunctionSpec

from ..resolver import Resolver
from .naming import pascal

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Why a role has a "*" resource, for the statements this module adds itself; the reasons for grants on "*" are in the
# topology (AnyResource.reason). All of them are attached, word for word, to that role's cdk-nag suppression.
STAR_REASONS = {
    "xray": "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments/PutTelemetryRecords have no resource-level "
    "permissions, AWS requires Resource *.",
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
    dead_letter_queue: str | None = None  # id of the Queue its failed asynchronous invocations go to


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

    def apply_grants(self, resolver: Resolver) -> None:
        """Each TOPOLOGY grant becomes one statement on its function's role, rendered by the stack's resolver."""
        for deployed in self.functions.values():
            for grant in deployed.spec.grants:
                deployed.role.add_to_policy(resolver.statement(grant))
                deployed.star_reasons += [r.reason for r in grant.resources if isinstance(r, AnyResource)]

    def connect_event_sources(self, *, topology: Topology, data, messaging) -> None:
        """SQS and DynamoDB-stream event source mappings, and SNS subscriptions, every setting from TOPOLOGY."""
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
                    retry_attempts=source.max_retry_attempts,  # None: until the record expires (-1)
                    parallelization_factor=source.parallelization_factor,
                    report_batch_item_failures=source.report_batch_item_failures,
                    on_failure=event_sources.SqsDlq(messaging.queues[source.on_failure_queue]),
                    filters=[lambda_.FilterCriteria.filter(pattern) for pattern in source.filter_patterns] or None,
                )
            )
            deployed.star_reasons.append(STAR_REASONS["stream"])
        for topic_source in topology.topic_event_sources:
            deployed = self.functions[topic_source.function]
            dead_letters = messaging.queues[topic_source.dead_letter_queue]
            # SNS may invoke the function (a Lambda permission for this topic), and sends what it cannot deliver to
            # the queue (the subscription's redrive policy, and a queue policy for this topic).
            messaging.topics[topic_source.topic].add_subscription(
                subscriptions.LambdaSubscription(deployed.function, dead_letter_queue=dead_letters))
            # SNS invokes asynchronously: what the function fails on, once Lambda's retries are spent, goes to the
            # same queue (as the Function's deadLetterQueue prop would: the config and sqs:SendMessage on the queue).
            function = deployed.function.node.default_child
            function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=dead_letters.queue_arn)
            deployed.role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                            resources=[dead_letters.queue_arn]))
            deployed.dead_letter_queue = topic_source.dead_letter_queue

