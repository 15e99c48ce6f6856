"""Queues, the ops-alerts topic, carrier webhook secrets and the SES configuration sets.

SMS needs no topic to go out: the notifier publishes straight to the customer's phone number (its grant is in the
topology). SMS coming in does: AWS End User Messaging SMS publishes a two-way number's inbound messages to the
sms-replies topic (a topic ``published_by`` a service: a key of its own, and policies that let that service of this
account alone publish and encrypt).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dawra.topology import Topology

from .nag import acknowledge
from .naming import pascal

CARRIER_KEY_ROTATION = ("A carrier webhook HMAC key is shared with the carrier out of band; rotating it is a "
                           "coordinated manual step with the carrier (docs/deploy.md), not a Lambda rotation.")
# Why a secret has no rotation Lambda, for the secrets that are not carrier webhook keys.
ROTATION_REASONS = {
    "console-session-key": "The console's CSRF key signs form tokens that live for one session; replacing its value "
    "(put-secret-value) rotates it at the cost of open forms being submitted again, no rotation Lambda needed.",
    "payments-sandbox-webhook": "A payment provider's webhook HMAC key is shared with the provider out of band (its "
    "dashboard); rotating it is a coordinated manual step with the provider (docs/deploy.md), not a Lambda rotation.",
    "order-link-key": "The order-link key signs the links in customer messages (180 days) and the page's form tokens; "
    "replacing its value ends every link already sent, so it is replaced by hand (put-secret-value) when it must "
    "be, never on a schedule; a customer then gets a fresh link by the guest lookup.",
    "risk-key": "The fraud screening's digest key names its counters (orders per email, phone, card and IP, refusals "
    "at the door); replacing its value (put-secret-value) starts every count from zero, so it is replaced by hand "
    "when it must be (a leak), never on a schedule.",
}
ALARM_TOPIC = "ops-alerts"  # the topic the CloudWatch alarms notify (infra/capabilities/observability.py)
CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


def alarms_of_this_account() -> dict:
    """The condition on CloudWatch's use of the topic and its key: an alarm of this account and region."""
    return {
        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"},
    }


def service_of_this_account(service: str) -> dict:
    """The condition on an AWS service's use of a topic and its key: acting for this account, from a resource of that
    service in this account and region (e.g. AWS End User Messaging SMS's phone numbers: sms-voice)."""
    return {
        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"},
    }


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        deletion_protection: bool,
        ops_alert_email: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY

        # Queues: dead-letter queues first, so a queue can point at its DLQ.
        self.queues: dict[str, sqs.Queue] = {}
        ordered = sorted(topology.queues, key=lambda q: q.dead_letter_queue is not None)
        for spec in ordered:
            dlq = None
            if spec.dead_letter_queue:
                dlq = sqs.DeadLetterQueue(
                    queue=self.queues[spec.dead_letter_queue], max_receive_count=spec.max_receive_count or 5
                )
            self.queues[spec.id] = sqs.Queue(
                self,
                pascal(spec.id),
                queue_name=spec.name,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_s),
                retention_period=Duration.seconds(spec.retention_s),
                dead_letter_queue=dlq,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
        dead_letter_ids = {q.dead_letter_queue for q in topology.queues if q.dead_letter_queue}
        for spec in topology.queues:
            if spec.dead_letter_queue is None and spec.id not in dead_letter_ids:
                acknowledge(
                    self.queues[spec.id].node.default_child,
                    "AwsSolutions-SQS3",
                    f"{spec.name} is itself a dead-letter store ({spec.purpose}) and has nothing further to "
                    "dead-letter to; its depth is alarmed on instead.",
                )

        # Topics. Alarm notifications are encrypted with a customer-managed key: CloudWatch cannot publish to a
        # topic encrypted with the AWS-managed SNS key, so the key policy lets CloudWatch use this one, and the topic
        # policy (which enforce_ssl creates, replacing SNS's default one) lets it publish. Both only for alarms of
        # this account and region (aws:SourceAccount, aws:SourceArn: no confused deputy).
        self.alerts_key = kms.Key(
            self,
            "AlertsKey",
            description="Encrypts Dawra's ops-alerts SNS topic (CloudWatch alarms publish to it).",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self.alerts_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[CLOUDWATCH],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means "this key"
                conditions=alarms_of_this_account(),
            )
        )
        self.topics: dict[str, sns.Topic] = {}
        self.topic_keys: dict[str, kms.Key] = {}  # the keys of topics an AWS service publishes to
        for spec in topology.topics:
            key = self.alerts_key
            if spec.published_by:
                key = self.topic_keys[spec.id] = kms.Key(
                    self,
                    f"{pascal(spec.id)}Key",
                    description=f"Encrypts Dawra's {spec.name} SNS topic ({spec.published_by} publishes to it).",
                    enable_key_rotation=True,
                    removal_policy=removal,
                )
                key.add_to_resource_policy(
                    iam.PolicyStatement(
                        sid=f"Allow{pascal(spec.published_by)}ToUseTheKey",
                        principals=[iam.ServicePrincipal(f"{spec.published_by}.amazonaws.com")],
                        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                        resources=["*"],  # in a key policy "*" means "this key"
                        conditions=service_of_this_account(spec.published_by),
                    )
                )
            self.topics[spec.id] = sns.Topic(
                self,
                pascal(spec.id),
                topic_name=spec.name,
                display_name=spec.name,
                master_key=key,
                enforce_ssl=True,
            )
            if spec.published_by:
                self.topics[spec.id].add_to_resource_policy(
                    iam.PolicyStatement(
                        sid=f"Allow{pascal(spec.published_by)}ToPublish",
                        principals=[iam.ServicePrincipal(f"{spec.published_by}.amazonaws.com")],
                        actions=["sns:Publish"],
                        resources=[self.topics[spec.id].topic_arn],
                        conditions=service_of_this_account(spec.published_by),
                    )
                )
        self.topics[ALARM_TOPIC].add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[CLOUDWATCH],
                actions=["sns:Publish"],
                resources=[self.topics[ALARM_TOPIC].topic_arn],
                conditions=alarms_of_this_account(),
            )
        )
        if ops_alert_email:
            self.topics[ALARM_TOPIC].add_subscription(subscriptions.EmailSubscription(ops_alert_email))

        # Secrets: a random value is generated at deploy time (carrier webhook HMAC keys: share it with the carrier).
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for spec in topology.secrets:
            secret = secretsmanager.Secret(
                self,
                pascal(spec.id),
                secret_name=spec.name,
                description=spec.purpose,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=64, exclude_punctuation=True
                ),
                removal_policy=removal,
            )
            acknowledge(secret, "AwsSolutions-SMG4", ROTATION_REASONS.get(spec.id, CARRIER_KEY_ROTATION))
            self.secrets[spec.id] = secret

        # SES: the configuration sets customer emails are sent with (reputation metrics, suppression of bounces).
        self.configuration_sets: dict[str, ses.ConfigurationSet] = {}
        for spec in topology.configuration_sets:
            self.configuration_sets[spec.id] = ses.ConfigurationSet(
                self,
                f"{pascal(spec.id)}ConfigurationSet",
                configuration_set_name=spec.name,
                reputation_metrics=True,
                sending_enabled=True,
                suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            )
