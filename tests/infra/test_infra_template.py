"""Assertions on the synthesised template: authorisation, event source settings, data protection, the state machine
definition, the webhook envelope and least-privilege IAM."""

from __future__ import annotations

import json
import re

from dawra.topology import TOPOLOGY
from dawra.topology.data import WRITE_INVENTORY
from dawra.topology.fulfilment import ANSWER_TASK_TOKEN


def test_synthesised_without_docker_or_bundling(synth):
    assets = json.loads((synth.outdir / "Dawra.assets.json").read_text())
    assert not assets.get("dockerImages"), "no container assets: nothing here may need Docker"
    for asset in assets["files"].values():
        assert (synth.outdir / asset["source"]["path"]).exists()
    # The layer asset is the directory the tests made (context dawra:layerDir), not a Docker-bundled build.
    (layer,) = synth.of_type("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    functions = synth.of_type("AWS::Lambda::Function").values()
    layer_id = next(iter(synth.of_type("AWS::Lambda::LayerVersion")))
    assert all(f["Properties"]["Layers"] == [{"Ref": layer_id}] for f in functions)


def test_every_route_is_authorised_except_the_webhook_the_console_and_the_customers_page(synth):
    own_checks = {TOPOLOGY.function("console").name, TOPOLOGY.function("customer").name}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        is_webhook = props["Integration"]["Type"] == "AWS"
        target = json.dumps(props["Integration"].get("Uri"))
        is_console = not is_webhook and any(
            lid in target for lid, f in synth.of_type("AWS::Lambda::Function").items()
            if f["Properties"]["FunctionName"] in own_checks)
        # HMAC-signed webhooks; the console verifies its own session cookie, the customer's page its signed links
        if is_webhook or is_console:
            assert props["AuthorizationType"] == "NONE"
        else:
            assert props["AuthorizationType"] in ("AWS_IAM", "COGNITO_USER_POOLS")
        assert "RequestValidatorId" in props


def test_checkout_and_a_return_or_claim_request_require_the_idempotency_key_and_a_json_body(synth):
    posts = [m["Properties"] for m in synth.of_type("AWS::ApiGateway::Method").values()
             if m["Properties"]["HttpMethod"] == "POST" and m["Properties"]["Integration"]["Type"] == "AWS_PROXY"
             and m["Properties"]["AuthorizationType"] == "AWS_IAM"]
    assert len(posts) == 3  # POST /orders, POST /orders/{order_id}/returns, POST /orders/{order_id}/claims
    for post in posts:
        assert post["RequestParameters"]["method.request.header.Idempotency-Key"] is True
        validator = synth.resources[post["RequestValidatorId"]["Ref"]]["Properties"]
        assert validator["ValidateRequestBody"] is True and validator["ValidateRequestParameters"] is True
        assert "application/json" in post["RequestModels"]


def test_stage_throttles_traces_and_logs(synth):
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    assert "AccessLogSetting" in props
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False


def test_event_source_mappings_report_batch_item_failures(synth):
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping").values()
    assert mappings
    for mapping in mappings:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_tables_are_protected(synth):
    for table in synth.of_type("AWS::DynamoDB::Table").values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["DeletionProtectionEnabled"] is True  # cdk.json default
        assert table["DeletionPolicy"] == "Retain"


def test_state_machine_definition_is_the_asl_file_with_substitutions(synth):
    for machine in TOPOLOGY.state_machines:
        _, resource = synth.one("AWS::StepFunctions::StateMachine", StateMachineName=machine.name)
        props = resource["Properties"]
        asl_text = machine.definition_path.read_text()
        # The definition is uploaded as an asset: the ASL file, byte for byte.
        key = props["DefinitionS3Location"]["Key"]
        assert (synth.outdir / f"asset.{key}").read_text() == asl_text
        placeholders = set(re.findall(r"\$\{(\w+)\}", asl_text))
        assert placeholders == set(machine.substitutions) | set(machine.table_substitutions)
        for placeholder, function_id in machine.substitutions.items():
            lid, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(function_id).name)
            assert props["DefinitionSubstitutions"][placeholder] == {"Fn::GetAtt": [lid, "Arn"]}
        for placeholder, table_id in machine.table_substitutions.items():
            tid, _ = synth.one("AWS::DynamoDB::Table", TableName=TOPOLOGY.table(table_id).name)
            assert props["DefinitionSubstitutions"][placeholder] == {"Ref": tid}
        # Applying the substitutions yields a complete definition that names only those functions and tables.
        applied = asl_text
        for placeholder, function_id in machine.substitutions.items():
            applied = applied.replace("${" + placeholder + "}", f"arn:aws:lambda:r:1:function:{function_id}")
        for placeholder, table_id in machine.table_substitutions.items():
            applied = applied.replace("${" + placeholder + "}", table_id)
        assert "${" not in applied
        json.loads(applied)
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"


def _statements(synth, role_id: str) -> list[dict]:
    statements = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def _resources(statement) -> list:
    resources = statement["Resource"]
    return resources if isinstance(resources, list) else [resources]


# Actions AWS only authorises on Resource "*" (see docs/deploy.md, "Least privilege").
STAR_ALLOWED = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
    "sns:Publish", "dynamodb:ListStreams",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}


def test_one_role_per_function_and_no_wildcards_beyond_aws_requirements(synth):
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in synth.of_type("AWS::Lambda::Function").values()]
    assert len(set(roles)) == len(roles) == len(TOPOLOGY.functions)
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = _resources(statement)
            if "*" in resources:
                assert set(_actions(statement)) <= STAR_ALLOWED, statement
            for action in _actions(statement):
                assert "*" not in action, f"wildcard action {action}"
    for role in synth.of_type("AWS::IAM::Role").values():
        managed = role["Properties"].get("ManagedPolicyArns", [])
        if managed:  # only API Gateway's account-level CloudWatch Logs role
            assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(managed)


def test_permissions_map_to_exact_grants(synth):
    def role_of(function_id):
        _, fn = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(function_id).name)
        return fn["Properties"]["Role"]["Fn::GetAtt"][0]

    sm_id, _ = synth.one("AWS::StepFunctions::StateMachine", StateMachineName="dawra-order-lifecycle")
    return_sm_id, _ = synth.one("AWS::StepFunctions::StateMachine", StateMachineName="dawra-return-lifecycle")
    orders_id, _ = synth.one("AWS::DynamoDB::Table", TableName="dawra-orders")
    inventory_id, _ = synth.one("AWS::DynamoDB::Table", TableName="dawra-inventory")

    def started_by(function_id):
        start = [s for s in _statements(synth, role_of(function_id)) if "states:StartExecution" in _actions(s)]
        return sorted(r["Ref"] for s in start for r in _resources(s))

    # A return asked for over the storefront API starts the return's workflow; an order's starts from its commit
    # (start-lifecycle, decision 114), and no function a person or a storefront calls may start one.
    assert started_by("orders-api") == [return_sm_id]
    assert started_by("start-lifecycle") == [sm_id]
    assert started_by("admin-api") == started_by("console") == []
    # Only the functions granted WRITE_INVENTORY (allocate-stock, ship-order) may write the inventory.
    for function in TOPOLOGY.functions:
        writes_inventory = any(
            "dynamodb:PutItem" in _actions(s) and {"Fn::GetAtt": [inventory_id, "Arn"]} in _resources(s)
            for s in _statements(synth, role_of(function.id))
        )
        assert writes_inventory == (WRITE_INVENTORY in function.grants), function.id
    # Readers of the orders table may query its indexes, named one by one (no index/*).
    reads = [s for s in _statements(synth, role_of("orders-api")) if "dynamodb:Query" in _actions(s)]
    flat = json.dumps(reads)
    assert orders_id in flat and "/index/by-customer" in flat and "/index/by-tracking-number" in flat
    assert "/index/*" not in flat
    # The notifier sends SMS (sns:Publish on *, which no ARN names) and email, and nothing else on SNS: an explicit
    # Deny of sns:Publish on every SNS ARN (topics, push endpoints) leaves phone numbers only.
    # The later-jobs function sends what the notifier held (an SMS overnight, parcels shipped together) the same way.
    senders = ("notify", "later-jobs")
    for sender in senders:
        statements = _statements(synth, role_of(sender))
        allows = [s for s in statements if s["Effect"] == "Allow"]
        assert any("sns:Publish" in _actions(s) and s["Resource"] == "*" for s in allows), sender
        assert not any("sns:Publish" in _actions(s) and s["Resource"] != "*" for s in allows), sender
        assert any("ses:SendEmail" in _actions(s) for s in allows), sender
        every_sns_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert [(_actions(s), s["Resource"]) for s in denies] == [(["sns:Publish"], every_sns_arn)], sender
        assert "Condition" not in denies[0]
    # So the jobs for later that alert operations (a parcel's cash not remitted, a card authorisation not renewed)
    # run in the ops-jobs function (decision 93): the ops-alerts topic is its only SNS resource, it sends nothing
    # to a customer, and nothing denies it its alerts.
    topic_id, _ = synth.one("AWS::SNS::Topic", TopicName="dawra-ops-alerts")
    ops_statements = _statements(synth, role_of("ops-jobs"))
    publishes = [s["Resource"] for s in ops_statements if "sns:Publish" in _actions(s)]
    assert publishes == [{"Ref": topic_id}]
    assert all(s["Effect"] == "Allow" for s in ops_statements)
    assert not any(a.startswith("ses:") for s in ops_statements for a in _actions(s))
    # Nobody else is denied anything: a Deny belongs only where an allow on "*" needs narrowing.
    for function in TOPOLOGY.functions:
        if function.id not in senders:
            assert all(s["Effect"] == "Allow" for s in _statements(synth, role_of(function.id))), function.id
    # Callbacks only where TOPOLOGY says so.
    for function in TOPOLOGY.functions:
        has = any("states:SendTaskSuccess" in _actions(s) for s in _statements(synth, role_of(function.id)))
        assert has == (ANSWER_TASK_TOKEN in function.grants), function.id


def test_state_machine_invokes_exactly_its_functions(synth):
    for machine in TOPOLOGY.state_machines:
        _, resource = synth.one("AWS::StepFunctions::StateMachine", StateMachineName=machine.name)
        role_id = resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        invoke = [s for s in _statements(synth, role_id) if "lambda:InvokeFunction" in _actions(s)]
        resources = [r for s in invoke for r in _resources(s)]
        expected = []
        for function_id in dict.fromkeys(machine.substitutions.values()):
            lid, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(function_id).name)
            expected.append({"Fn::GetAtt": [lid, "Arn"]})
        assert sorted(map(json.dumps, resources)) == sorted(map(json.dumps, expected))


def test_state_machine_updates_items_only_in_the_tables_it_names(synth):
    """A task that writes an item itself (WaitForDelivery parks its token: decision 117; the return's parcel and
    inspection waits: 121) may UpdateItem there and nothing else: no other DynamoDB action, no other table. A
    machine names a table exactly when its ASL has such a task."""
    for machine in TOPOLOGY.state_machines:
        writes = "arn:aws:states:::aws-sdk:dynamodb:updateItem" in machine.definition_path.read_text()
        assert writes == bool(machine.table_substitutions), machine.id
        _, resource = synth.one("AWS::StepFunctions::StateMachine", StateMachineName=machine.name)
        role_id = resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        dynamodb = [s for s in _statements(synth, role_id) if any(a.startswith("dynamodb:") for a in _actions(s))]
        expected = []
        for table_id in dict.fromkeys(machine.table_substitutions.values()):
            tid, _ = synth.one("AWS::DynamoDB::Table", TableName=TOPOLOGY.table(table_id).name)
            expected.append({"Fn::GetAtt": [tid, "Arn"]})
        assert [a for s in dynamodb for a in _actions(s)] == (["dynamodb:UpdateItem"] if expected else [])
        resources = [r for s in dynamodb for r in _resources(s)]
        assert sorted(map(json.dumps, resources)) == sorted(map(json.dumps, expected))


def test_alarms_notify_the_ops_topic(synth):
    topic_id, _ = synth.one("AWS::SNS::Topic", TopicName="dawra-ops-alerts")
    alarms = synth.of_type("AWS::CloudWatch::Alarm").values()
    metrics = {(a["Properties"].get("Namespace"), a["Properties"].get("MetricName")) for a in alarms}
    for needed in [("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/States", "ExecutionsFailed"),
                   ("AWS/States", "ExecutionsTimedOut"), ("AWS/ApiGateway", "5XXError"),
                   ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles")]:
        assert needed in metrics, needed
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    per_function = [a for a in alarms if a["Properties"].get("Namespace") == "AWS/Lambda"
                    and a["Properties"]["MetricName"] in ("Errors", "Throttles")]
    assert len(per_function) == 2 * len(TOPOLOGY.functions)
    # Each stream mapping's function: how far behind it reads (a record retried on and on, or a backlog).
    ages = {a["Properties"]["Dimensions"][0]["Value"]["Ref"]: a["Properties"]["Threshold"] for a in alarms
            if a["Properties"].get("MetricName") == "IteratorAge"}
    for source in TOPOLOGY.stream_event_sources:
        function_id, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(source.function).name)
        assert ages[function_id] == source.iterator_age_alarm_s * 1000
    assert len(ages) == len(TOPOLOGY.stream_event_sources)


def test_dashboard_shows_business_metrics(synth):
    from infra.capabilities.observability import BUSINESS_METRICS

    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in BUSINESS_METRICS:
        assert metric in body
    assert "Dawra" in body
