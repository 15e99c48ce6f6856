"""Checkout: one key, one order; refusals write nothing; a lost answer is found again. Checkout starts no execution:
the order's `order_confirmed` event, committed with it, is what starts its lifecycle (decision 114;
tests/unit/test_start_lifecycle.py; Step Functions throttled at checkout: tests/integration/test_lifecycle_start.py)."""

import pytest
from fakes import request

from dawra.domain.errors import IdempotencyKeyReused, InvalidOrder, PaymentDeclined, TransientError


def test_an_order_is_priced_from_the_catalog_authorised_and_stored_with_what_starts_its_lifecycle(shop):
    order_id = shop.place({"MUG-CLASSIC": 2})
    order = shop.orders.get(order_id)
    assert order.totals.total.amount == 13225 and order.status == "CONFIRMED"
    assert order.payment.authorized == order.totals.total and order.payment.captured.amount == 0
    assert shop.world.timeline_kinds(order_id) == ["order_confirmed"]  # its record starts the lifecycle
    assert shop.workflow.started == []  # not on checkout's request path
    assert order_id.startswith("ord_") and len(order_id) == 36


def test_the_same_key_and_request_returns_the_same_order_and_one_lifecycle(shop):
    first = shop.place({"MUG-CLASSIC": 2}, key="key-same-0001")
    again = shop.place({"MUG-CLASSIC": 2}, key="key-same-0001")
    assert again == first and shop.world.timeline_kinds(first) == ["order_confirmed"]  # one lifecycle to start
    assert len(shop.world.headers) == 1
    assert len(shop.payments.effective("authorize")) == 1  # the provider saw one reference


def test_the_same_key_with_another_request_is_refused(shop):
    shop.place({"MUG-CLASSIC": 2}, key="key-reused-01")
    with pytest.raises(IdempotencyKeyReused):
        shop.place({"MUG-CLASSIC": 3}, key="key-reused-01")
    assert len(shop.world.headers) == 1


def test_order_ids_are_random_not_derived_from_the_key(shop):
    ids = {shop.place({"MUG-CLASSIC": 1}, key=f"key-random-{n:03d}") for n in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(("lines", "token", "error"), [
    ({"NO-SUCH": 1}, "tok_sandbox_approve", InvalidOrder),
    ({"MUG-CLASSIC": 1}, "tok_sandbox_decline", PaymentDeclined),
    ({"MUG-CLASSIC": 1}, "tok_sandbox_unavailable", TransientError),
])
def test_refusals_write_nothing_and_start_nothing(shop, lines, token, error):
    with pytest.raises(error):
        shop.checkout.place_order("key-refused-1", request(lines, payment_token=token))
    assert not shop.world.headers and not shop.world.idempotency and not shop.world.events


def test_a_throttled_commit_is_transient_and_writes_nothing(shop):
    shop.uow.faults = ["transient"]
    with pytest.raises(TransientError):
        shop.place({"MUG-CLASSIC": 1})
    assert not shop.world.headers
    order_id = shop.place({"MUG-CLASSIC": 1})  # the storefront retries with the same key
    assert list(shop.world.headers) == [order_id] and shop.world.timeline_kinds(order_id) == ["order_confirmed"]


def test_a_commit_applied_but_unanswered_is_found_by_the_retry(shop):
    shop.uow.faults = ["ambiguous"]
    with pytest.raises(TransientError):
        shop.place({"MUG-CLASSIC": 1}, key="key-ambiguous")
    assert len(shop.world.headers) == 1
    order_id = shop.place({"MUG-CLASSIC": 1}, key="key-ambiguous")
    assert set(shop.world.headers) == {order_id} and shop.world.timeline_kinds(order_id) == ["order_confirmed"]

