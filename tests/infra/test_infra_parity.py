"""One resource description: the synthesised template holds exactly what dawra.topology.TOPOLOGY declares (the same
names and shapes), and nothing of those kinds that TOPOLOGY lacks. The local stack is held to TOPOLOGY separately."""

from __future__ import annotations

import json

import pytest

from dawra.topology import TOPOLOGY, AnyResource, Arn, Ref
from dawra.topology.model import EveryArn


def _ref_id(value) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def _method_path(synth, method: dict) -> str:
    parts = []
    node = method["Properties"]["ResourceId"]
    while isinstance(node, dict) and "Ref" in node:
        resource = synth.resources[node["Ref"]]
        parts.append(resource["Properties"]["PathPart"])
        node = resource["Properties"]["ParentId"]
    assert node.get("Fn::GetAtt", [None, None])[1] == "RootResourceId", node
    return "/" + "/".join(reversed(parts))


def test_resource_counts_match_topology(synth):
    expected = {
        "AWS::DynamoDB::Table": len(TOPOLOGY.tables),
        "AWS::SQS::Queue": len(TOPOLOGY.queues),
        "AWS::SNS::Topic": len(TOPOLOGY.topics),
        "AWS::SecretsManager::Secret": len(TOPOLOGY.secrets),
        "AWS::Lambda::Function": len(TOPOLOGY.functions),
        "AWS::StepFunctions::StateMachine": len(TOPOLOGY.state_machines),
        "AWS::Lambda::EventSourceMapping": len(TOPOLOGY.queue_event_sources) + len(TOPOLOGY.stream_event_sources),
        "AWS::SES::ConfigurationSet": len(TOPOLOGY.configuration_sets),
        "AWS::Cognito::UserPool": len(TOPOLOGY.user_pools),
        "AWS::Cognito::UserPoolClient": len(TOPOLOGY.user_pools),
        "AWS::Cognito::UserPoolGroup": sum(len(pool.groups) for pool in TOPOLOGY.user_pools),
        "AWS::ApiGateway::Authorizer": int(any(r.authorization == "cognito" for r in TOPOLOGY.routes)),
        "AWS::Scheduler::ScheduleGroup": len(TOPOLOGY.schedule_groups),
        "AWS::Scheduler::Schedule": 0,  # schedules are made at run time (dawra/adapters/later.py), never deployed
        "AWS::ApiGatewayV2::Api": len(TOPOLOGY.http_apis),
        "AWS::ApiGatewayV2::Stage": len(TOPOLOGY.http_apis),  # each its $default stage, nothing else
        "AWS::ApiGatewayV2::Route": sum(len(api.routes) for api in TOPOLOGY.http_apis),
        "AWS::ApiGatewayV2::Integration": sum(len(api.routes) for api in TOPOLOGY.http_apis),
        "AWS::ApiGatewayV2::Authorizer": 0,  # the functions behind them authenticate each request
        "AWS::Lambda::Url": 0,  # not in every region Dawra is for (me-central-1): decision 78
        "AWS::S3::Bucket": len(TOPOLOGY.buckets),
    }
    actual = {cfn_type: len(synth.of_type(cfn_type)) for cfn_type in expected}
    assert actual == expected
    methods = [m for m in synth.of_type("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(methods) == len(TOPOLOGY.routes)
    parameters = {name for name in synth.template["Parameters"] if name != "BootstrapVersion"}
    assert len(parameters) == len(TOPOLOGY.parameters)


@pytest.mark.parametrize("table", TOPOLOGY.tables, ids=lambda t: t.id)
def test_table_shape(synth, table):
    _, resource = synth.one("AWS::DynamoDB::Table", TableName=table.name)
    props = resource["Properties"]
    expected_keys = [{"AttributeName": table.keys.partition_key, "KeyType": "HASH"}]
    if table.keys.sort_key:
        expected_keys.append({"AttributeName": table.keys.sort_key, "KeyType": "RANGE"})
    assert props["KeySchema"] == expected_keys
    gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    assert set(gsis) == {index.name for index in table.indexes}
    for index in table.indexes:
        keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        assert gsis[index.name]["KeySchema"] == keys
        assert gsis[index.name]["Projection"]["ProjectionType"] == index.projection
    if table.stream:
        assert props["StreamSpecification"] == {"StreamViewType": table.stream}
    else:
        assert "StreamSpecification" not in props
    if table.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": table.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


@pytest.mark.parametrize("queue", TOPOLOGY.queues, ids=lambda q: q.id)
def test_queue_shape(synth, queue):
    _, resource = synth.one("AWS::SQS::Queue", QueueName=queue.name)
    props = resource["Properties"]
    assert props.get("VisibilityTimeout", 30) == queue.visibility_timeout_s
    assert props.get("MessageRetentionPeriod", 4 * 24 * 3600) == queue.retention_s
    if queue.dead_letter_queue:
        dlq_id, _ = synth.one("AWS::SQS::Queue", QueueName=TOPOLOGY.queue(queue.dead_letter_queue).name)
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": queue.max_receive_count,
        }
    else:
        assert "RedrivePolicy" not in props


@pytest.mark.parametrize("topic", TOPOLOGY.topics, ids=lambda t: t.id)
def test_topic_exists(synth, topic):
    synth.one("AWS::SNS::Topic", TopicName=topic.name)


@pytest.mark.parametrize("secret", TOPOLOGY.secrets, ids=lambda s: s.id)
def test_secret_exists(synth, secret):
    synth.one("AWS::SecretsManager::Secret", Name=secret.name)


def _user_pool(synth, pool_id: str) -> tuple[str, str]:
    """The logical ids of the topology pool's user pool and its app client."""
    spec = TOPOLOGY.user_pool(pool_id)
    pool_lid, _ = synth.one("AWS::Cognito::UserPool", UserPoolName=spec.name)
    client_lid, _ = synth.one("AWS::Cognito::UserPoolClient", ClientName=spec.client_name, UserPoolId={"Ref": pool_lid})
    return pool_lid, client_lid


def _schedule_group(synth, group_id: str) -> tuple[str, str]:
    """The logical ids of the topology group's schedule group and of the role its schedules run with (the one role
    the scheduler may assume for that group)."""
    group_lid, _ = synth.one("AWS::Scheduler::ScheduleGroup", Name=TOPOLOGY.schedule_group(group_id).name)
    (role_lid,) = [lid for lid, role in synth.of_type("AWS::IAM::Role").items()
                   if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0].get("Condition", {})
                   .get("ArnEquals", {}).get("aws:SourceArn") == {"Fn::GetAtt": [group_lid, "Arn"]}]
    return group_lid, role_lid


def _bucket(synth, bucket_id: str) -> str:
    """The logical id of the topology bucket's bucket (named by CloudFormation: found by its construct path)."""
    from infra.capabilities.naming import pascal

    (lid,) = [lid for lid in synth.of_type("AWS::S3::Bucket") if lid.startswith(f"Storage{pascal(bucket_id)}")]
    return lid


def _resolves_to(synth, value, ref: Ref) -> bool:
    """Does the template value point at the resource (and attribute) the topology Ref names?"""
    if ref.kind == "bucket":
        lid = _bucket(synth, ref.id)
        return value == {"name": {"Ref": lid}, "arn": {"Fn::GetAtt": [lid, "Arn"]}}[ref.attr]
    if ref.kind == "schedule_group":
        group_lid, role_lid = _schedule_group(synth, ref.id)
        return value == {"name": {"Ref": group_lid}, "arn": {"Fn::GetAtt": [group_lid, "Arn"]},
                         "role_arn": {"Fn::GetAtt": [role_lid, "Arn"]}}[ref.attr]
    if ref.kind == "user_pool":
        pool_lid, client_lid = _user_pool(synth, ref.id)
        return value == {"id": {"Ref": pool_lid}, "client_id": {"Ref": client_lid},
                         "arn": {"Fn::GetAtt": [pool_lid, "Arn"]}}[ref.attr]
    if ref.kind == "parameter":
        return value == {"Ref": "".join(p.capitalize() for p in ref.id.split("-"))}
    if ref.kind == "http_api":  # its endpoint, https://<id>.execute-api.<region>.<suffix>, no trailing "/"
        api_lid, _ = synth.one("AWS::ApiGatewayV2::Api", Name=TOPOLOGY.http_api(ref.id).name)
        return ref.attr == "url" and value == {"Fn::GetAtt": [api_lid, "ApiEndpoint"]}
    target = _ref_id(value)
    if ref.kind == "secret" and ref.attr == "name":
        target = next(lid for lid, r in synth.of_type("AWS::SecretsManager::Secret").items()
                      if r["Properties"]["Name"] == value)
    if target is None or target not in synth.resources:
        return False
    resource = synth.resources[target]
    props = resource.get("Properties", {})
    kind_checks = {
        "table": ("AWS::DynamoDB::Table", "TableName", lambda: TOPOLOGY.table(ref.id).name),
        "queue": ("AWS::SQS::Queue", "QueueName", lambda: TOPOLOGY.queue(ref.id).name),
        "state_machine": ("AWS::StepFunctions::StateMachine", "StateMachineName",
                          lambda: TOPOLOGY.state_machine(ref.id).name),
        "secret": ("AWS::SecretsManager::Secret", "Name",
                   lambda: next(s.name for s in TOPOLOGY.secrets if s.id == ref.id)),
        "topic": ("AWS::SNS::Topic", "TopicName", lambda: next(t.name for t in TOPOLOGY.topics if t.id == ref.id)),
        "configuration_set": ("AWS::SES::ConfigurationSet", "Name",
                              lambda: next(c.name for c in TOPOLOGY.configuration_sets if c.id == ref.id)),
    }
    cfn_type, name_prop, name = kind_checks[ref.kind]
    if resource["Type"] != cfn_type or props.get(name_prop) != name():
        return False
    # "name" of a table/queue/secret is its Ref (tables/secrets) or GetAtt QueueName; ARNs are Ref (state machine,
    # topic) or GetAtt Arn.
    expected = {
        ("table", "name"): {"Ref": target},
        ("table", "arn"): {"Fn::GetAtt": [target, "Arn"]},
        ("table", "stream_arn"): {"Fn::GetAtt": [target, "StreamArn"]},
        ("configuration_set", "name"): {"Ref": target},
        ("queue", "url"): {"Ref": target},
        ("queue", "arn"): {"Fn::GetAtt": [target, "Arn"]},
        ("queue", "name"): {"Fn::GetAtt": [target, "QueueName"]},
        ("state_machine", "arn"): {"Ref": target},
        ("state_machine", "name"): {"Fn::GetAtt": [target, "Name"]},
        ("topic", "arn"): {"Ref": target},
        ("topic", "name"): {"Fn::GetAtt": [target, "TopicName"]},
        ("secret", "arn"): {"Ref": target},
    }
    if (ref.kind, ref.attr) == ("secret", "name"):
        # A secret's name is fixed by TOPOLOGY; the env var holds it literally, equal to the secret's Name.
        return value == props["Name"]
    return value == expected[(ref.kind, ref.attr)]


@pytest.mark.parametrize("function", TOPOLOGY.functions, ids=lambda f: f.id)
def test_function_shape_and_environment(synth, function):
    _, resource = synth.one("AWS::Lambda::Function", FunctionName=function.name)
    props = resource["Properties"]
    assert props["Handler"] == function.handler
    assert props["MemorySize"] == function.memory_mb
    assert props["Timeout"] == function.timeout_s
    assert props["Runtime"] == "python3.11"
    assert props["Architectures"] == ["arm64"]
    variables = props["Environment"]["Variables"]
    assert set(variables) == set(function.environment), "environment names differ from TOPOLOGY"
    for name, value in function.environment.items():
        if isinstance(value, Ref):
            assert _resolves_to(synth, variables[name], value), f"{name}={variables[name]} is not {value}"
        else:
            assert variables[name] == value


@pytest.mark.parametrize("route", TOPOLOGY.routes, ids=lambda r: f"{r.method} {r.path}")
def test_route_shape(synth, route):
    methods = [
        m for m in synth.of_type("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == route.method and _method_path(synth, m) == route.path
    ]
    assert len(methods) == 1, f"{route.method} {route.path} not in the template"
    props = methods[0]["Properties"]
    expected_auth = {"storefront": "AWS_IAM", "none": "NONE", "cognito": "COGNITO_USER_POOLS"}[route.authorization]
    assert props["AuthorizationType"] == expected_auth
    if route.authorization == "cognito":
        # The Cognito user pools authorizer of the topology's pool, accepting that pool's app client's ID tokens.
        pool_lid, client_lid = _user_pool(synth, TOPOLOGY.operators_pool.id)
        authorizer = synth.resources[props["AuthorizerId"]["Ref"]]["Properties"]
        assert authorizer["Type"] == "COGNITO_USER_POOLS"
        assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool_lid, "Arn"]}]
        assert authorizer["IdentitySource"] == "method.request.header.Authorization"
        assert authorizer["IdentityValidationExpression"] == {"Fn::Join": ["", ["^", {"Ref": client_lid}, "$"]]}
        assert "AuthorizationScopes" not in props  # no scopes: API Gateway then accepts ID tokens only
    else:
        assert "AuthorizerId" not in props
    integration = props["Integration"]
    if route.target_kind == "function":
        assert integration["Type"] == "AWS_PROXY"
        function_id, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(route.target).name)
        assert {"Fn::GetAtt": [function_id, "Arn"]} in integration["Uri"]["Fn::Join"][1]
    else:
        assert integration["Type"] == "AWS"
        queue_id, _ = synth.one("AWS::SQS::Queue", QueueName=TOPOLOGY.queue(route.target).name)
        assert {"Fn::GetAtt": [queue_id, "QueueName"]} in integration["Uri"]["Fn::Join"][1]
        for header in route.forwarded_headers:
            assert f"method.request.header.{header}" in props["RequestParameters"]
            assert all(header in t for t in integration["RequestTemplates"].values())


def test_every_template_route_is_in_topology(synth):
    declared = {(r.method, r.path) for r in TOPOLOGY.routes}
    in_template = {
        (m["Properties"]["HttpMethod"], _method_path(synth, m))
        for m in synth.of_type("AWS::ApiGateway::Method").values()
    }
    assert in_template == declared


@pytest.mark.parametrize("api", TOPOLOGY.http_apis, ids=lambda a: a.id)
def test_http_api_shape(synth, api):
    """Each HTTP API: its routes (authorization NONE, no authorizer) as payload 2.0 Lambda proxy integrations to the
    topology's function, which only that API's routes may invoke; one $default stage, deployed automatically, with
    the REST stage's throttling and access logs (not the path: it holds the link's token) kept a limited time."""
    from infra.capabilities.api import API_NAME, THROTTLE_BURST, THROTTLE_RATE

    api_lid, resource = synth.one("AWS::ApiGatewayV2::Api", Name=api.name)
    assert resource["Properties"]["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in resource["Properties"]  # opened by a link, never fetched cross-origin
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
              if r["Properties"]["ApiId"] == {"Ref": api_lid}}
    assert sorted(routes) == sorted(f"{r.method} {r.path}" for r in api.routes)
    for route in api.routes:
        props = routes[f"{route.method} {route.path}"]
        assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props
        integration_lid = props["Target"]["Fn::Join"][1][1]["Ref"]
        integration = synth.resources[integration_lid]["Properties"]
        function_lid, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(route.function).name)
        assert integration == {"ApiId": {"Ref": api_lid}, "IntegrationType": "AWS_PROXY",
                               "IntegrationUri": {"Fn::GetAtt": [function_lid, "Arn"]}, "PayloadFormatVersion": "2.0"}
        permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                       if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_lid, "Arn"]}]
        # API Gateway, from this API's routes to the function only (one permission per route)
        assert len(permissions) == sum(1 for r in api.routes if r.function == route.function)
        assert all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)
        sources = [p["SourceArn"]["Fn::Join"][1] for p in permissions]
        assert any({"Ref": api_lid} in source and source[-1] == "/*/*" + route.path for source in sources)
    [stage] = [s["Properties"] for s in synth.of_type("AWS::ApiGatewayV2::Stage").values()
               if s["Properties"]["ApiId"] == {"Ref": api_lid}]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": THROTTLE_BURST,
                                             "ThrottlingRateLimit": THROTTLE_RATE}
    log_lid = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    _, rest_logs = synth.one("AWS::Logs::LogGroup", LogGroupName=f"/aws/apigateway/{API_NAME}/access")
    assert synth.resources[log_lid]["Properties"]["RetentionInDays"] == rest_logs["Properties"]["RetentionInDays"]
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert "$context.requestId" in log_format.values() and "$context.routeKey" in log_format.values()
    assert not any("path" in variable.lower() for variable in log_format.values())


def test_every_template_http_route_is_in_topology(synth):
    names = {lid: r["Properties"]["Name"] for lid, r in synth.of_type("AWS::ApiGatewayV2::Api").items()}
    in_template = {(names[r["Properties"]["ApiId"]["Ref"]], r["Properties"]["RouteKey"])
                   for r in synth.of_type("AWS::ApiGatewayV2::Route").values()}
    assert in_template == {(api.name, f"{r.method} {r.path}") for api in TOPOLOGY.http_apis for r in api.routes}


def test_event_source_mappings_match_topology(synth):
    mappings = list(synth.of_type("AWS::Lambda::EventSourceMapping").values())
    for source in TOPOLOGY.queue_event_sources:
        function_id, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(source.function).name)
        queue_id, _ = synth.one("AWS::SQS::Queue", QueueName=TOPOLOGY.queue(source.queue).name)
        (mapping,) = [m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": function_id}]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert mapping["BatchSize"] == source.batch_size
        assert mapping.get("MaximumBatchingWindowInSeconds", 0) == source.max_batching_window_s
        assert ("ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])) == \
            source.report_batch_item_failures
    for source in TOPOLOGY.stream_event_sources:
        function_id, _ = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(source.function).name)
        table_id, _ = synth.one("AWS::DynamoDB::Table", TableName=TOPOLOGY.table(source.table).name)
        failures_id, _ = synth.one("AWS::SQS::Queue", QueueName=TOPOLOGY.queue(source.on_failure_queue).name)
        (mapping,) = [m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": function_id}]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert mapping["BatchSize"] == source.batch_size
        assert mapping["StartingPosition"] == source.starting_position
        assert mapping["BisectBatchOnFunctionError"] is source.bisect_on_error
        # None: until the record expires (Lambda's -1, whether the template says it or leaves it out)
        limit = -1 if source.max_retry_attempts is None else source.max_retry_attempts
        assert mapping.get("MaximumRetryAttempts", -1) == limit
        assert mapping.get("ParallelizationFactor", 1) == source.parallelization_factor
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [failures_id, "Arn"]}}}
        assert ("ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])) == \
            source.report_batch_item_failures
        deployed_filters = [json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        assert deployed_filters == list(source.filter_patterns)


@pytest.mark.parametrize("source", TOPOLOGY.topic_event_sources, ids=lambda s: f"{s.topic}->{s.function}")
def test_topic_subscriptions_match_topology(synth, source):
    """Each TopicEventSource: one lambda subscription of the topic to the function, redriving what SNS cannot deliver
    to the dead-letter queue (whose policy lets that topic alone send), a Lambda permission for that topic alone, and
    the function's own dead-letter queue (failed asynchronous invocations) the same queue."""
    topic_lid, _ = synth.one("AWS::SNS::Topic", TopicName=TOPOLOGY.topic(source.topic).name)
    function_lid, function = synth.one("AWS::Lambda::Function", FunctionName=TOPOLOGY.function(source.function).name)
    queue_lid, _ = synth.one("AWS::SQS::Queue", QueueName=TOPOLOGY.queue(source.dead_letter_queue).name)
    (subscription,) = [s["Properties"] for s in synth.of_type("AWS::SNS::Subscription").values()
                       if s["Properties"]["TopicArn"] == {"Ref": topic_lid}]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"] == {"Fn::GetAtt": [function_lid, "Arn"]}
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [queue_lid, "Arn"]}}
    (permission,) = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                     if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_lid, "Arn"]}]
    assert (permission["Action"], permission["Principal"]) == ("lambda:InvokeFunction", "sns.amazonaws.com")
    assert permission["SourceArn"] == {"Ref": topic_lid}
    assert function["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_lid, "Arn"]}}
    (queue_policy,) = [p["Properties"]["PolicyDocument"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                       if {"Ref": queue_lid} in p["Properties"]["Queues"]]
    (sns_sends,) = [s for s in queue_policy["Statement"] if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert (sns_sends["Effect"], sns_sends["Action"]) == ("Allow", "sqs:SendMessage")
    assert sns_sends["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_lid}}}


def test_every_template_subscription_is_in_topology(synth):
    """Only the topology's subscriptions (the ops-alerts email, a deploy option, is not a function's)."""
    lambda_subscriptions = [s for s in synth.of_type("AWS::SNS::Subscription").values()
                            if s["Properties"]["Protocol"] == "lambda"]
    assert len(lambda_subscriptions) == len(TOPOLOGY.topic_event_sources)


@pytest.mark.parametrize("topic", [t for t in TOPOLOGY.topics if t.published_by], ids=lambda t: t.id)
def test_a_topic_a_service_publishes_to_lets_that_service_of_this_account_alone(synth, topic):
    """The topic's policy lets the service publish, and its key (its own) lets it encrypt, both only for this
    account's resources of that service in this region (no confused deputy); its ARN is a stack output."""
    topic_lid, resource = synth.one("AWS::SNS::Topic", TopicName=topic.name)
    condition = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                 "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", [
                     "arn:", {"Ref": "AWS::Partition"}, f":{topic.published_by}:", {"Ref": "AWS::Region"}, ":",
                     {"Ref": "AWS::AccountId"}, ":*"]]}}}
    principal = {"Service": f"{topic.published_by}.amazonaws.com"}
    (policy,) = [p["Properties"]["PolicyDocument"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                 if {"Ref": topic_lid} in p["Properties"]["Topics"]]
    (publish,) = [s for s in policy["Statement"] if s.get("Principal") == principal]
    assert (publish["Effect"], publish["Action"], publish["Resource"]) == ("Allow", "sns:Publish", {"Ref": topic_lid})
    assert publish["Condition"] == condition
    key_lid = resource["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    _, alerts = synth.one("AWS::SNS::Topic", TopicName="dawra-ops-alerts")
    assert alerts["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0] != key_lid  # a key of its own
    key = synth.resources[key_lid]["Properties"]
    (use_key,) = [s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == principal]
    assert sorted(use_key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert use_key["Condition"] == condition and key["EnableKeyRotation"] is True
    from infra.capabilities.naming import pascal

    assert synth.template["Outputs"][f"{pascal(topic.id)}TopicArn"]["Value"] == {"Ref": topic_lid}


@pytest.mark.parametrize("pool", TOPOLOGY.user_pools, ids=lambda p: p.id)
def test_user_pool_shape(synth, pool):
    pool_lid, client_lid = _user_pool(synth, pool.id)
    props = synth.resources[pool_lid]["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == pool.min_password_length
    assert all(policy[k] is True for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["MfaConfiguration"] == "OPTIONAL" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["DeletionProtection"] == "ACTIVE" and synth.resources[pool_lid]["DeletionPolicy"] == "Retain"
    assert {a["Name"] for a in props["Schema"] if a["Name"] != "email"} == set(pool.custom_attributes)
    groups = {g["Properties"]["GroupName"]: g["Properties"] for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()
              if g["Properties"]["UserPoolId"] == {"Ref": pool_lid}}
    assert {name: g["Description"] for name, g in groups.items()} == {g.name: g.description for g in pool.groups}
    client = synth.resources[client_lid]["Properties"]
    assert client.get("GenerateSecret", False) is False
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                                   "ALLOW_USER_SRP_AUTH"]
    assert sorted(client["ReadAttributes"]) == sorted(pool.client_read_attributes)
    assert client["PreventUserExistenceErrors"] == "ENABLED"


@pytest.mark.parametrize("machine", TOPOLOGY.state_machines, ids=lambda m: m.id)
def test_state_machine_exists(synth, machine):
    _, resource = synth.one("AWS::StepFunctions::StateMachine", StateMachineName=machine.name)
    assert resource["Properties"]["StateMachineType"] == "STANDARD"


@pytest.mark.parametrize("parameter", TOPOLOGY.parameters, ids=lambda p: p.id)
def test_parameters_exist(synth, parameter):
    name = "".join(p.capitalize() for p in parameter.id.split("-"))
    assert synth.template["Parameters"][name]["Type"] == "String"


# --- IAM: each function role holds exactly TOPOLOGY's grants, plus what the CDK app adds itself -----------------
# Rendered here from the template's own logical ids (not with infra.resolver), and compared as (action, resource)
# pairs: with @aws-cdk/aws-iam:minimizePolicies CDK merges statements that share actions or resources, so the
# statement boundaries of the template are not the grants' boundaries; the pairs are exactly what is allowed.
# Statements the CDK app adds itself (infra/capabilities/functions.py), named one by one:
OWN_LOG_GROUP = ("logs:CreateLogStream", "logs:PutLogEvents")  # on the function's log group
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # on "*"
SQS_MAPPING = ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
               "sqs:GetQueueAttributes")  # SqsEventSource, on its queue
STREAM_MAPPING = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")  # on the stream
STREAM_LIST = ("dynamodb:ListStreams",)  # DynamoEventSource, on "*"
ON_FAILURE = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")  # SqsDlq, on the on-failure queue
ASYNC_DLQ = ("sqs:SendMessage",)  # a topic subscriber's DeadLetterConfig, on its dead-letter queue

_CFN = {
    "table": ("AWS::DynamoDB::Table", "TableName", TOPOLOGY.tables),
    "queue": ("AWS::SQS::Queue", "QueueName", TOPOLOGY.queues),
    "topic": ("AWS::SNS::Topic", "TopicName", TOPOLOGY.topics),
    "secret": ("AWS::SecretsManager::Secret", "Name", TOPOLOGY.secrets),
    "state_machine": ("AWS::StepFunctions::StateMachine", "StateMachineName", TOPOLOGY.state_machines),
    "configuration_set": ("AWS::SES::ConfigurationSet", "Name", TOPOLOGY.configuration_sets),
}


def _token(synth, ref: Ref):
    if ref.kind == "parameter":
        return {"Ref": "".join(p.capitalize() for p in ref.id.split("-"))}
    if ref.kind == "schedule_group":
        group_lid, role_lid = _schedule_group(synth, ref.id)
        return {"name": {"Ref": group_lid}, "role_arn": {"Fn::GetAtt": [role_lid, "Arn"]}}[ref.attr]
    if ref.kind == "bucket":
        lid = _bucket(synth, ref.id)
        return {"name": {"Ref": lid}, "arn": {"Fn::GetAtt": [lid, "Arn"]}}[ref.attr]
    cfn_type, name_prop, specs = _CFN[ref.kind]
    lid, _ = synth.one(cfn_type, **{name_prop: next(s.name for s in specs if s.id == ref.id)})
    return {
        ("table", "arn"): {"Fn::GetAtt": [lid, "Arn"]},
        ("table", "stream_arn"): {"Fn::GetAtt": [lid, "StreamArn"]},
        ("queue", "arn"): {"Fn::GetAtt": [lid, "Arn"]},
        ("topic", "arn"): {"Ref": lid},
        ("secret", "arn"): {"Ref": lid},
        ("state_machine", "arn"): {"Ref": lid},
        ("configuration_set", "name"): {"Ref": lid},
    }[(ref.kind, ref.attr)]


def _rendered(synth, resource):
    if isinstance(resource, AnyResource):
        return "*"
    if isinstance(resource, EveryArn):
        return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{resource.service}:*:*:*"]]}
    if isinstance(resource, Arn):
        token = _token(synth, resource.ref)
        return {"Fn::Join": ["", [token, resource.suffix]]} if resource.suffix else token
    name = _token(synth, resource.name)
    if resource.domain_of:
        name = {"Fn::Select": [1, {"Fn::Split": ["@", name]}]}
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{resource.service}:", {"Ref": "AWS::Region"},
                              ":", {"Ref": "AWS::AccountId"}, f":{resource.resource_type}/", name,
                              *([resource.suffix] if resource.suffix else [])]]}


def _pairs(actions, resources, effect: str = "Allow") -> set[tuple[str, str, str]]:
    return {(effect, action, json.dumps(resource, sort_keys=True)) for action in actions for resource in resources}


def _added_by_infra(synth, function) -> set[tuple[str, str]]:
    log_group, _ = synth.one("AWS::Logs::LogGroup", LogGroupName=f"/aws/lambda/{function.name}")
    pairs = _pairs(OWN_LOG_GROUP, [{"Fn::GetAtt": [log_group, "Arn"]}]) | _pairs(XRAY, ["*"])
    for source in TOPOLOGY.queue_event_sources:
        if source.function == function.id:
            pairs |= _pairs(SQS_MAPPING, [_token(synth, Ref(kind="queue", id=source.queue, attr="arn"))])
    for source in TOPOLOGY.stream_event_sources:
        if source.function == function.id:
            pairs |= _pairs(STREAM_MAPPING, [_token(synth, Ref(kind="table", id=source.table, attr="stream_arn"))])
            pairs |= _pairs(STREAM_LIST, ["*"])
            pairs |= _pairs(ON_FAILURE, [_token(synth, Ref(kind="queue", id=source.on_failure_queue, attr="arn"))])
    for subscribed in TOPOLOGY.topic_event_sources:
        if subscribed.function == function.id:
            pairs |= _pairs(ASYNC_DLQ, [_token(synth, Ref(kind="queue", id=subscribed.dead_letter_queue, attr="arn"))])
    return pairs


@pytest.mark.parametrize("function", TOPOLOGY.functions, ids=lambda f: f.id)
def test_function_role_holds_exactly_the_topology_grants(synth, function):
    _, resource = synth.one("AWS::Lambda::Function", FunctionName=function.name)
    role_id = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    in_template = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert set(statement) == {"Action", "Effect", "Resource"}, statement
                actions, resources = statement["Action"], statement["Resource"]
                in_template |= _pairs([actions] if isinstance(actions, str) else actions,
                                      resources if isinstance(resources, list) else [resources], statement["Effect"])
    granted = set().union(*(_pairs(g.actions, [_rendered(synth, r) for r in g.resources], g.effect)
                            for g in function.grants))
    added = _added_by_infra(synth, function)
    assert not granted & added, "a grant repeats what the CDK app adds itself"
    assert added <= in_template, sorted(added - in_template)
    assert in_template - added == granted


def test_star_reasons_from_the_topology_are_the_role_acknowledgments(synth):
    for function in TOPOLOGY.functions:
        _, resource = synth.one("AWS::Lambda::Function", FunctionName=function.name)
        role = synth.resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        (reason,) = [rule["reason"] for rule in role["Metadata"]["cdk_nag"]["rules_to_suppress"]
                     if rule["id"] == "AwsSolutions-IAM5[Resource::*]"]
        for grant in function.grants:
            for star in (r for r in grant.resources if isinstance(r, AnyResource)):
                assert star.reason in reason


@pytest.mark.parametrize("group", TOPOLOGY.schedule_groups, ids=lambda g: g.id)
def test_schedule_group_role_is_the_schedulers_for_that_group_only_and_holds_exactly_its_grants(synth, group):
    group_lid, role_lid = _schedule_group(synth, group.id)
    assert synth.resources[group_lid]["DeletionPolicy"] == "Retain"  # pending jobs are data (cdk.json default)
    role = synth.resources[role_lid]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                  "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [group_lid, "Arn"]}}}
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    in_template = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_lid} in policy["Properties"]["Roles"]:
            assert policy["Properties"]["Roles"] == [{"Ref": role_lid}]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert set(statement) == {"Action", "Effect", "Resource"}, statement
                actions, resources = statement["Action"], statement["Resource"]
                in_template |= _pairs([actions] if isinstance(actions, str) else actions,
                                      resources if isinstance(resources, list) else [resources], statement["Effect"])
    granted = set().union(*(_pairs(g.actions, [_rendered(synth, r) for r in g.resources], g.effect)
                            for g in group.grants))
    assert in_template == granted == _pairs(["sqs:SendMessage"], [_token(synth, Ref(kind="queue", id=queue, attr="arn"))
                                                                  for queue in group.queues])
