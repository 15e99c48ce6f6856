"""Cash on delivery over HTTP on the embedded cloud, through the real state machine: the storefront places a COD
order (its fee a line of the totals, nothing authorised), refused where it is not offered; the carrier reports it
delivered with what the courier collected (a mismatch flagged to operations); the job for later flags a parcel not
remitted; a manager imports the courier's remittance file over the admin API (exact, short, unknown, the same file
again), and the parcel shows remitted."""

from __future__ import annotations

import json
import uuid

import pytest
from parcels import carrier, shipped_tracking, wait_until
from stacks import seeded_stack

from dawra.local.actors import AdminApi, Storefront

pytestmark = pytest.mark.timeout(240)
HEADER = "tracking_number,amount_collected,courier_fee,remittance_reference,remittance_date\n"


@pytest.fixture(scope="module")
def shop():
    from dawra.local.scenario import sign_in
    from dawra.local.seed import seed_operators

    for running in seeded_stack():
        operators = {o.role: o for o in seed_operators(running.cloud)}
        yield {"stack": running, "manager": AdminApi(running.gateway_url, sign_in(running, operators["manager"])),
               "agent": AdminApi(running.gateway_url, sign_in(running, operators["agent"]))}


def cod_order(stack, country: str = "SA", city: str = "Riyadh"):
    return Storefront(stack.gateway.url).place_order({
        "customer_id": f"cust-{uuid.uuid4().hex[:8]}", "contact": {"email": f"cod-{uuid.uuid4().hex[:6]}@example.com"},
        "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": city, "country": country},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment_method": "cash_on_delivery"},
        f"key-{uuid.uuid4()}")


def ops_alerts(stack) -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    arn = stack.cloud.resolve_ref("topic", "ops-alerts", "arn")
    topic = sns_backends[DEFAULT_ACCOUNT_ID][arn.split(":")[3]].topics[arn]
    return [json.loads(message) for _, message, *_ in topic.sent_notifications]


def sar(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def test_a_cod_order_is_priced_with_its_fee_and_refused_where_not_offered(shop):
    placed = cod_order(shop["stack"])
    assert placed.status == 201, placed.body
    totals = placed.body["totals"]
    assert totals["cod_fee"] == {"amount": 1500, "currency": "SAR"}
    assert totals["total"]["amount"] == 9000 + 2500 + 1500 + (9000 + 2500 + 1500) * 15 // 100

    refused = cod_order(shop["stack"], country="QA", city="Doha")
    assert refused.status == 422 and refused.headers.get("Content-Type", "").startswith("application/problem+json")
    assert refused.body["code"] == "cash_on_delivery_refused" and "QA" in refused.body["detail"]


def test_delivered_collected_flagged_then_reconciled_by_the_courier_file(shop):
    stack = shop["stack"]
    short, exact = cod_order(stack).body, cod_order(stack).body
    numbers = {o["order_id"]: shipped_tracking(stack, o["order_id"]) for o in (short, exact)}
    due = {o["order_id"]: o["totals"]["total"]["amount"] for o in (short, exact)}

    carrier(stack).deliver(numbers[short["order_id"]], cod_collected=due[short["order_id"]] - 1000)
    carrier(stack).deliver(numbers[exact["order_id"]], cod_collected=due[exact["order_id"]])
    for order_id in numbers:
        wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not delivered")
    detail = shop["manager"].get(f"/orders/{short['order_id']}").body
    [collected] = [e for e in detail["timeline"] if e["kind"] == "cod_collected"]
    assert collected["detail"]["mismatch"] == "true" and collected["detail"]["collected"] == str(
        due[short["order_id"]] - 1000)
    assert any(a["order_id"] == short["order_id"] and "collected" in a["reason"] for a in ops_alerts(stack))

    # Days later the job for later finds neither remitted: each flagged once, and operations told, by the ops-jobs
    # function (the later-jobs one may publish to no SNS topic: decision 93).
    from dawra.local.schedules import fire_now, pending_jobs

    lambdas, ops_jobs = stack.cloud.lambdas, stack.cloud.topology.function("ops-jobs").name
    ops_queue = stack.cloud.resolve_ref("queue", "ops-jobs", "arn")
    assert {s["Target"]["Arn"] for s in pending_jobs(stack.cloud, "check_cod_remittance")} == {ops_queue}
    invoked, failed = lambdas.invocations[ops_jobs], lambdas.errors[ops_jobs]
    assert fire_now(stack.cloud, stack.pollers, "check_cod_remittance") >= 2
    assert lambdas.invocations[ops_jobs] > invoked and lambdas.errors[ops_jobs] == failed
    flagged = shop["manager"].get(f"/orders/{exact['order_id']}").body
    assert [e["kind"] for e in flagged["timeline"]].count("cod_remittance_overdue") == 1
    assert any(a["order_id"] == exact["order_id"] and "not remitted" in a["reason"] for a in ops_alerts(stack))

    # The by-lookup index lists both as owed (any delivery time before the end of time), by one Query.
    from dawra.adapters.dynamo.remittances import DynamoRemittanceImports

    imports = DynamoRemittanceImports(stack.cloud.resolve_ref("table", "orders", "name"))
    assert set(numbers) <= {order_id for order_id, _ in imports.unremitted("9999", 100)}

    text = (HEADER + f"{numbers[exact['order_id']]},{sar(due[exact['order_id']])},9.00,REM-1,2026-12-01\n"
            + f"{numbers[short['order_id']]},{sar(due[short['order_id']] - 1000)},9.00,REM-1,2026-12-01\n"
            + "SBX000000000000,10.00,1.00,REM-1,2026-12-01\n")
    assert shop["agent"].post("/cod/remittances", {"file_name": "r.csv", "content": text}, "k-1").status == 403
    imported = shop["manager"].post("/cod/remittances", {"file_name": "r.csv", "content": text}, "k-2")
    assert imported.status == 201, imported.body
    report = imported.body
    assert report["counts"]["exact"] == 1 and report["counts"]["short"] == 1 and report["counts"]["unknown"] == 1
    assert report["short_by"]["amount"] == 1000 and report["fees"]["amount"] == 1800

    again = shop["manager"].post("/cod/remittances", {"file_name": "r-again.csv", "content": text}, "k-3")
    assert again.status == 200 and again.body["duplicate"] and again.body["rows"] == report["rows"]
    assert shop["manager"].get(f"/cod/remittances/{report['digest']}").body["digest"] == report["digest"]

    assert not set(numbers) & {order_id for order_id, _ in imports.unremitted("9999", 100)}
    remitted = shop["manager"].get(f"/orders/{exact['order_id']}").body
    assert [e["kind"] for e in remitted["timeline"]].count("cod_remitted") == 1
    overview = shop["manager"].get("/cod/remittances").body
    assert overview["days"] == 7 and report["digest"] in [r["digest"] for r in overview["imports"]]
