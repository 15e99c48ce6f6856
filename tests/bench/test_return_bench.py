"""The returns benchmark (bench/returns.py): one return counted on a tiny run against what the embedded cloud itself
saw, none of its order's requests among them; the report's section 5; `--only returns` merging into results.json."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import counting, report
from bench import returns as returns_bench
from bench.lifecycle import Bench, settle
from dawra.local.cloud import ACCOUNT, REGION

ORDER_FUNCTIONS = ("dawra-orders-api", "dawra-allocate-stock", "dawra-ship-order", "dawra-later-jobs")


@pytest.mark.timeout(180)
def test_one_return_is_counted_as_the_cloud_saw_it_and_apart_from_its_order():
    from moto.ses.models import ses_backends

    counting.install()
    with Bench(aws_port=0) as bench:
        desk = returns_bench.Desk(bench)
        order_id = bench.carry(returns_bench.PRAYER_MAT_ORDER)
        settle(bench)
        sent_before = len(ses_backends[ACCOUNT][REGION].sent_messages)
        invocations_before = sum(bench.stack.cloud.lambdas.invocations.values())
        figures = returns_bench.measure_return(bench, desk, returns_bench.STANDARD, delivered=[order_id])
        sent = ses_backends[ACCOUNT][REGION].sent_messages[sent_before:]
        history = bench.history_of(returns_bench.return_execution_arn(bench, figures["return_ids"][0]))

        assert figures["returns_measured"] == 1 and figures["order_ids"] == [order_id]
        # every Lambda invocation the embedded cloud ran was counted, and none of them was the order's lifecycle
        assert figures["lambda_invocations"] == sum(bench.stack.cloud.lambdas.invocations.values()) - invocations_before
        assert not set(ORDER_FUNCTIONS) & set(figures["lambda_invocations_by_function"])
        assert figures["lambda_invocations_by_function"]["dawra-customer"] == 3  # form, review, confirm
        assert figures["lambda_invocations_by_function"]["dawra-console"] == 1  # the inspection
        # the customer's three requests, the carrier's two webhooks (each stored in SQS), the warehouse's one post
        assert figures["apigw_requests"] == 6
        assert figures["requests"]["sqs:SendMessage"] == 2
        assert figures["requests"]["stepfunctions:StartExecution"] == 1
        # transitions are the return execution's entered states, on the path of a return needing no approval
        entered = [e for e in history if e["type"].endswith("StateEntered")]
        assert figures["state_transitions"] == len(entered) > 0
        assert history[-1]["type"] == "ExecutionSucceeded"
        assert "WaitForApproval" not in figures["return_states"] and figures["return_states"][-1] == "Closed"
        # the emails the cloud accepted are the counted SES requests, each about the return, none about the order
        assert figures["ses_requests"] == len(sent) > 0
        assert all(any(word in message.subject.lower() for word in ("return", "refund")) for message in sent), [
            m.subject for m in sent]
        assert figures["dynamodb_write_units"] >= figures["requests"]["dynamodb:TransactWriteItems"]


def _figures(**overrides) -> dict:
    base = {
        "returns_measured": 3, "lambda_invocations": 16.0, "state_transitions": 9.0, "dynamodb_write_units": 61.5,
        "dynamodb_read_units": 34.0, "sqs_requests": 6.0, "sns_requests": 0.0, "ses_requests": 4.0,
        "apigw_requests": 6.0, "secretsmanager_requests": 0.0, "stepfunctions_api_requests": 3.0,
        "lambda_invocations_by_function": {"dawra-customer": 3.0, "dawra-return-tasks": 6.0},
        "requests": {"lambda:Invoke": 16.0, "ses:SendEmail": 4.0},
        "cost_breakdown_per_1000_usd": {"stepfunctions": 0.225, "ses": 0.4}, "cost_per_1000_usd": 0.7034,
        "return_states": ["ReturnRequested", "Refund", "Closed"], "empty_sqs_receives_not_per_order": 50.0,
        "wru_by_operation": {"TransactWriteItems": 57.5, "PutItem": 4.0}, "rru_by_operation": {"Query": 31.5},
        "transact_write_requests": 9.5, "transact_write_items": 25.5,
        "dynamodb_streams_requests_not_billed": 80.0, "scheduler_emulation_not_per_order": 25.0,
    }
    return {**base, **overrides}


PER_RETURN = {
    "standard": _figures(),
    "approval_first": _figures(returns_measured=2, lambda_invocations=19.0, cost_per_1000_usd=0.8724,
                               lambda_invocations_by_function={"dawra-customer": 3.0, "dawra-console": 2.0},
                               requests={"lambda:Invoke": 19.0, "stepfunctions:SendTaskSuccess": 3.0}),
    "label_download": {"apigw_requests": 1.0, "lambda_invocations": 1.0, "dynamodb_read_units": 2.0,
                       "wall_ms": 349.7, "pdf_bytes": 16205, "cost_per_1000_usd": 0.0063},
    "wall_s": 40.0,
}


def test_the_report_shows_both_kinds_of_return_and_says_the_label_render_is_apart():
    text = "\n".join(report._per_return(PER_RETURN))

    assert "## 5. What one return costs on AWS" in text
    assert "| Per return | Standard policy | Approval first (inspect-first) |" in text
    assert "| Lambda invocations | 16 | 19 |" in text
    assert "| Cost per 1,000 returns (USD) | 0.7034 | 0.8724 |" in text
    assert "averaged over 3 standard and 2 approval-first returns" in text
    # a function or request only one kind has is shown for both, 0 for the other
    assert "console 0 / 2" in text and "return-tasks 6 / 0" in text
    assert "stepfunctions:SendTaskSuccess 0 / 3" in text
    assert "not in the per-return figures" in text and "349.7 ms" in text and "15.8 KB" in text

    only_standard = {k: v for k, v in PER_RETURN.items() if k != "approval_first"}
    assert "| Per return | Standard policy |\n" in "\n".join(report._per_return(only_standard))


def test_only_returns_merges_its_figures_into_the_results_and_renders_them(tmp_path, monkeypatch):
    from bench import __main__ as main_module

    results = json.loads((REPO_ROOT / "bench" / "results.json").read_text())
    results.pop("per_return", None)
    (tmp_path / "results.json").write_text(json.dumps(results))
    seconds = {"lambda_seconds_by_function": {"dawra-customer": 0.3}}
    measured = {"standard": _figures(**seconds),
                "label_download": {**_figures(**seconds), **PER_RETURN["label_download"]}}
    monkeypatch.setattr(main_module.lifecycle, "Bench", lambda **_: nullcontext(object()))
    monkeypatch.setattr(main_module.returns_bench, "measure", lambda bench, repeat, approval: measured)

    assert main_module.main(["--only", "returns", "--per-return-repeat", "2", "--output", str(tmp_path)]) == 0

    merged = json.loads((tmp_path / "results.json").read_text())
    assert merged["checkout"] == results["checkout"]  # the other parts kept as they were
    assert merged["arguments"]["per_return_repeat"] == 2
    assert merged["per_return"]["standard"]["cost_per_1000_usd"] == round(
        sum(merged["per_return"]["standard"]["cost_breakdown_per_1000_usd"].values()), 4) > 0
    rendered = (tmp_path / "RESULTS.md").read_text()
    assert "## 5. What one return costs on AWS" in rendered
    assert f"`python -m bench --only returns`) on {merged['per_return']['generated_at']}" in rendered
