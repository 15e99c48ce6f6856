"""Hostile input, sent over HTTP as an attacker or a broken client would: every case is answered 4xx in the API's
one error shape (application/problem+json), and nothing is written. docs/api/hostile-input.md lists the same cases
(a test holds the two together)."""

import json
import re
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"customer_id": "c-1", "contact": {"email": "a@example.com"},
        "shipping_address": {"name": "Sara", "line1": "1 Olaya St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
JSON = {"Content-Type": "application/json", "Idempotency-Key": "hostile-key-0001"}


def with_(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


# (what, method, path, body, headers, expected status)
CASES = [
    ("non-UTF-8 body", "POST", "/orders", b'{"customer_id": "\xff\xfe"}', JSON, 400),
    ("invalid JSON", "POST", "/orders", b'{"customer_id": ', JSON, 400),
    ("empty body", "POST", "/orders", b"", JSON, 400),
    ("JSON nested 1,000 deep", "POST", "/orders", b"[" * 1000 + b"]" * 1000, JSON, 400),
    ("integer of 5,000 digits", "POST", "/orders", b'{"lines": [{"sku": "M", "quantity": ' + b"9" * 5000 + b"}]}",
     JSON, 400),
    ("body over 64 KiB", "POST", "/orders", with_(customer_id="x" * 70_000), JSON, 413),
    ("text/plain content type", "POST", "/orders", with_(), {**JSON, "Content-Type": "text/plain"}, 415),
    ("form content type (curl -d default)", "POST", "/orders", with_(),
     {**JSON, "Content-Type": "application/x-www-form-urlencoded"}, 415),
    ("no content type", "POST", "/orders", with_(), {"Idempotency-Key": "hostile-key-0001"}, 415),
    ("JSON array instead of an object", "POST", "/orders", b"[]", JSON, 422),
    ("unknown field", "POST", "/orders", with_(discount_code="FREE"), JSON, 422),
    ("client-supplied price", "POST", "/orders", with_(lines=[{"sku": "MUG-CLASSIC", "quantity": 1,
                                                               "unit_price": 1}]), JSON, 422),
    ("huge string", "POST", "/orders", with_(customer_id="x" * 10_000), JSON, 422),
    ("huge quantity", "POST", "/orders", with_(lines=[{"sku": "MUG-CLASSIC", "quantity": 10**18}]), JSON, 422),
    ("control characters in a name", "POST", "/orders",
     with_(shipping_address={**GOOD["shipping_address"], "name": "Sara\u0000\u001b[31m"}), JSON, 422),
    ("country the merchant does not ship to", "POST", "/orders",
     with_(shipping_address={**GOOD["shipping_address"], "country": "US"}), JSON, 422),
    ("missing Idempotency-Key", "POST", "/orders", with_(), {"Content-Type": "application/json"}, 422),
    ("Idempotency-Key of 1,000 characters", "POST", "/orders", with_(),
     {**JSON, "Idempotency-Key": "k" * 1000}, 422),
    ("malformed order id", "GET", "/orders/../../etc/passwd", None, {}, 404),
    ("order id of the wrong shape", "GET", "/orders/ord_NOT-HEX", None, {}, 422),
    ("unknown route", "GET", "/nothing-here", None, {}, 404),
    ("method not allowed", "DELETE", "/orders", None, {}, 405),
    ("carrier name of 200 characters", "POST", "/webhooks/carriers/" + "x" * 200, b"{}", JSON, 404),
]


def send(url: str, method: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(("what", "method", "path", "body", "headers", "status"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_cleanly_and_writes_nothing(local_stack, what, method, path, body, headers, status):
    ddb = local_stack.cloud.client("dynamodb")
    def count() -> int:
        return ddb.scan(TableName="dawra-orders", Select="COUNT")["Count"]

    before = count()
    got, response_headers, raw = send(f"{local_stack.gateway.url}{path}", method, body, headers)
    assert got == status, raw[:500]
    assert response_headers["Content-Type"] == "application/problem+json"
    problem = json.loads(raw)
    assert problem["status"] == status and problem["type"].startswith("urn:dawra:problem:")
    assert "Value error" not in problem.get("detail", "") and all(
        "Value error" not in e["message"] and "pydantic" not in e["message"] for e in problem.get("errors", []))
    if status == 405:
        assert response_headers["Allow"] == "POST"
    assert count() == before


def test_the_documented_table_is_what_is_tested():
    table = (ROOT / "docs" / "api" / "hostile-input.md").read_text()
    rows = re.findall(r"^\| (.+?) \| (\d{3}) \| nothing \|$", table, re.MULTILINE)
    assert rows == [(what, str(status)) for what, *_, status in CASES]
