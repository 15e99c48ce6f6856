"""The Dawra stack: every resource of :data:`dawra.topology.TOPOLOGY`, one construct per capability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, CfnParameter, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from dawra.topology import TOPOLOGY, Route, Topology
from dawra.topology.customer import FUNCTIONS as CUSTOMER_FUNCTIONS
from dawra.topology.model import Arn, NamedArn
from dawra.topology.notify import SEND_SMS

from .capabilities.api import Api
from .capabilities.data import Data
from .capabilities.functions import Functions
from .capabilities.http_apis import HttpApis
from .capabilities.later import Later
from .capabilities.lifecycle import STAR_REASONS as LIFECYCLE_STAR_REASONS
from .capabilities.lifecycle import Lifecycle
from .capabilities.messaging import Messaging
from .capabilities.nag import acknowledge, skip_checkov
from .capabilities.naming import pascal
from .capabilities.observability import Observability
from .capabilities.operators import Operators
from .capabilities.storage import Storage
from .config import DeployConfig
from .resolver import Resolver

CUSTOMER_FUNCTION = CUSTOMER_FUNCTIONS[0].id
PARAMETER_RULES = {
    "sender-email": {"allowed_pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                     "constraint_description": "an email address, verified in SES (or in a verified domain)"},
    "sms-sender-id": {"allowed_pattern": r"^[A-Za-z0-9]{1,11}$",
                      "constraint_description": "1 to 11 letters or digits (alphanumeric SMS sender id)"},
    "delivery-grace-hours": {"allowed_pattern": r"^[0-9]{1,4}$",
                             "constraint_description": "whole hours, 0 to 9999"},
    "delivery-lost-after-hours": {"allowed_pattern": r"^[0-9]{1,4}$",
                                  "constraint_description": "whole hours, 0 to 9999"},
    "lost-parcel-policy": {"allowed_values": ["reship", "refund", "agent"],
                           "constraint_description": "reship, refund or agent"},
    "customer-site-url": {"allowed_pattern": r"^https://[^\s/]+(/[^\s]*[^\s/])?$",
                          "constraint_description": "an https:// URL without a trailing slash (the stack output "
                                                    "ApiUrl without its last /, or a custom domain)"},
    "shop-name": {"allowed_pattern": r"^[^\x00-\x1f]{1,80}$", "constraint_description": "1 to 80 characters"},
    "support-contact": {"allowed_pattern": r"^[^\x00-\x1f]{3,120}$",
                        "constraint_description": "an email address or a phone number"},
    "feedback-after-hours": {"allowed_pattern": r"^[0-9]{1,4}(\.[0-9]{1,4})?$",
                             "constraint_description": "hours, 0 to 9999, decimals allowed (0.5 = half an hour)"},
    "sms-quiet-hours": {"allowed_pattern": r"^$|^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
                        "constraint_description": "HH:MM-HH:MM, local time of the customer (e.g. 21:00-08:00), or "
                                                  "empty for none"},
}

# Why a bucket other than the documents' has no access logs, and why a grant names any object of it.
NO_ACCESS_LOGS = {
    "stock-feeds": "No server access logs: the feeds bucket only receives stock files from the merchant's ERP or 3PL; "
                   "each import is audited row by row in the orders table with its feed id (key and ETag), and access "
                   "logs would need a second bucket of their own (CloudTrail data events can be turned on per account).",
}
BUCKET_OBJECT_REASONS = {
    "stock-feeds": "s3:GetObject is authorised on the object's ARN, and a stock feed is named by its sender (an ERP "
                   "or a 3PL) when it drops it in: the grant names the feeds bucket and leaves the key open; the "
                   "function reads only the object a notification names.",
}


class DawraStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: DeployConfig, topology: Topology = TOPOLOGY, **kwargs):
        super().__init__(scope, id, **kwargs)
        self.topology = topology
        # Every Ref (environment variables, IAM grants) becomes a token here, once the constructs it names exist.
        self.resolver = Resolver(self)

        # Deploy-time settings: CloudFormation parameters named after the topology ids (sender-email -> SenderEmail).
        self.parameters: dict[str, CfnParameter] = {}
        for spec in topology.parameters:
            rules = PARAMETER_RULES.get(spec.id, {})
            self.parameters[spec.id] = CfnParameter(
                self,
                pascal(spec.id),
                type="String",
                description=spec.purpose,
                # Required at deploy: the sender's address, and the site URL the links in messages start with.
                default=None if spec.id in ("sender-email", "customer-site-url") else spec.local_value,
                **rules,
            )

        self.data = Data(self, "Data", topology=topology, deletion_protection=config.deletion_protection)
        self.storage = Storage(self, "Storage", topology=topology, deletion_protection=config.deletion_protection)
        self.messaging = Messaging(
            self,
            "Messaging",
            topology=topology,
            deletion_protection=config.deletion_protection,
            ops_alert_email=config.ops_alert_email,
        )
        self.storage.notify_queues(self.messaging.queues)  # the feeds bucket tells its queue of each object
        self.operators = Operators(
            self, "Identity", topology=topology, deletion_protection=config.deletion_protection
        )
        # Before the functions: a scheduling function's environment names the group, its role and its queue.
        self.later = Later(self, "Later", topology=topology, messaging=self.messaging, resolver=self.resolver,
                           deletion_protection=config.deletion_protection)
        self.functions = Functions(
            self,
            "Functions",
            topology=topology,
            layer_dir=config.layer_dir,
            resolve_env=lambda spec: self.resolver.environment(spec, deferred=False),
            deletion_protection=config.deletion_protection,
        )
        self.lifecycle = Lifecycle(
            self,
            "Lifecycle",
            topology=topology,
            functions=self.functions,
            data=self.data,
            deletion_protection=config.deletion_protection,
        )
        # The HTTP APIs in front of functions (the return label's own origin, decision 78).
        self.http_apis = HttpApis(self, "HttpApis", topology=topology, functions=self.functions,
                                  deletion_protection=config.deletion_protection)
        # State machine ARNs and HTTP API endpoints exist now: finish the environments that refer to them.
        for spec in topology.functions:
            for name, value in self.resolver.environment(spec, deferred=True).items():
                self.functions.add_environment(spec.id, name, value)
        self.functions.apply_grants(self.resolver)
        self.functions.connect_event_sources(topology=topology, data=self.data, messaging=self.messaging)
        self.api = Api(
            self,
            "Api",
            topology=topology,
            functions=self.functions,
            messaging=self.messaging,
            deletion_protection=config.deletion_protection,
            operators=self.operators,
        )
        self.observability = Observability(
            self,
            "Observability",
            topology=topology,
            messaging=self.messaging,
            functions=self.functions,
            lifecycle=self.lifecycle,
            api=self.api,
            later=self.later,
        )

        CfnOutput(self, "ApiUrl", value=self.api.api.url, description="Base URL of the storefront API and webhooks")
        CfnOutput(self, "OpsAlertsTopicArn", value=self.messaging.topics["ops-alerts"].topic_arn)
        for topic in topology.topics:  # what the operator points an AWS service at (a two-way number's channel)
            if topic.published_by:
                CfnOutput(self, f"{pascal(topic.id)}TopicArn", value=self.messaging.topics[topic.id].topic_arn,
                          description=f"{topic.purpose} Published to by {topic.published_by} only.")
        for spec in topology.user_pools:
            CfnOutput(self, f"{pascal(spec.id)}UserPoolId", value=self.operators.pools[spec.id].user_pool_id,
                      description=spec.purpose)
            CfnOutput(self, f"{pascal(spec.id)}UserPoolClientId",
                      value=self.operators.clients[spec.id].user_pool_client_id,
                      description=f"App client {spec.client_name} (no secret): sign-in and the admin API's ID tokens")
        if topology.user_pools:
            CfnOutput(self, "ConsoleUrl", value=f"{self.api.api.url}admin",
                      description="The back-office console (operators sign in with the user pool)")
        for spec in topology.http_apis:
            CfnOutput(self, f"{pascal(spec.id)}Url", value=self.http_apis.apis[spec.id].api_endpoint,
                      description=f"Base URL of the HTTP API {spec.name}: {spec.purpose}")
        for spec in topology.secrets:
            CfnOutput(self, f"{pascal(spec.id)}SecretName", value=self.messaging.secrets[spec.id].secret_name,
                      description=spec.purpose)
        self._suppressions()
        self._checkov_skips()

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
        for deployed in self.functions.functions.values():
            # topology.schedules.SCHEDULE_LATER: the schedules of one group, whatever their names.
            for group_id in {r.name.id for grant in deployed.spec.grants for r in grant.resources
                             if isinstance(r, NamedArn) and r.name.kind == "schedule_group"}:
                group = self.later.groups[group_id]
                acknowledge(
                    deployed.role,
                    "AwsSolutions-IAM5",
                    "scheduler:CreateSchedule is authorised on the schedule's ARN, schedule/<group>/<name>, and a "
                    "job's schedule is named at run time after what it is for (feedback-<order id>): the grant names "
                    "Dawra's group and leaves the name open. The role the schedules run with is fixed too: "
                    "iam:PassRole on that group's role only.",
                    finding=f"Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
                            f"<{self.get_logical_id(group.node.default_child)}>/*",
                )
        for deployed in self.functions.functions.values():
            # topology.customer.KEEP_DOCUMENTS: the rendered PDFs under one prefix, whatever their names.
            for grant in deployed.spec.grants:
                for resource in grant.resources:
                    if isinstance(resource, Arn) and resource.ref.kind == "bucket" and resource.suffix.endswith("*"):
                        bucket = self.storage.buckets[resource.ref.id]
                        acknowledge(
                            deployed.role,
                            "AwsSolutions-IAM5",
                            BUCKET_OBJECT_REASONS.get(resource.ref.id,
                            "s3:GetObject and s3:PutObject are authorised on the object's ARN, and a rendered document "
                            "is named at run time after its order, number and language: the grant names the bucket and "
                            "its one prefix (tax-documents/) and leaves the name open."),
                            finding=f"Resource::<{self.get_logical_id(bucket.node.default_child)}.Arn>"
                                    f"{resource.suffix}",
                        )
        for bucket_id, bucket in self.storage.buckets.items():
            acknowledge(
                bucket.node.default_child,
                "AwsSolutions-S1",
                NO_ACCESS_LOGS.get(bucket_id,
                "No server access logs: the bucket holds rendered copies of tax documents kept in the orders table, "
                "written and read only by the function the topology grants it to; access logs would need a second "
                "bucket of their own (CloudTrail data events can be turned on per account)."),
            )
        api = self.api.api
        # Scoped to the one CloudFormation resource each finding is about.
        acknowledge(
            api.deployment_stage.node.default_child,
            "AwsSolutions-APIG3",
            "No WAF by default: storefront routes require SigV4 (IAM), webhooks are HMAC-verified downstream and "
            "the back office needs a Cognito session; per-stage throttling bounds abuse. A merchant can attach a "
            "web ACL to the stage.",
        )
        acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4",
            "The account-level role API Gateway uses to write execution logs; AWS's managed policy is the documented "
            "one for it.",
            finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
        for pool in self.operators.pools.values():
            acknowledge(
                pool.node.default_child,
                "AwsSolutions-COG2",
                "MFA is optional (TOTP, no SMS): operators enrol an authenticator app themselves; requiring it "
                "would lock out a new operator before enrolment, and Plus-tier threat protection (enforced) blocks "
                "risky and compromised-credential sign-ins meanwhile.",
            )
        for route, api_method in self._api_methods():
            if route.authorization == "cognito":
                continue  # the Cognito user pools authorizer: nothing to acknowledge
            if route.authorization == "storefront":
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-COG4",
                    "Storefront routes use AWS_IAM (SigV4) authorisation: the caller is the merchant's storefront "
                    "backend, an AWS principal, not an end user with a Cognito session.",
                )
            elif route.target_kind == "function" and route.target == CUSTOMER_FUNCTION:
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-APIG4",
                    "The customer's order page is opened from a link in a message by someone with no account: the "
                    "function verifies the link's signed, expiring, revocable token on every request and a CSRF "
                    "token on every form; the guest lookup is rate limited per caller and per contact.",
                )
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-COG4",
                    "Customers have no Cognito identity: the order page authenticates the signed order link itself "
                    "(HMAC-SHA256 with a Secrets Manager key, expiry, the order's link version).",
                )
            elif route.target_kind == "function":
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-APIG4",
                    "The console's pages are opened by a browser, which sends no bearer token on a link or a form; "
                    "the console verifies its own session cookie (the operator's Cognito ID token, with the same "
                    "checks as the authorizer) and a CSRF token on every form before it reads or changes anything.",
                )
                acknowledge(
                    api_method.node.default_child,
                    "AwsSolutions-COG4",
                    "The console authenticates with the operators' Cognito user pool itself (sign-in, then an ID "
                    "token in an HttpOnly session cookie it verifies); an API Gateway authorizer cannot read a cookie.",
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

        for spec in self.topology.http_apis:  # authorization NONE on every route: the function checks the request
            for route in spec.routes:
                acknowledge(self.http_apis.routes[(spec.id, route.method, route.path)].node.default_child,
                            "AwsSolutions-APIG4", spec.open_reason)

    def _api_methods(self) -> list[tuple[Route, Any]]:
        """Each deployed API method with the topology route it serves."""
        routes = {(r.method, r.path): r for r in self.topology.routes}
        return [(routes[key], api_method) for key, api_method in self.api.methods.items()]

    # --- checkov (tests/infra/test_infra_checkov.py runs it on the template) ---------------------------------------
    def _checkov_skips(self) -> None:
        for table in self.data.tables.values():
            skip_checkov(
                table.node.default_child,
                "CKV_AWS_119",
                "Encrypted at rest with the AWS-managed KMS key aws/dynamodb (SSEType KMS, usage in CloudTrail). A "
                "customer-managed key would add a key policy and kms:Decrypt to every function role and the stream "
                "mapping, for no narrower access than the per-table IAM grants.",
            )
        for queue in self.messaging.queues.values():
            skip_checkov(
                queue.node.default_child,
                "CKV_AWS_27",
                "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled: true), which this check does not recognise (it "
                "looks for KmsMasterKeyId only); a KMS key would need grants for API Gateway's webhook role and the "
                "stream mapping's on-failure delivery for no narrower access.",
            )
        for secret in self.messaging.secrets.values():
            skip_checkov(
                secret.node.default_child,
                "CKV_AWS_149",
                "Encrypted with the AWS-managed key aws/secretsmanager; only the roles the topology grants it to may "
                "read it (its exact ARN). A customer-managed key adds a key policy and a kms:Decrypt grant, no "
                "narrower access.",
            )
        for construct in self.node.find_all():
            if isinstance(construct, logs.CfnLogGroup):
                skip_checkov(
                    construct,
                    "CKV_AWS_158",
                    "CloudWatch Logs encrypts every log group at rest with service-managed keys. A customer-managed "
                    "key would make log delivery (Lambda, Step Functions, API Gateway) depend on one more key policy; "
                    "the logs hold no payloads (execution data and request bodies are not logged).",
                )
        for deployed in self.functions.functions.values():
            function = deployed.function.node.default_child
            if deployed.dead_letter_queue is None:  # those SNS invokes have one (topology TopicEventSource)
                skip_checkov(
                    function,
                    "CKV_AWS_116",
                    "Nothing invokes this function asynchronously (API Gateway and Step Functions call it "
                    "synchronously, event source mappings poll), and a function DLQ only catches asynchronous "
                    "invocations; failures land in the queue's DLQ or the stream's on-failure queue, both alarmed.",
                )
            skip_checkov(
                function,
                "CKV_AWS_117",
                "The functions reach only AWS service endpoints (DynamoDB, Step Functions, SES, SNS, Secrets Manager) "
                "with IAM-signed requests and nothing on a private network; a VPC would add NAT or interface "
                "endpoints and cold-start latency without narrowing access.",
            )
            skip_checkov(
                function,
                "CKV_AWS_115",
                "No reserved concurrency on purpose: new accounts often have a regional limit of 10, AWS refuses a "
                "reservation that leaves fewer than 10 unreserved, so a first deploy would fail; the stage's "
                "throttling and the event source batch settings bound concurrency instead.",
            )
            skip_checkov(
                function,
                "CKV_AWS_173",
                "The environment holds resource names, ARNs and Powertools settings, no secret (the webhook key is "
                "read from Secrets Manager at run time); Lambda encrypts it at rest with its AWS-managed key.",
            )
            if SEND_SMS in deployed.spec.grants:
                skip_checkov(
                    deployed.role.node.find_child("DefaultPolicy").node.default_child,
                    "CKV_AWS_111",
                    "sns:Publish on * is SMS to a phone number, which has no ARN (AWS requires Resource *); the same "
                    "policy denies sns:Publish on every SNS ARN (arn:<partition>:sns:*:*:*), so phone numbers are "
                    "all it can reach.",
                )
        for bucket_id, bucket in self.storage.buckets.items():
            skip_checkov(
                bucket.node.default_child,
                "CKV_AWS_18",
                NO_ACCESS_LOGS.get(bucket_id,
                "No server access logs (as cdk-nag's S1): the bucket holds rendered copies of tax documents kept in "
                "the orders table, read and written only by the one function granted it; access logs would need a "
                "second bucket of their own."),
            )
        skip_checkov(
            self.api.api.deployment_stage.node.default_child,
            "CKV_AWS_120",
            "No API cache: responses are per-caller order data and writes (checkout, status), which a cache would "
            "serve stale or to the wrong caller; the stage cache would also be billed by the hour.",
        )
        for route, api_method in self._api_methods():
            if route.authorization == "none" and route.target_kind == "queue":
                skip_checkov(
                    api_method.node.default_child,
                    "CKV_AWS_59",
                    "Carrier webhooks cannot sign with SigV4 or Cognito; the route only stores the raw request on SQS "
                    "and the tracking consumer verifies the carrier's HMAC (constant time, replay window) before "
                    "anything acts on it.",
                )
            elif route.authorization == "none" and route.target == CUSTOMER_FUNCTION:
                skip_checkov(
                    api_method.node.default_child,
                    "CKV_AWS_59",
                    "The customer's order page is opened from a message's link by someone with no account: the "
                    "function verifies the signed order link (HMAC, expiry, revocation) and a CSRF token on forms.",
                )
            elif route.authorization == "none":
                skip_checkov(
                    api_method.node.default_child,
                    "CKV_AWS_59",
                    "The console's pages are opened by a browser (no bearer token on links and forms): the console "
                    "verifies its own session cookie, the operator's Cognito ID token, and a CSRF token on forms.",
                )
