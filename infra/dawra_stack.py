"""The Dawra stack: every resource of :data:`dawra.topology.TOPOLOGY`, one construct per capability."""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnParameter, Stack
from constructs import Construct

from dawra.topology import TOPOLOGY, Function, Ref, Topology

from .capabilities.api import Api
from .capabilities.data import Data
from .capabilities.functions import Functions
from .capabilities.lifecycle import STAR_REASONS as LIFECYCLE_STAR_REASONS
from .capabilities.lifecycle import Lifecycle
from .capabilities.messaging import Messaging
from .capabilities.nag import acknowledge
from .capabilities.naming import pascal
from .capabilities.observability import Observability
from .config import DeployConfig

PARAMETER_RULES = {
    "sender-email": {"allowed_pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                     "constraint_description": "an email address, verified in SES (or in a verified domain)"},
    "sms-sender-id": {"allowed_pattern": r"^[A-Za-z0-9]{1,11}$",
                      "constraint_description": "1 to 11 letters or digits (alphanumeric SMS sender id)"},
    "delivery-grace-hours": {"allowed_pattern": r"^[0-9]{1,4}$",
                             "constraint_description": "whole hours, 0 to 9999"},
}


class DawraStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: DeployConfig, topology: Topology = TOPOLOGY, **kwargs):
        super().__init__(scope, id, **kwargs)
        self.topology = topology

        # Deploy-time settings: CloudFormation parameters named after the topology ids (sender-email -> SenderEmail).
        self.parameters: dict[str, CfnParameter] = {}
        for spec in topology.parameters:
            rules = PARAMETER_RULES.get(spec.id, {})
            self.parameters[spec.id] = CfnParameter(
                self,
                pascal(spec.id),
                type="String",
                description=spec.purpose,
                default=None if spec.id == "sender-email" else spec.local_value,
                **rules,
            )

        self.data = Data(self, "Data", topology=topology, deletion_protection=config.deletion_protection)
        self.messaging = Messaging(
            self,
            "Messaging",
            topology=topology,
            deletion_protection=config.deletion_protection,
            ops_alert_email=config.ops_alert_email,
        )
        self.functions = Functions(
            self,
            "Functions",
            topology=topology,
            layer_dir=config.layer_dir,
            resolve_env=lambda spec: self._environment(spec, deferred=False),
            deletion_protection=config.deletion_protection,
        )
        self.lifecycle = Lifecycle(
            self,
            "Lifecycle",
            topology=topology,
            functions=self.functions,
            deletion_protection=config.deletion_protection,
        )
        # State machine ARNs exist now: finish the environments that refer to them.
        for spec in topology.functions:
            for name, value in self._environment(spec, deferred=True).items():
                self.functions.add_environment(spec.id, name, value)
        self.functions.grant_permissions(
            data=self.data, messaging=self.messaging, lifecycle=self.lifecycle, parameters=self.parameters
        )
        self.functions.connect_event_sources(topology=topology, data=self.data, messaging=self.messaging)
        self.api = Api(
            self,
            "Api",
            topology=topology,
            functions=self.functions,
            messaging=self.messaging,
            deletion_protection=config.deletion_protection,
        )
        self.observability = Observability(
            self,
            "Observability",
            topology=topology,
            messaging=self.messaging,
            functions=self.functions,
            lifecycle=self.lifecycle,
            api=self.api,
        )

        CfnOutput(self, "ApiUrl", value=self.api.api.url, description="Base URL of the storefront API and webhooks")
        CfnOutput(self, "OpsAlertsTopicArn", value=self.messaging.topics["ops-alerts"].topic_arn)
        for spec in topology.secrets:
            CfnOutput(self, f"{pascal(spec.id)}SecretName", value=self.messaging.secrets[spec.id].secret_name,
                      description=spec.purpose)
        self._suppressions()

    # --- environment -----------------------------------------------------------------------------------------
    def _resolve(self, ref: Ref) -> str:
        if ref.kind == "table":
            table = self.data.tables[ref.id]
            return {"name": table.table_name, "arn": table.table_arn, "stream_arn": table.table_stream_arn}[ref.attr]
        if ref.kind == "queue":
            queue = self.messaging.queues[ref.id]
            return {"name": queue.queue_name, "arn": queue.queue_arn, "url": queue.queue_url}[ref.attr]
        if ref.kind == "topic":
            topic = self.messaging.topics[ref.id]
            return {"name": topic.topic_name, "arn": topic.topic_arn}[ref.attr]
        if ref.kind == "secret":
            secret = self.messaging.secrets[ref.id]
            # The physical name is fixed by TOPOLOGY; CDK's secret_name token re-parses it out of the ARN by
            # splitting on "-", which breaks for names with other dashes in them. The IAM grant on the secret ARN
            # still orders the function after the secret.
            name = next(s.name for s in self.topology.secrets if s.id == ref.id)
            return {"name": name, "arn": secret.secret_arn}[ref.attr]
        if ref.kind == "state_machine":
            machine = self.lifecycle.state_machines[ref.id]
            return {"name": machine.state_machine_name, "arn": machine.state_machine_arn}[ref.attr]
        if ref.kind == "parameter":
            return self.parameters[ref.id].value_as_string
        raise ValueError(f"cannot resolve {ref!r}")

    def _environment(self, spec: Function, *, deferred: bool) -> dict[str, str]:
        """Literal strings as they are, Refs as tokens. ``deferred`` selects the state machine refs (resolvable only
        once the state machine exists) or everything else."""
        env = {}
        for name, value in spec.environment.items():
            is_deferred = isinstance(value, Ref) and value.kind == "state_machine"
            if is_deferred != deferred:
                continue
            env[name] = self._resolve(value) if isinstance(value, Ref) else value
        return env

    # --- cdk-nag ---------------------------------------------------------------------------------------------
    def _suppressions(self) -> None:
        for deployed in self.functions.functions.values():
            acknowledge(deployed.role, "AwsSolutions-IAM5", " ".join(dict.fromkeys(deployed.star_reasons)),
                        finding="Resource::*")
            acknowledge(
                deployed.function.node.default_child,
                "AwsSolutions-L1",
                "Pinned to Python 3.11 on purpose: the project's requires-python and the layer's compiled wheels "
                "(cp311, aarch64) match it; moving runtimes is a deliberate, tested change.",
            )
        for role in self.lifecycle.roles.values():
            acknowledge(role, "AwsSolutions-IAM5", " ".join(LIFECYCLE_STAR_REASONS), finding="Resource::*")
        api = self.api.api
        # Scoped to the one CloudFormation resource each finding is about.
        acknowledge(
            api.deployment_stage.node.default_child,
            "AwsSolutions-APIG3",
            "No WAF by default: storefront routes require SigV4 (IAM) and webhooks are HMAC-verified downstream; "
            "per-stage throttling bounds abuse. A merchant can attach a web ACL to the stage.",
        )
        acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4",
            "The account-level role API Gateway uses to write execution logs; AWS's managed policy is the documented "
            "one for it.",
            finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
        for (method, path), api_method in self.api.methods.items():
            route = next(r for r in self.topology.routes if (r.method, r.path) == (method, path))
            if route.authorization == "storefront":
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-COG4",
                    "Storefront routes use AWS_IAM (SigV4) authorisation: the caller is the merchant's storefront "
                    "backend, an AWS principal, not an end user with a Cognito session.",
                )
            else:
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-APIG4",
                    "Carrier webhooks cannot sign with SigV4 or Cognito; each request is stored raw and the tracking "
                    "consumer verifies the carrier's HMAC signature (constant time, replay window) before anything "
                    "acts on it.",
                )
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-COG4",
                    "Carrier webhooks are authenticated by their HMAC signature downstream, not by Cognito.",
                )
