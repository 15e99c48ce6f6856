"""The local stack creates exactly what dawra.topology describes (the CDK app is checked against it in tests/infra)."""

from dawra.topology import TOPOLOGY


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

    assert [(r.method, r.path) for r, _ in local_stack.gateway.routes] == [(r.method, r.path)
                                                                            for r in TOPOLOGY.routes]
