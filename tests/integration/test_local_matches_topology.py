"""The local stack creates exactly what dawra.topology describes (the CDK app is checked against it in tests/infra)."""

from dawra.local.cloud import GRANTS_POLICY, ROLE_PREFIX, SCHEDULER_ROLE_PREFIX
from dawra.topology import TOPOLOGY, AnyResource, Arn, NamedArn, Ref


def test_tables_queues_topics_functions_state_machines_and_routes(local_stack):
    cloud = local_stack.cloud
    ddb = cloud.client("dynamodb")
    assert sorted(ddb.list_tables()["TableNames"]) == sorted(t.name for t in TOPOLOGY.tables)
    for table in TOPOLOGY.tables:
        described = ddb.describe_table(TableName=table.name)["Table"]
        assert [k["AttributeName"] for k in described["KeySchema"]] == [
            k for k in (table.keys.partition_key, table.keys.sort_key) if k]
        assert sorted(i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])) == sorted(
            i.name for i in table.indexes)
        assert described.get("StreamSpecification", {}).get("StreamViewType") == table.stream

    queue_urls = cloud.client("sqs").list_queues()["QueueUrls"]
    assert sorted(url.rsplit("/", 1)[1] for url in queue_urls) == sorted(q.name for q in TOPOLOGY.queues)

    buckets = cloud.client("s3").list_buckets()["Buckets"]
    assert sorted(b["Name"] for b in buckets) == sorted(b.name for b in TOPOLOGY.buckets)

    topics = cloud.client("sns").list_topics()["Topics"]
    assert sorted(t["TopicArn"].rsplit(":", 1)[1] for t in topics) == sorted(t.name for t in TOPOLOGY.topics)

    functions = {f["FunctionName"]: f for f in cloud.client("lambda").list_functions()["Functions"]}
    assert sorted(functions) == sorted(f.name for f in TOPOLOGY.functions)
    for function in TOPOLOGY.functions:
        config = functions[function.name]
        assert config["Handler"] == function.handler
        assert (config["MemorySize"], config["Timeout"]) == (function.memory_mb, function.timeout_s)
        names = set(config["Environment"]["Variables"])
        assert set(function.environment) <= names

    machines = cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    assert sorted(m["name"] for m in machines) == sorted(m.name for m in TOPOLOGY.state_machines)

    configuration_sets = cloud.client("ses").list_configuration_sets()["ConfigurationSets"]
    assert sorted(c["Name"] for c in configuration_sets) == sorted(c.name for c in TOPOLOGY.configuration_sets)

    groups = cloud.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    assert sorted(g["Name"] for g in groups if g["Name"] != "default") == sorted(
        g.name for g in TOPOLOGY.schedule_groups)

    assert [(r.method, r.path) for r, _ in local_stack.gateway.routes] == [(r.method, r.path)
                                                                            for r in TOPOLOGY.routes]


def test_http_apis_are_recorded_and_served_as_the_topology_declares(local_stack):
    """Each HTTP API: recorded in the embedded cloud (routes without an authorizer, payload 2.0 proxy integrations to
    the route's function, a $default stage), served by its own local server, and its URL (no trailing "/") is what
    the functions naming it were given."""
    v2 = local_stack.cloud.client("apigatewayv2")
    apis = {api["Name"]: api for api in v2.get_apis()["Items"]}
    assert sorted(apis) == sorted(api.name for api in TOPOLOGY.http_apis)
    for spec in TOPOLOGY.http_apis:
        api_id = apis[spec.name]["ApiId"]
        assert apis[spec.name]["ProtocolType"] == "HTTP"
        integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api_id)["Items"]}
        routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
        assert sorted(routes) == sorted(f"{r.method} {r.path}" for r in spec.routes)
        for route in spec.routes:
            deployed = routes[f"{route.method} {route.path}"]
            assert deployed["AuthorizationType"] == "NONE"
            integration = integrations[deployed["Target"].removeprefix("integrations/")]
            assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
            assert integration["IntegrationUri"] == local_stack.cloud.arn(
                "function", TOPOLOGY.function(route.function).name)
        assert [s["StageName"] for s in v2.get_stages(ApiId=api_id)["Items"]] == ["$default"]
        server = local_stack.http_apis[spec.id]
        assert server.url == local_stack.cloud.resolve_ref("http_api", spec.id, "url")
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith("/")
        for function in TOPOLOGY.functions:  # whoever names the API was given that URL
            for name, value in function.environment.items():
                if isinstance(value, Ref) and value.kind == "http_api" and value.id == spec.id:
                    variables = local_stack.cloud.client("lambda").get_function_configuration(
                        FunctionName=function.name)["Environment"]["Variables"]
                    assert variables[name] == server.url


def test_each_function_runs_with_a_role_holding_its_rendered_grants(local_stack):
    """One role per function (dawra-local-<id>); its inline policy is the topology's grants rendered with local ARNs
    by the same resolver as the environment (the template's roles are held to the same grants in tests/infra)."""
    cloud = local_stack.cloud
    iam, lambda_ = cloud.client("iam"), cloud.client("lambda")
    for function in TOPOLOGY.functions:
        role = iam.get_role(RoleName=ROLE_PREFIX + function.id)["Role"]
        assert lambda_.get_function(FunctionName=function.name)["Configuration"]["Role"] == role["Arn"]
        assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == [GRANTS_POLICY]
        document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=GRANTS_POLICY)["PolicyDocument"]
        assert document == cloud.policy_document(function)
        for statement, grant in zip(document["Statement"], function.grants, strict=True):
            assert tuple(statement["Action"]) == grant.actions
            for rendered, resource in zip(statement["Resource"], grant.resources, strict=True):
                assert (rendered == "*") == isinstance(resource, AnyResource), rendered
    # Every resource a grant names exists locally, under the ARN the grant was rendered with.
    tables = {cloud.client("dynamodb").describe_table(TableName=t.name)["Table"]["TableArn"] for t in TOPOLOGY.tables}
    secrets = {s["ARN"] for s in cloud.client("secretsmanager").list_secrets()["SecretList"]}
    topics = {t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]}
    machines = {m["stateMachineArn"] for m in cloud.client("stepfunctions").list_state_machines()["stateMachines"]}
    identities = set(cloud.client("ses").list_identities()["Identities"])
    sets = {c["Name"] for c in cloud.client("ses").list_configuration_sets()["ConfigurationSets"]}
    roles = {r["Arn"] for r in iam.list_roles(MaxItems=1000)["Roles"]}
    groups = {g["Name"] for g in cloud.client("scheduler").list_schedule_groups()["ScheduleGroups"]}
    buckets = {f"arn:aws:s3:::{b['Name']}" for b in cloud.client("s3").list_buckets()["Buckets"]}
    sqs = cloud.client("sqs")
    queues = {sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
              for url in sqs.list_queues().get("QueueUrls", [])}  # the partner-outbound queue's senders (decision 97)
    for function in TOPOLOGY.functions:
        for grant in function.grants:
            for resource in grant.resources:
                rendered = cloud.resolve_resource(resource)
                if isinstance(resource, Arn):
                    assert rendered.removesuffix(resource.suffix) in (tables | secrets | topics | machines | roles
                                                                 | buckets | queues), \
                        rendered
                elif isinstance(resource, NamedArn) and resource.service == "scheduler":  # a group's schedules
                    assert rendered.split(":schedule/", 1)[1].removesuffix(resource.suffix) in groups, rendered
                elif isinstance(resource, NamedArn) and resource.resource_type == "identity":
                    name = rendered.split("/", 1)[1]
                    assert name in identities or any(i.endswith("@" + name) for i in identities), rendered
                elif isinstance(resource, NamedArn):
                    assert rendered.rsplit("/", 1)[1] in sets, rendered


def test_each_schedule_group_runs_its_schedules_with_a_role_that_may_only_send_to_its_queues(local_stack):
    """The role the scheduler assumes: trusted by the scheduler for this group of this account, its inline policy
    the group's grants rendered with local ARNs (sqs:SendMessage on the group's queues, later-jobs and ops-jobs; the
    template's role is held to the same grants in tests/infra)."""
    cloud = local_stack.cloud
    iam = cloud.client("iam")
    for group in TOPOLOGY.schedule_groups:
        role = iam.get_role(RoleName=SCHEDULER_ROLE_PREFIX + group.id)["Role"]
        assert role["Arn"] == cloud.resolve_ref("schedule_group", group.id, "role_arn")
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": cloud.account}
        assert trust["Condition"]["ArnEquals"] == {
            "aws:SourceArn": cloud.client("scheduler").get_schedule_group(Name=group.name)["Arn"]}
        assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == [GRANTS_POLICY]
        document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=GRANTS_POLICY)["PolicyDocument"]
        assert document == cloud.grants_document(group.grants)
        assert document["Statement"] == [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [
            cloud.resolve_ref("queue", queue, "arn") for queue in group.queues]}]


def test_each_topic_event_source_is_a_lambda_subscription_with_its_dead_letter_queue(local_stack):
    """As the CDK app subscribes them (tests/infra holds the template to the same): the topic's lambda subscription
    of the function, redriving to the dead-letter queue, and a Lambda permission for that topic alone; the embedded
    cloud sends what the function fails on to the same queue (moto's Lambda keeps no DeadLetterConfig)."""
    import json

    cloud = local_stack.cloud
    sns, lambda_ = cloud.client("sns"), cloud.client("lambda")
    lambda_subscriptions = [s for s in sns.list_subscriptions()["Subscriptions"] if s["Protocol"] == "lambda"]
    assert len(lambda_subscriptions) == len(TOPOLOGY.topic_event_sources)
    for source in TOPOLOGY.topic_event_sources:
        topic_arn = cloud.resolve_ref("topic", source.topic, "arn")
        function = TOPOLOGY.function(source.function)
        (subscription,) = [s for s in lambda_subscriptions if s["TopicArn"] == topic_arn]
        assert subscription["Endpoint"] == cloud.resolve_ref("function", function.id, "arn")
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": cloud.resolve_ref("queue", source.dead_letter_queue, "arn")}
        (statement,) = json.loads(lambda_.get_policy(FunctionName=function.name)["Policy"])["Statement"]
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": topic_arn}}
        assert cloud.lambdas.subscriptions[function.name].dead_letter_queue_url == cloud.resolve_ref(
            "queue", source.dead_letter_queue, "url")
