"""DynamoDB: every table in TOPOLOGY. On-demand, point-in-time recovery, encrypted with the AWS-managed KMS key,
deletion protection (and a RETAIN removal policy) unless the deployment turns it off."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from dawra.topology import Topology

from .naming import pascal

_PROJECTION = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}


def _string_key(name: str) -> dynamodb.Attribute:
    # Every key in the single-table design is a string (ids, ISO-8601 timestamps, composite "TYPE#id" keys).
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, deletion_protection: bool) -> None:
        super().__init__(scope, id)
        self.topology = topology
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in topology.tables:
            table = dynamodb.Table(
                self,
                pascal(spec.id),
                table_name=spec.name,
                partition_key=_string_key(spec.keys.partition_key),
                sort_key=_string_key(spec.keys.sort_key) if spec.keys.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                stream=dynamodb.StreamViewType.NEW_IMAGE if spec.stream == "NEW_IMAGE" else None,
                time_to_live_attribute=spec.ttl_attribute,
                deletion_protection=deletion_protection,
                removal_policy=RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_string_key(index.partition_key),
                    sort_key=_string_key(index.sort_key) if index.sort_key else None,
                    projection_type=_PROJECTION[index.projection],
                )
            self.tables[spec.id] = table
