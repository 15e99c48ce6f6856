"""The one place a topology :class:`~dawra.topology.Ref` becomes a CloudFormation token.

Environment variables and IAM grants both go through :class:`Resolver`; the embedded cloud's counterpart is
``EmbeddedCloud.resolve`` (local names and ARNs), so the same data is rendered once per side.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn
from aws_cdk import aws_iam as iam

from dawra.topology import Function, Grant, Ref, Resource
from dawra.topology.model import render_resource


class Resolver:
    """Resolves against the stack's constructs at call time: a state machine ref only once the state machine exists
    (see :meth:`environment`'s ``deferred``)."""

    def __init__(self, stack) -> None:
        self.stack = stack

    def ref(self, ref: Ref, suffix: str = "") -> str:
        return self._token(ref) + suffix

    def _token(self, ref: Ref) -> str:
        stack = self.stack
        if ref.kind == "table":
            table = stack.data.tables[ref.id]
            return {"name": table.table_name, "arn": table.table_arn, "stream_arn": table.table_stream_arn}[ref.attr]
        if ref.kind == "queue":
            queue = stack.messaging.queues[ref.id]
            return {"name": queue.queue_name, "arn": queue.queue_arn, "url": queue.queue_url}[ref.attr]
        if ref.kind == "topic":
            topic = stack.messaging.topics[ref.id]
            return {"name": topic.topic_name, "arn": topic.topic_arn}[ref.attr]
        if ref.kind == "secret":
            secret = stack.messaging.secrets[ref.id]
            # The physical name is fixed by TOPOLOGY; CDK's secret_name token re-parses it out of the ARN by
            # splitting on "-", which breaks for names with other dashes in them. The IAM grant on the secret ARN
            # still orders the function after the secret.
            name = next(s.name for s in stack.topology.secrets if s.id == ref.id)
            return {"name": name, "arn": secret.secret_arn}[ref.attr]
        if ref.kind == "state_machine":
            machine = stack.lifecycle.state_machines[ref.id]
            return {"name": machine.state_machine_name, "arn": machine.state_machine_arn}[ref.attr]
        if ref.kind == "parameter":
            return stack.parameters[ref.id].value_as_string
        if ref.kind == "user_pool":
            pool, client = stack.operators.pools[ref.id], stack.operators.clients[ref.id]
            return {"id": pool.user_pool_id, "arn": pool.user_pool_arn, "client_id": client.user_pool_client_id}[ref.attr]
        if ref.kind == "schedule_group":
            group, role = stack.later.groups[ref.id], stack.later.roles[ref.id]
            # The group's Ref (its name) rather than the L2's literal name: what names it then depends on it.
            return {"name": group.node.default_child.ref, "arn": group.schedule_group_arn,
                    "role_arn": role.role_arn}[ref.attr]
        if ref.kind == "http_api" and ref.attr == "url":
            # https://<api id>.execute-api.<region>.<url suffix>, no trailing "/": the $default stage has no prefix
            return stack.http_apis.apis[ref.id].api_endpoint
        if ref.kind == "bucket":
            bucket = stack.storage.buckets[ref.id]
            return {"name": bucket.bucket_name, "arn": bucket.bucket_arn}[ref.attr]
        if ref.kind == "configuration_set" and ref.attr == "name":
            return stack.messaging.configuration_sets[ref.id].configuration_set_name
        raise ValueError(f"cannot resolve {ref!r}")

    partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID

    def domain_of(self, email: str) -> str:
        return Fn.select(1, Fn.split("@", email))

    def resource(self, resource: Resource) -> str:
        return render_resource(resource, self)

    def statement(self, grant: Grant) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            effect=iam.Effect.DENY if grant.effect == "Deny" else iam.Effect.ALLOW,
            actions=list(grant.actions),
            resources=[self.resource(r) for r in grant.resources],
        )

    def environment(self, spec: Function, *, deferred: bool) -> dict[str, str]:
        """Literal strings as they are, Refs as tokens. ``deferred`` selects the state machine and HTTP API refs
        (resolvable only once the state machines, or the HTTP APIs in front of functions, exist) or everything else."""
        env = {}
        for name, value in spec.environment.items():
            is_deferred = isinstance(value, Ref) and value.kind in ("state_machine", "http_api")
            if is_deferred != deferred:
                continue
            env[name] = self.ref(value) if isinstance(value, Ref) else value
        return env
