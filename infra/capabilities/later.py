"""EventBridge Scheduler: the schedule groups of jobs for later, and the role each group's schedules run with.

Schedules themselves are not part of the stack: the functions create them at run time (dawra/adapters/later.py),
one-time and deleted once fired. Each group in TOPOLOGY becomes a schedule group (kept with the stack's data when
deletion protection is on: deleting a group deletes the jobs still pending in it) and a role that only the
scheduler may assume, and only for this group of this account (aws:SourceAccount, aws:SourceArn: no confused
deputy), whose statements are the group's grants (sending to the group's queues; they are encrypted with SSE-SQS,
so no key is involved, and a KMS-encrypted queue would give the role the use of its key). The role's ARN is what a
scheduling function passes (iam:PassRole on it, and nothing else, is in topology.schedules.SCHEDULE_LATER).
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from dawra.topology import Topology

from ..resolver import Resolver
from .naming import pascal

SCHEDULER = "scheduler.amazonaws.com"


class Later(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, messaging, resolver: Resolver,
                 deletion_protection: bool) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        self.groups: dict[str, scheduler.ScheduleGroup] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in topology.schedule_groups:
            cid = pascal(spec.id)
            group = scheduler.ScheduleGroup(self, f"{cid}ScheduleGroup", schedule_group_name=spec.name,
                                            removal_policy=removal)
            role = iam.Role(
                self,
                f"{cid}SchedulerRole",
                assumed_by=iam.ServicePrincipal(SCHEDULER, conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": group.schedule_group_arn},
                }),
                description=f"EventBridge Scheduler runs the {spec.name} group's schedules with it: {spec.purpose}",
            )
            for grant in spec.grants:
                role.add_to_policy(resolver.statement(grant))
            for queue_id in spec.queues:
                key = messaging.queues[queue_id].encryption_master_key
                if key is not None:  # a KMS-encrypted queue: sending needs its key (SSE-SQS, today's, does not)
                    key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
            self.groups[spec.id], self.roles[spec.id] = group, role
