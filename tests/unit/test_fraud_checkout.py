"""Checkout's fraud screening with the in-memory fakes: an accepted order bumps its counters in its own commit, a
review places it and holds it for an agent once its stock is reserved, a refusal authorises and writes nothing but
the refusal's record (no personal data), and the counters carry velocity and refusals at the door from one order to
the next."""

from __future__ import annotations

import json

import pytest
from fakes import FakeRiskRecords, request

from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.app.checkout import Checkout
from dawra.app.risk import RefusalsAtTheDoor, RiskInputs, RiskScreening, held_for_review
from dawra.domain.errors import RefusedByRiskScreening
from dawra.domain.holds import Hold, HoldKind, HoldReason
from dawra.domain.money import Money
from dawra.domain.order import OrderStatus
from dawra.domain.risk import Checked, Signal, default_rules, digest, load_rules, screen

KEY = b"risk-key-for-tests-0123456789abc"
TEXT = {"en": "why", "ar": "لماذا"}


def rule_set(*rules: dict):
    return load_rules(json.dumps({"version": "t-2", "rules": [{"text": TEXT, **r} for r in rules]}))


def screened(shop, rules=None) -> Checkout:
    shop.records = FakeRiskRecords(shop.world)
    screening = RiskScreening(rules or default_rules(), lambda: KEY, shop.records, shop.clock,
                              fingerprints=SandboxPaymentProvider())
    return Checkout(shop.orders, shop.inventory, shop.uow, shop.payments, shop.alerts, shop.clock,
                    screening=screening)


def counter(shop, signal: Signal, value: str):
    return shop.world.risk.get(f"{signal.value}#{digest(KEY, signal, value)}")


def test_an_accepted_order_counts_its_email_phone_and_card_in_its_own_commit(shop):
    checkout = screened(shop)
    commits = shop.uow.commits
    order = checkout.place_order("key-accept-01", request(
        {"MUG-CLASSIC": 1}, contact={"email": "sara@example.com", "phone": "+966500000001"},
        payment_token="tok_sandbox_approve+card-4242"))
    assert order.pending_hold is None and shop.uow.commits == commits + 1  # one commit: order, key, counters
    assert counter(shop, Signal.EMAIL, "SARA@example.com").orders == 1
    assert counter(shop, Signal.PHONE, "+966500000001").orders == 1
    card = SandboxPaymentProvider().card_fingerprint("tok_sandbox_approve+card-4242")
    assert card and counter(shop, Signal.CARD, card).orders == 1
    assert len(shop.world.risk) == 3 and not shop.world.refusals  # no IP given: none counted
    # nothing in the clear: the counters are named by keyed digests
    assert not [name for name in shop.world.risk if "sara" in name or "966" in name or "4242" in name]


def test_a_review_places_the_order_and_holds_it_for_an_agent_once_reserved_with_the_rules_reasons(shop):
    checkout = screened(shop)
    order = checkout.place_order("key-review-01", request({"MUG-CLASSIC": 1}, billing_address={
        "name": "Sara", "line1": "1 Sheikh Zayed Rd", "city": "Dubai", "country": "AE"}))
    assert order.pending_hold is not None and order.pending_hold.kind == HoldKind.FRAUD_REVIEW
    assert shop.world.timeline_kinds(order.order_id) == ["order_confirmed"]  # its lifecycle starts from this
    shop.reserve(order.order_id)
    held = shop.orders.get(order.order_id)
    assert held.status == OrderStatus.ON_HOLD and held.held_as == HoldKind.FRAUD_REVIEW
    assert [(r.code, r.en) for r in held.hold_reasons] == [
        ("risk.billing_country_mismatch", "Billing country differs from the shipping country")]
    assert held.hold_reasons[0].ar == "بلد الفوترة يختلف عن بلد الشحن"
    [on_hold] = [e for e in shop.orders.timeline(order.order_id) if e.kind == "order_on_hold"]
    assert on_hold.detail == {"hold_kind": "fraud_review", "reasons": "risk.billing_country_mismatch"}


def test_a_refusal_authorises_nothing_writes_nothing_but_its_record_and_keeps_no_personal_data(shop):
    checkout = screened(shop)
    with pytest.raises(RefusedByRiskScreening) as refused:
        checkout.place_order("key-refuse-01", request(
            {"MUG-CLASSIC": 1}, contact={"email": "fraud@example.com", "phone": "+966500000009"},
            shipping_address={"name": "X", "line1": "1 St", "city": "Riyadh", "country": "SA",
                              "postal_code": "99999"}, client_ip="203.0.113.7"))
    assert "postcode" not in refused.value.message and "99999" not in refused.value.message  # teaches nothing
    assert not shop.world.headers and not shop.world.idempotency and not shop.world.risk
    assert not shop.payments.ledger and not shop.world.events
    [record] = shop.world.refusals
    assert [r.code for r in record.reasons] == ["risk.blocked_postcode"] and record.total.amount > 0
    assert set(record.signals) == {"email", "phone", "ip"}
    stored = record.model_dump_json()
    assert not any(value in stored for value in ("fraud@", "966500000009", "203.0.113", "99999", "Riyadh"))


def test_velocity_by_card_holds_the_order_that_makes_one_too_many_and_another_card_is_fine(shop):
    checkout = screened(shop, rule_set({"id": "card_fast", "kind": "velocity", "outcome": "review",
                                        "signal": "card", "max_orders": 2, "window_hours": 24}))
    placed = [checkout.place_order(f"key-card-{n:04d}", request(
        {"MUG-CLASSIC": 1}, contact={"email": f"buyer{n}@example.com"},
        payment_token="tok_sandbox_approve+card-1111")) for n in range(3)]
    assert [o.pending_hold is not None for o in placed] == [False, False, True]
    assert [r.code for r in placed[2].pending_hold.reasons] == ["risk.card_fast"]
    other = checkout.place_order("key-card-9999", request({"MUG-CLASSIC": 1}, contact={"email": "b9@example.com"},
                                                          payment_token="tok_sandbox_approve+card-2222"))
    assert other.pending_hold is None


def test_velocity_by_ip_refuses_past_its_limit_but_a_replay_of_an_order_placed_before_is_that_order(shop):
    checkout = screened(shop, rule_set({"id": "ip_burst", "kind": "velocity", "outcome": "refuse", "signal": "ip",
                                        "max_orders": 1, "window_hours": 1}))
    first = checkout.place_order("key-ip-0001", request({"MUG-CLASSIC": 1}, client_ip="198.51.100.4"))
    replay = checkout.place_order("key-ip-0001", request({"MUG-CLASSIC": 1}, client_ip="198.51.100.4"))
    assert replay.order_id == first.order_id
    with pytest.raises(RefusedByRiskScreening):
        checkout.place_order("key-ip-0002", request({"MUG-CLASSIC": 1}, contact={"email": "other@example.com"},
                                                    client_ip="198.51.100.4"))
    assert len(shop.world.headers) == 1 and len(shop.world.refusals) == 1
    assert counter(shop, Signal.IP, "198.51.100.4").orders == 1  # the refused one counted nothing


def test_a_first_order_of_high_value_is_held_and_the_same_customers_next_one_is_not(shop):
    checkout = screened(shop, rule_set({"id": "new_big", "kind": "first_order_over", "outcome": "review",
                                        "above": {"SA": 10_000}}))
    first = checkout.place_order("key-first-01", request({"MUG-CLASSIC": 3}))
    second = checkout.place_order("key-first-02", request({"MUG-CLASSIC": 3}))
    assert first.totals.total.amount > 10_000
    assert first.pending_hold is not None and second.pending_hold is None


def test_parcels_refused_at_the_door_make_the_phones_next_cash_on_delivery_order_reviewed_then_refused(shop):
    checkout = screened(shop)
    phone = "+966500000777"
    refusals = RefusalsAtTheDoor(lambda: KEY, shop.clock)
    body = request({"MUG-CLASSIC": 1}, contact={"email": "cod@example.com", "phone": phone})

    def cod(key: str):
        return checkout.place(key, body, lambda total, reference: ("cash_on_delivery", f"cod_{reference[:8]}"),
                              risk=RiskInputs(cash_on_delivery=True))

    assert cod("key-cod-0001").pending_hold is None
    shop.uow.commit(markers=[refusals.count(phone)])  # the tracking consumer, as the parcel came back
    held = cod("key-cod-0002")
    assert [r.code for r in held.pending_hold.reasons] == ["risk.cod_refused_before"]
    assert checkout.place_order("key-cod-card", body).pending_hold is None  # by card: the refusals do not count
    shop.uow.commit(markers=[refusals.count(phone)])
    with pytest.raises(RefusedByRiskScreening):
        cod("key-cod-0003")
    assert counter(shop, Signal.PHONE, phone).refusals == 2


def test_a_review_keeps_a_hold_of_another_kind_and_adds_its_reasons_and_takes_over_an_operators():
    rules = rule_set({"id": "away", "kind": "billing_country_mismatch", "outcome": "review"})
    verdict = screen(rules, Checked(country="SA", total=Money(amount=1, currency="SAR"), billing_country="AE"))
    link = Hold(kind=HoldKind.AWAITING_LINK_PAYMENT, reason="awaiting payment by link")
    kept = held_for_review(verdict, link)
    assert kept.kind == HoldKind.AWAITING_LINK_PAYMENT and [r.code for r in kept.reasons] == ["risk.away"]
    operator = held_for_review(verdict, Hold(kind=HoldKind.OPERATOR, reason="call the customer"))
    assert operator.kind == HoldKind.FRAUD_REVIEW and operator.reason.startswith("call the customer; ")
    assert held_for_review(verdict, None).kind == HoldKind.FRAUD_REVIEW


def test_a_review_takes_over_a_cash_on_delivery_confirmation_so_the_customers_yes_cannot_release_it():
    rules = rule_set({"id": "away", "kind": "billing_country_mismatch", "outcome": "review"})
    verdict = screen(rules, Checked(country="SA", total=Money(amount=1, currency="SAR"), billing_country="AE"))
    confirm = Hold(kind=HoldKind.COD_CONFIRMATION, reason="the customer confirms it",
                   reasons=[HoldReason(code="cod.confirm", en="Waiting for the customer", ar="بانتظار العميل")])
    held = held_for_review(verdict, confirm)
    assert held.kind == HoldKind.FRAUD_REVIEW  # an agent decides it, not the customer's reply
    assert [r.code for r in held.reasons] == ["cod.confirm", "risk.away"]
