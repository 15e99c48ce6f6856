"""cfn-lint and cdk-nag (AwsSolutions) on the synthesised template."""

from __future__ import annotations

import json

from cfnlint.api import ManualArgs, lint

# Regions Dawra is meant for (SES, SMS, Step Functions, API Gateway all present); linting against every region
# would report resource types that some regions lack (e.g. SES), which says nothing about this template.
LINT_REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "me-south-1", "me-central-1", "ap-southeast-1"]


def test_cfn_lint_reports_no_errors(synth):
    template = (synth.outdir / "Dawra.template.json").read_text()
    matches = lint(template, config=ManualArgs(regions=LINT_REGIONS))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_cdk_nag_has_no_unsuppressed_findings(synth):
    report = synth.nag.validate_scope(synth.app)
    findings = [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
    assert findings == []
    assert report.success


def test_every_suppression_carries_a_reason(synth):
    from infra.capabilities.nag import MIN_REASON_LENGTH

    suppressions = []
    for logical_id, resource in synth.resources.items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            suppressions.append((logical_id, rule["id"], rule.get("reason", "")))
    assert suppressions, "the suppressions are written to the template for the audit trail"
    for logical_id, rule_id, reason in suppressions:
        assert rule_id.startswith("AwsSolutions-"), rule_id
        assert len(reason.strip()) >= MIN_REASON_LENGTH, (logical_id, rule_id, reason)


def test_suppressed_rules_are_the_known_few(synth):
    # A new kind of suppression is a design decision: it has to be added here (and to docs/deploy.md) on purpose.
    known = {
        "AwsSolutions-IAM5[Resource::*]", "AwsSolutions-L1", "AwsSolutions-SQS3", "AwsSolutions-SMG4",
        "AwsSolutions-APIG3", "AwsSolutions-APIG4", "AwsSolutions-COG4", "AwsSolutions-COG2",
        ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]"),
    }
    # A scheduling function's CreateSchedule on its group's schedules, any name (topology.schedules.SCHEDULE_LATER).
    known |= {f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:"
              f"schedule/<{group}>/*]" for group in synth.of_type("AWS::Scheduler::ScheduleGroup")}
    # The function keeping rendered tax documents: their objects under one prefix, any name (decision 87).
    known |= {f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/tax-documents/*]" for bucket in synth.of_type("AWS::S3::Bucket")}
    known |= {"AwsSolutions-S1"}  # the documents bucket's server access logs (docs/deploy.md)
    # The stock-feeds function reading the feeds bucket's objects, any key (dawra/topology/stock_feeds.py).
    known |= {f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]" for bucket in synth.of_type("AWS::S3::Bucket")}
    seen = {
        rule["id"]
        for resource in synth.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert seen <= known, seen - known
    assert json.dumps(sorted(seen))
