"""The card-authorisation renewal over HTTP on the embedded cloud: an order held for review at checkout has its
renewal job scheduled to the ops-jobs queue (it alerts operations when the issuer declines: decision 93), and
when the schedule fires the ops-jobs function runs it; not due yet, the job schedules itself again, from that
function, to the same queue. The later-jobs function never sees it. (A cash-on-delivery parcel not remitted, the
other job of operations, is followed to its alert in test_cod_over_http.py.)"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dawra.app.payments import renewal_job_name
from dawra.contracts.later import at_expression, parse_at
from dawra.local.actors import Storefront

pytestmark = pytest.mark.timeout(180)


def held_card_order(stack) -> str:
    """A card order the screening holds for review (billing and shipping countries differ): it may wait past its
    authorisation, so checkout schedules the renewal."""
    placed = Storefront(stack.gateway.url).place_order({
        "customer_id": f"c-{uuid.uuid4().hex[:8]}", "contact": {"email": f"held-{uuid.uuid4().hex[:6]}@example.com"},
        "shipping_address": {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
        "billing_address": {"name": "Huda", "line1": "1 Sheikh Zayed Rd", "city": "Dubai", "country": "AE"},
        "lines": [{"sku": "DATES-1KG", "quantity": 1}], "payment_token": "tok_sandbox_approve"}, f"k-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id: str = placed.body["order_id"]
    Storefront(stack.gateway.url).wait_for(order_id, {"ON_HOLD"})
    return order_id


def test_a_held_orders_renewal_runs_in_the_ops_jobs_function_and_schedules_its_next_round_there(local_stack):
    cloud, lambdas = local_stack.cloud, local_stack.cloud.lambdas
    scheduler, group = cloud.client("scheduler"), cloud.resolve_ref("schedule_group", "later", "name")
    ops_jobs, later_jobs = cloud.topology.function("ops-jobs").name, cloud.topology.function("later-jobs").name
    order_id = held_card_order(local_stack)
    name = renewal_job_name(order_id)
    schedule = scheduler.get_schedule(GroupName=group, Name=name)
    assert schedule["Target"]["Arn"] == cloud.resolve_ref("queue", "ops-jobs", "arn")
    assert json.loads(schedule["Target"]["Input"]) == {"kind": "renew_authorization", "order_id": order_id}
    due = parse_at(schedule["ScheduleExpression"])
    assert due > datetime.now(UTC) + timedelta(days=5)  # a day before the authorisation lapses

    # Its time comes early (the schedule moved to now): the function finds the renewal not due yet.
    invoked, failed, later_invoked = lambdas.invocations[ops_jobs], lambdas.errors[ops_jobs], lambdas.invocations[
        later_jobs]
    scheduler.update_schedule(Name=name, GroupName=group, ScheduleExpression=at_expression(datetime.now(UTC)),
                              ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=schedule["Target"], ActionAfterCompletion="DELETE")
    local_stack.pollers.drain()
    assert lambdas.invocations[ops_jobs] == invoked + 1 and lambdas.errors[ops_jobs] == failed
    assert lambdas.invocations[later_jobs] == later_invoked

    again = scheduler.get_schedule(GroupName=group, Name=name)  # fired, deleted, and made again by the job
    assert again["Target"]["Arn"] == cloud.resolve_ref("queue", "ops-jobs", "arn")
    assert parse_at(again["ScheduleExpression"]) == due
    assert again["LastModificationDate"] != schedule["LastModificationDate"]
    scheduler.delete_schedule(GroupName=group, Name=name)
