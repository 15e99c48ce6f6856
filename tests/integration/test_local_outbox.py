"""Local-only HTTP extras: the outbox at GET /_local/outbox; moto's /moto-api/data.json on the AWS endpoint.

Uses the module-scoped, seeded `local_stack` of tests/conftest.py (gateway and moto's endpoint on 127.0.0.1).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict

import pytest

pytestmark = pytest.mark.timeout(90)


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def moto_data(stack) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(f"{stack.aws_endpoint}/moto-api/data.json", timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()[:200]


def test_moto_data_json_answers_with_in_process_lambda_functions(local_stack):
    """It answered 500 as soon as the functions existed, before any order: LambdaFunction.docker_client
    needs a Docker daemon."""
    status, data = moto_data(local_stack)
    assert status == 200, data
    names = {function["function_name"] for function in data["awslambda"]["LambdaFunction"]}
    assert {function.name for function in local_stack.cloud.topology.functions} <= names


def test_outbox_over_http_is_the_stacks_outbox_in_send_order(local_stack):
    sender = local_stack.cloud.resolve_ref("parameter", "sender-email", "value")  # verified by the cloud
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    ses, sns = local_stack.cloud.client("ses"), local_stack.cloud.client("sns")
    ses.send_email(Source=sender, Destination={"ToAddresses": [to]},
                   Message={"Subject": {"Data": "First"}, "Body": {"Text": {"Data": "one"}}})
    sns.publish(PhoneNumber="+966501234567", Message="مرحبا: second")
    ses.send_email(Source=sender, Destination={"ToAddresses": [to]},
                   Message={"Subject": {"Data": "Third"}, "Body": {"Text": {"Data": "three"}}})

    status, body = http("GET", f"{local_stack.gateway.url}/_local/outbox")
    assert status == 200
    assert body == {"messages": [asdict(message) for message in local_stack.outbox()]}
    assert [(m["channel"], m["subject"] or m["body"]) for m in body["messages"][-3:]] == [
        ("email", "First"), ("sms", "مرحبا: second"), ("email", "Third")]
    assert body["messages"][-1] == {"channel": "email", "to": to, "subject": "Third", "body": "three"}


def test_other_local_paths_are_not_found_and_not_routes(local_stack):
    for path in ("/_local/nothing", "/_local/"):
        status, body = http("GET", f"{local_stack.gateway.url}{path}")
        assert (status, body["code"]) == (404, "not_found")
    status, body = http("POST", f"{local_stack.gateway.url}/_local/outbox", {})
    assert (status, body["code"]) == (405, "method_not_allowed")
    assert not [route for route in local_stack.cloud.topology.routes if route.path.startswith("/_local")]


def test_moto_data_json_answers_after_an_order(local_stack):
    order = {"customer_id": "cust-data-json", "contact": {"email": "data-json@example.com"},
             "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
             "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    status, placed = http("POST", f"{local_stack.gateway.url}/orders", order, key)
    assert status == 201, placed
    deadline = time.monotonic() + 30
    while http("GET", f"{local_stack.gateway.url}/orders/{placed['order_id']}")[1]["status"] != "SHIPPED":
        assert time.monotonic() < deadline, "the order did not ship"
        time.sleep(0.05)

    status, data = moto_data(local_stack)
    assert status == 200, data
    assert data["stepfunctions"] and data["dynamodb"]


def test_swagger_ui_is_served_at_docs_with_this_stacks_document(local_stack):
    import urllib.request

    with urllib.request.urlopen(f"{local_stack.gateway.url}/docs", timeout=10) as page:
        html = page.read().decode()
    assert "/docs/swagger-ui-bundle.js" in html and "/docs/init.js" in html
    status, document = http("GET", f"{local_stack.gateway.url}/docs/openapi.json")
    assert status == 200 and "/orders" in document["paths"]
    assert document["servers"] == [{"url": local_stack.gateway.url, "description": "this local stack"}]
    with urllib.request.urlopen(f"{local_stack.gateway.url}/docs/swagger-ui-bundle.js", timeout=10) as bundle:
        assert bundle.headers["Content-Type"].startswith("text/javascript") and len(bundle.read()) > 100_000
    status, _ = http("GET", f"{local_stack.gateway.url}/docs/../../pyproject.toml")
    assert status == 404
