"""Step Functions: the Standard state machines of TOPOLOGY, defined by their ASL files (DefinitionBody.from_file)
with each ``${Placeholder}`` replaced by the ARN of the function TOPOLOGY names for it."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dawra.topology import Topology

from .naming import pascal

STAR_REASONS = [
    ("Step Functions logging to CloudWatch Logs: logs:CreateLogDelivery/GetLogDelivery/UpdateLogDelivery/"
    "DeleteLogDelivery/ListLogDeliveries/PutResourcePolicy/DescribeResourcePolicies/DescribeLogGroups have no "
    "resource-level permissions, AWS requires Resource *."),
    ("X-Ray tracing: xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets have no "
    "resource-level permissions, AWS requires Resource *."),
]


class Lifecycle(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, functions, data, deletion_protection: bool):
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in topology.state_machines:
            cid = pascal(spec.id)
            role = iam.Role(
                self,
                f"{cid}Role",
                assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                description=f"Runs {spec.name}: invokes exactly the functions its ASL names (and updates the tables it "
                "names).",
            )
            invoked = [functions.functions[function_id].function for function_id in spec.substitutions.values()]
            # Exact function ARNs (the ASL calls them unqualified), not CDK's grantInvoke which adds "<arn>:*".
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=list(dict.fromkeys(f.function_arn for f in invoked)),
                )
            )
            # Tasks that write an item themselves (aws-sdk:dynamodb:updateItem): UpdateItem on exactly those tables.
            updated = [data.tables[table_id] for table_id in dict.fromkeys(spec.table_substitutions.values())]
            if updated:
                role.add_to_policy(
                    iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[t.table_arn for t in updated])
                )
            log_group = logs.LogGroup(
                self,
                f"{cid}Logs",
                # The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small (AWS recommendation).
                log_group_name=f"/aws/vendedlogs/states/{spec.name}",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=removal,
            )
            state_machine = sfn.StateMachine(
                self,
                cid,
                state_machine_name=spec.name,
                state_machine_type=sfn.StateMachineType.STANDARD,
                definition_body=sfn.DefinitionBody.from_file(str(spec.definition_path)),
                definition_substitutions={
                    **{placeholder: functions.functions[function_id].function.function_arn
                       for placeholder, function_id in spec.substitutions.items()},
                    **{placeholder: data.tables[table_id].table_name
                       for placeholder, table_id in spec.table_substitutions.items()},
                },
                role=role,
                tracing_enabled=True,
                logs=sfn.LogOptions(
                    destination=log_group,
                    level=sfn.LogLevel.ALL,
                    # Executions carry ids and allocations only, but failure causes can echo customer data.
                    include_execution_data=False,
                ),
            )
            self.state_machines[spec.id] = state_machine
            self.roles[spec.id] = role
