"""The fraud rule set: data validated when loaded, each kind of rule on its own, the strictest outcome winning, and
the counters behind velocity (a sliding count from two fixed windows)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dawra.domain.money import Money
from dawra.domain.risk import (
    RULES_FILE,
    Checked,
    Counter,
    RiskOutcome,
    Signal,
    SignalHistory,
    bucket,
    bump,
    default_rules,
    digest,
    history,
    load_rules,
    recent,
    screen,
)

TEXT = {"en": "why", "ar": "لماذا"}
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def rules(*rules: dict) -> object:
    return load_rules(json.dumps({"version": "t-1", "rules": [{"text": TEXT, **r} for r in rules]}))


def sar(amount: int) -> Money:
    return Money(amount=amount, currency="SAR")


def checked(**overrides) -> Checked:
    base = {"country": "SA", "total": sar(10_000), "signals": {Signal.EMAIL: SignalHistory(orders=3)}}
    return Checked(**{**base, **overrides})


def outcome(rule_set, **overrides) -> tuple[RiskOutcome, list[str]]:
    verdict = screen(rule_set, checked(**overrides))
    return verdict.outcome, [t.rule_id for t in verdict.tripped]


def test_velocity_trips_once_the_window_already_holds_max_orders_for_that_signal():
    velocity = rules({"id": "ip_fast", "kind": "velocity", "outcome": "review", "signal": "ip", "max_orders": 3,
                      "window_hours": 1})
    window = 3600
    assert outcome(velocity, signals={Signal.IP: SignalHistory(recent={window: 2.4})}) == (RiskOutcome.ACCEPT, [])
    assert outcome(velocity, signals={Signal.IP: SignalHistory(recent={window: 3})}) == (
        RiskOutcome.REVIEW, ["ip_fast"])
    # another signal's counts never trip it, nor an order without that signal
    assert outcome(velocity, signals={Signal.EMAIL: SignalHistory(recent={window: 99})})[0] == RiskOutcome.ACCEPT


def test_amount_thresholds_are_per_shipping_country_and_strictly_above():
    amount = rules({"id": "big", "kind": "amount", "outcome": "review", "above": {"SA": 50_000}})
    assert outcome(amount, total=sar(50_000))[0] == RiskOutcome.ACCEPT
    assert outcome(amount, total=sar(50_001)) == (RiskOutcome.REVIEW, ["big"])
    assert outcome(amount, total=sar(90_000), country="AE")[0] == RiskOutcome.ACCEPT  # no threshold there


def test_a_billing_country_other_than_the_shipping_country_trips_and_none_given_does_not():
    mismatch = rules({"id": "away", "kind": "billing_country_mismatch", "outcome": "review"})
    assert outcome(mismatch, billing_country="AE") == (RiskOutcome.REVIEW, ["away"])
    assert outcome(mismatch, billing_country="SA")[0] == RiskOutcome.ACCEPT
    assert outcome(mismatch, billing_country=None)[0] == RiskOutcome.ACCEPT


def test_a_first_order_of_high_value_trips_and_a_returning_customers_does_not():
    first = rules({"id": "new_big", "kind": "first_order_over", "outcome": "review", "above": {"SA": 20_000}})
    newcomer = {Signal.EMAIL: SignalHistory(orders=0)}
    assert outcome(first, total=sar(20_001), signals=newcomer) == (RiskOutcome.REVIEW, ["new_big"])
    assert outcome(first, total=sar(20_000), signals=newcomer)[0] == RiskOutcome.ACCEPT
    assert outcome(first, total=sar(90_000), signals={Signal.EMAIL: SignalHistory(orders=1)})[0] == (
        RiskOutcome.ACCEPT)


def test_a_risky_postcode_matches_its_countrys_prefixes_ignoring_spaces_and_case():
    postcode = rules({"id": "watch", "kind": "risky_postcode", "outcome": "review",
                      "postcodes": {"SA": ["119"], "GB": ["E1 6"]}})
    assert outcome(postcode, postcode="11999") == (RiskOutcome.REVIEW, ["watch"])
    assert outcome(postcode, postcode="12345")[0] == RiskOutcome.ACCEPT
    assert outcome(postcode, postcode=None)[0] == RiskOutcome.ACCEPT
    assert outcome(postcode, country="GB", postcode="e16an") == (RiskOutcome.REVIEW, ["watch"])
    assert outcome(postcode, country="AE", postcode="11999")[0] == RiskOutcome.ACCEPT  # listed for SA only


def test_cash_on_delivery_from_a_phone_that_refused_parcels_trips_and_a_card_order_does_not():
    refusals = rules({"id": "refused", "kind": "cod_refusals", "outcome": "refuse", "at_least": 2})
    twice = {Signal.PHONE: SignalHistory(refusals=2)}
    assert outcome(refusals, cash_on_delivery=True, signals=twice) == (RiskOutcome.REFUSE, ["refused"])
    assert outcome(refusals, cash_on_delivery=True, signals={Signal.PHONE: SignalHistory(refusals=1)})[0] == (
        RiskOutcome.ACCEPT)
    assert outcome(refusals, cash_on_delivery=False, signals=twice)[0] == RiskOutcome.ACCEPT
    assert outcome(refusals, cash_on_delivery=True, signals={})[0] == RiskOutcome.ACCEPT  # no phone given


def test_the_strictest_outcome_wins_and_every_tripped_rule_is_a_reason_in_both_languages():
    both = rules({"id": "big", "kind": "amount", "outcome": "review", "above": {"SA": 1}},
                 {"id": "huge", "kind": "amount", "outcome": "refuse", "above": {"SA": 2}},
                 {"id": "other", "kind": "amount", "outcome": "refuse", "above": {"AE": 1}})
    verdict = screen(both, checked(total=sar(5)))
    assert verdict.outcome == RiskOutcome.REFUSE and [t.rule_id for t in verdict.tripped] == ["big", "huge"]
    assert [(r.code, r.en, r.ar) for r in verdict.reasons] == [("risk.big", "why", "لماذا"),
                                                                ("risk.huge", "why", "لماذا")]
    assert verdict.rules_version == "t-1" and "big, huge" in verdict.summary


@pytest.mark.parametrize("broken", [
    {"version": "v", "rules": [{"id": "a", "kind": "amount", "outcome": "review", "above": {"SA": 1}, "text": TEXT},
                               {"id": "a", "kind": "billing_country_mismatch", "outcome": "review", "text": TEXT}]},
    {"version": "v", "rules": [{"id": "a", "kind": "teleport", "outcome": "review", "text": TEXT}]},
    {"version": "v", "rules": [{"id": "a", "kind": "amount", "outcome": "maybe", "above": {"SA": 1}, "text": TEXT}]},
    {"version": "v", "rules": [{"id": "a", "kind": "velocity", "outcome": "review", "signal": "ip", "max_orders": 0,
                                "window_hours": 1, "text": TEXT}]},
    {"version": "v", "rules": [{"id": "a", "kind": "amount", "outcome": "review", "above": {"SA": 1},
                                "text": {"en": "only english"}}]},
])
def test_a_rule_set_that_does_not_make_sense_is_refused_when_loaded(broken):
    with pytest.raises(ValidationError):
        load_rules(json.dumps(broken))


def test_the_shipped_rule_set_loads_and_has_a_rule_of_every_kind_the_issue_names():
    shipped = default_rules()
    assert shipped == load_rules(RULES_FILE.read_text(encoding="utf-8"))
    kinds = {rule.kind for rule in shipped.rules}
    assert kinds == {"velocity", "amount", "billing_country_mismatch", "first_order_over", "risky_postcode",
                     "cod_refusals"}
    velocity_signals = {rule.signal for rule in shipped.rules if rule.kind == "velocity"}
    assert velocity_signals == {Signal.EMAIL, Signal.PHONE, Signal.CARD, Signal.IP}
    assert shipped.counted == frozenset(Signal)


def test_the_sliding_count_weighs_the_previous_window_by_how_much_of_it_is_still_inside():
    window = 3600
    index = int(NOW.timestamp() // window)  # 09:30: half of the 09:00 window has passed
    counter = Counter(buckets={bucket(window, index): 2, bucket(window, index - 1): 4})
    assert recent(counter, window, NOW) == pytest.approx(2 + 4 * 0.5)
    assert recent(counter, window, NOW + timedelta(hours=1)) == pytest.approx(2 * 0.5)  # the 2 are now previous
    assert recent(counter, window, NOW + timedelta(hours=2)) == 0


def test_a_bump_counts_the_order_in_each_windows_current_bucket_and_drops_buckets_no_window_needs():
    hour, day = 3600, 86400
    stale = bucket(hour, int(NOW.timestamp() // hour) - 5)
    counter = Counter(orders=7, buckets={stale: 3, bucket(hour, int(NOW.timestamp() // hour) - 1): 1})
    change = bump(counter, [hour, day], NOW)
    assert change.add == {"orders": 1, bucket(hour, int(NOW.timestamp() // hour)): 1,
                          bucket(day, int(NOW.timestamp() // day)): 1}
    assert change.remove == [stale]  # the previous hour is kept: the sliding count reads it
    seen = history(counter, [hour], NOW)
    assert seen.orders == 7 and seen.recent[hour] == pytest.approx(0.5)


def test_digests_are_keyed_normalised_and_never_the_value():
    key = b"k" * 32
    email = digest(key, Signal.EMAIL, " Sara@Example.com ")
    assert email == digest(key, Signal.EMAIL, "sara@example.com") != digest(b"x" * 32, Signal.EMAIL, "sara@example.com")
    assert "sara" not in email and len(email) == 40
    assert digest(key, Signal.PHONE, "+966500000001") != digest(key, Signal.IP, "+966500000001")  # per signal
