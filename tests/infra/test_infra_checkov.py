"""checkov (pinned in pyproject's infra group) on the synthesised template: no failed check. A finding is fixed in
the CDK app or skipped on its resource with a reason (``infra/capabilities/nag.py`` ``skip_checkov``; the list and
the reasons are in docs/deploy.md).

checkov runs offline: ``--skip-download`` (no Bridgecrew/Prisma platform calls: policy metadata, guidelines, custom
policies), ``BC_SKIP_MAPPING=TRUE`` (no check-id mapping download), no API key; and it runs under a guard that
refuses any internet connection and reports it, so a checkov upgrade that starts phoning home fails this test
instead of hanging it or leaking the template's shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Runs checkov's CLI in this interpreter with outbound connections (and name lookups) refused and reported.
OFFLINE_CHECKOV = r"""
import runpy, socket, sys

def refuse(*args, **kwargs):
    sys.stderr.write(f"NETWORK ATTEMPT {args!r}\n")
    raise OSError("checkov runs offline in the tests")

socket.getaddrinfo = refuse
socket.create_connection = refuse
_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse(address)
    return _connect(self, address)
socket.socket.connect = connect
socket.socket.connect_ex = connect
sys.argv = ["checkov", *sys.argv[1:]]
runpy.run_module("checkov.main", run_name="__main__", alter_sys=True)
"""
# A new kind of skip is a decision: add it here and to docs/deploy.md on purpose.
KNOWN_SKIPS = {
    "CKV_AWS_27",  # SQS: SSE-SQS, which the check does not recognise
    "CKV_AWS_111",  # notify: sns:Publish on * (SMS), narrowed by a Deny on every SNS ARN
    "CKV_AWS_115",  # Lambda reserved concurrency
    "CKV_AWS_116",  # Lambda DLQ (no asynchronous invocation)
    "CKV_AWS_117",  # Lambda in a VPC
    "CKV_AWS_119",  # DynamoDB customer-managed key
    "CKV_AWS_120",  # API cache
    "CKV_AWS_149",  # Secrets Manager customer-managed key
    "CKV_AWS_158",  # CloudWatch Logs customer-managed key
    "CKV_AWS_173",  # Lambda environment encryption with a customer-managed key
    "CKV_AWS_59",  # the carrier webhook route (HMAC-verified downstream)
    "CKV_AWS_18",  # the documents bucket's access logs (rendered copies of documents kept in DynamoDB)
}


@pytest.fixture(scope="module")
def checkov(synth) -> dict:
    template = synth.outdir / "Dawra.template.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BC_", "PRISMA_", "CKV_"))}
    env.update({"BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"})
    done = subprocess.run(  # noqa: S603 - fixed arguments: this interpreter, checkov, the synthesised template
        [sys.executable, "-c", OFFLINE_CHECKOV, "-f", str(template), "--framework", "cloudformation",
         "--skip-download", "--compact", "--output", "json"],
        check=False, capture_output=True, text=True, env=env, cwd=synth.outdir, timeout=240,
    )
    assert "NETWORK ATTEMPT" not in done.stderr, done.stderr[-2000:]
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: failed checks, asserted on below with details
    # checkov 3.1.47's CKV_AWS_364 check print()s "Not a service principal" to stdout for each AWS::Lambda::Permission
    # whose principal is not a service (a function URL's principal "*" did): lines before the JSON document.
    _, brace, document = done.stdout.partition("{")
    assert brace, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(brace + document)
    assert report["check_type"] == "cloudformation"
    return report


def _skips_in_template(synth) -> list[tuple[str, str, str]]:
    return [(logical_id, skip["id"], skip.get("comment", ""))
            for logical_id, resource in synth.resources.items()
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]


def test_checkov_finds_nothing(checkov):
    summary = checkov["summary"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in checkov["results"]["failed_checks"]]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 100 and summary["resource_count"] > 50, summary  # it really read the template


def test_every_checkov_skip_has_a_reason_and_is_honoured(synth, checkov):
    from infra.capabilities.nag import MIN_REASON_LENGTH

    skips = _skips_in_template(synth)
    for logical_id, check_id, comment in skips:
        assert len(comment.strip()) >= MIN_REASON_LENGTH, (logical_id, check_id, comment)
    assert {check_id for _, check_id, _ in skips} <= KNOWN_SKIPS
    # Each skip is one checkov applied: the check exists and runs on that resource (a mistyped id, or a skip on a
    # resource the check does not inspect, would show here).
    applied = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in checkov["results"]["skipped_checks"]}
    assert applied == {(logical_id, check_id) for logical_id, check_id, _ in skips}
