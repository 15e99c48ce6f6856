"""S3: every bucket in TOPOLOGY (the tax documents' rendered PDFs, decision 87). Private: every public access blocked,
TLS only (a bucket policy denies plain HTTP), encrypted with S3-managed keys, objects owned by the bucket owner (no
ACLs), versioned; kept (RETAIN) unless the deployment turns deletion protection off. Its name is CloudFormation's:
S3 names are global."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dawra.topology import Topology

from .naming import pascal


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, deletion_protection: bool) -> None:
        super().__init__(scope, id)
        self.buckets: dict[str, s3.Bucket] = {}
        for spec in topology.buckets:
            self.buckets[spec.id] = s3.Bucket(
                self,
                pascal(spec.id),
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.S3_MANAGED,
                enforce_ssl=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                versioned=True,
                removal_policy=RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY,
            )

        self.topology = topology

    def notify_queues(self, queues: dict[str, sqs.Queue]) -> None:
        """S3 event notifications to SQS for each bucket with a ``notify_queue`` (the feeds bucket: every object
        created), written on the bucket itself (no notifications custom resource, no extra Lambda). S3 checks that it
        may send when the notification is set, so the bucket waits for the queue's policy; that policy cannot name
        the bucket's ARN (the bucket depends on it: a cycle), so it admits S3 acting for this account only
        (aws:SourceAccount) on S3 bucket ARNs."""
        stack = Stack.of(self)
        for spec in self.topology.buckets:
            if spec.notify_queue is None:
                continue
            queue = queues[spec.notify_queue]
            queue.add_to_resource_policy(iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")], actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:s3:::*"}}))
            bucket = self.buckets[spec.id].node.default_child
            if not isinstance(bucket, s3.CfnBucket):  # pragma: no cover - an L2 bucket's child is its CfnBucket
                raise TypeError(f"{spec.id}: no CfnBucket to configure")
            bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                queue_configurations=[s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*",
                                                                            queue=queue.queue_arn)])
            policy = queue.node.try_find_child("Policy")  # the queue's policy (enforce_ssl's and S3's statements)
            if isinstance(policy, sqs.QueuePolicy) and isinstance(policy.node.default_child, sqs.CfnQueuePolicy):
                bucket.add_dependency(policy.node.default_child)
