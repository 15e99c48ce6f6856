"""Deploy risks the template must not carry: alarms that cannot reach their topic, logs kept forever, CDK feature flags
left at their legacy values."""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ALARM_SOURCE = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":",
                                  {"Ref": "AWS::AccountId"}, ":alarm:*"]]}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _cloudwatch_statements(document: dict) -> list[dict]:
    return [s for s in document["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]


def _assert_only_alarms_of_this_account(statement: dict) -> None:
    # No confused deputy: CloudWatch acts for this account's alarms (in this region) only.
    assert statement["Effect"] == "Allow"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == ALARM_SOURCE


def test_cloudwatch_alarms_can_publish_to_the_ops_topic(synth):
    topic_id, topic = synth.one("AWS::SNS::Topic", TopicName="dawra-ops-alerts")
    # Every alarm notifies this topic (tests/infra/test_infra_template.py), so CloudWatch must be able to publish.
    assert synth.of_type("AWS::CloudWatch::Alarm")

    # The topic policy (enforce-SSL makes one, replacing SNS's default policy) lets CloudWatch publish.
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                 if {"Ref": topic_id} in p["Properties"]["Topics"]]
    document = policy["PolicyDocument"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in document["Statement"]), "publishing stays TLS-only"
    (publish,) = _cloudwatch_statements(document)
    assert _as_list(publish["Action"]) == ["sns:Publish"]
    assert publish["Resource"] == {"Ref": topic_id}
    _assert_only_alarms_of_this_account(publish)

    # The topic is encrypted with a key of its own, whose policy lets CloudWatch use it, with the same conditions.
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = synth.resources[key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    (use_key,) = _cloudwatch_statements(key["Properties"]["KeyPolicy"])
    assert sorted(_as_list(use_key["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert use_key["Resource"] == "*"  # in a key policy: this key
    _assert_only_alarms_of_this_account(use_key)


def test_every_log_group_has_a_retention(synth):
    log_groups = synth.of_type("AWS::Logs::LogGroup")
    assert {lid: g["Properties"].get("RetentionInDays") for lid, g in log_groups.items()
            if not g["Properties"].get("RetentionInDays")} == {}
    names = [json.dumps(g["Properties"]["LogGroupName"]) for g in log_groups.values()]
    # The state machine's, API Gateway's access logs and its execution logs (a group API Gateway would otherwise
    # create itself, kept forever), besides one per function.
    assert any("/aws/vendedlogs/states/" in n for n in names)
    assert any("/aws/apigateway/" in n and "/access" in n for n in names)
    (execution_id,) = [lid for lid, g in log_groups.items()
                       if "API-Gateway-Execution-Logs_" in json.dumps(g["Properties"]["LogGroupName"])]
    (api_id,) = synth.of_type("AWS::ApiGateway::RestApi")
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    assert log_groups[execution_id]["Properties"]["LogGroupName"] == {
        "Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": api_id}, f"/{stage['Properties']['StageName']}"]]}
    assert execution_id in stage["DependsOn"], "the group must exist before API Gateway writes (and creates) it"
    assert stage["Properties"]["MethodSettings"][0]["LoggingLevel"] != "OFF"


def _recommended_feature_flags() -> dict:
    """The flags aws-cdk-lib itself recommends (the ones `cdk init` writes), read from the installed package."""
    package = Path(importlib.util.find_spec("aws_cdk").origin).parent
    (tarball,) = (package / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        return json.load(archive.extractfile("package/recommended-feature-flags.json"))


def test_every_recommended_feature_flag_is_set(synth):
    recommended = _recommended_feature_flags()
    assert len(recommended) > 80
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    assert sorted(set(recommended) - set(context)) == [], "run `npx cdk flags --unstable=flags` to see them"
    assert {flag: context[flag] for flag in recommended if context[flag] != recommended[flag]} == {}
    # The synthesised app ran with them (the tests synthesise with cdk.json's context).
    assert synth.app.node.try_get_context("@aws-cdk/core:explicitStackTags") is True
