"""A claim without a return reported by a storefront (the storefront API's POST /orders/{order_id}/claims), with the
in-memory fakes: the very claim the order page's form makes (one key, one claim, one workflow, settled by its policy
in the same commit when small), every line that cannot be claimed for refused with its own reason and nothing
stored, a replay answered with the same claim; the request's shape; the claim read back as a return of kind claim,
saying whether it settled by itself."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from returning import delivered

from dawra.app.claim_requests import AskForClaim
from dawra.app.return_claims import ClaimableLines, RequestClaim, StartClaim
from dawra.app.return_requests import ViewReturn
from dawra.contracts import problems
from dawra.contracts.claim_api import EXAMPLE_CLAIM, ClaimAsked
from dawra.contracts.return_api import ReturnView, return_view
from dawra.domain.errors import IdempotencyKeyReused, IllegalTransition
from dawra.domain.return_claims import LinesNotClaimable
from dawra.domain.returns import ReturnKind, ReturnRefused, ReturnStatus, return_id_for
from dawra.domain.timeline import TimelineKind

MUG = 5175  # 45.00 + 15% VAT: under homeware's threshold (100.00), settled by itself
MAT = 13800  # 120.00 + 15% VAT: over standard's threshold (50.00), an agent decides


@pytest.fixture
def ask(shop) -> AskForClaim:
    o, c = shop.orders, shop.clock
    return AskForClaim(o, ClaimableLines(o, c), StartClaim(RequestClaim(o, shop.uow, c, shop.inventory),
                                                           shop.workflow))


def claim(lines: dict[str, int], **rest) -> ClaimAsked:
    return ClaimAsked.model_validate({"reason": "arrived_damaged", "remedy": "refund",
                                      "refund_method": "original_payment",
                                      "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()], **rest})


def test_a_small_claim_is_reported_once_settles_by_itself_and_reads_back_as_a_claim(shop, ask):
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    ret = ask(order_id, "claim-key-01", ClaimAsked.model_validate(EXAMPLE_CLAIM))
    assert ret.return_id == return_id_for(order_id, "claim-key-01")
    assert (ret.kind, ret.method, ret.status, ret.decided_by) == (ReturnKind.CLAIM, None, ReturnStatus.REFUNDED,
                                                                  "policy")
    assert ret.refunded is not None and ret.refunded.amount == MUG
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]

    # Replayed (the answer was lost), though its unit is now held by the claim itself: the same claim, started once.
    again = ask(order_id, "claim-key-01", ClaimAsked.model_validate(EXAMPLE_CLAIM))
    assert again.return_id == ret.return_id and len(shop.world.returns[order_id]) == 1
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]
    with pytest.raises(IdempotencyKeyReused):
        ask(order_id, "claim-key-01", claim({"MUG-CLASSIC": 2}))

    shown = return_view(ViewReturn(shop.orders)(order_id, ret.return_id))
    assert (shown["kind"], shown["method"], shown["claim_reason"], shown["claim_remedy"]) == (
        "claim", None, "arrived_damaged", "refund")
    assert shown["settled_by_itself"] is True and shown["refunded"]["amount"] == MUG
    assert ReturnView.model_validate(shown).status == ReturnStatus.REFUNDED


def test_a_claim_over_the_threshold_waits_for_an_agent_and_says_so(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = ask(order_id, "claim-key-02", claim({"PRAYER-MAT": 1}, remedy="reship", reason="item_missing"))
    assert (ret.status, ret.approval_required, ret.decided_by) == (ReturnStatus.REQUESTED, True, None)
    # Every delivered unit claimed for the shop's fault: the delivery charge too; over standard's 50.00 threshold.
    assert ret.estimate.items.amount == 12000 and ret.estimate.shipping.amount > 0 and ret.estimate.total.amount > MAT
    shown = return_view(ret)
    assert shown["settled_by_itself"] is False and shown["claim_remedy"] == "reship"
    [opened] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.CLAIM_OPENED]
    assert opened.detail["by_itself"] == "false" and "by" not in opened.detail  # the customer's own report


def test_every_line_that_cannot_be_claimed_for_is_refused_with_its_reason_and_nothing_is_stored(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 1, "DATES-1KG": 1})
    with pytest.raises(LinesNotClaimable) as refused:
        ask(order_id, "claim-key-03", claim({"PRAYER-MAT": 3, "DATES-1KG": 1, "MUG-CLASSIC": 1}))
    # A final-sale item may be claimed for (arriving damaged is not the customer's choice): only the others refused.
    assert [(line.sku, line.requested, line.claimable, line.why) for line in refused.value.lines] == [
        ("PRAYER-MAT", 3, 1, "too_many"), ("MUG-CLASSIC", 1, 0, "not_in_order")]
    assert shop.world.returns[order_id] == {} and shop.workflow.started_returns == []
    kind, body = problems.from_domain_error(refused.value)
    assert (kind.status, body["code"]) == (409, "not_claimable")
    assert body["lines"][0] == {"sku": "PRAYER-MAT", "requested": 3, "claimable": 1, "why": "too_many",
                                "detail": "at most 1 can be claimed for"}

    shop.clock.advance(days=4)  # the standard policy's claim window: 3 days from delivery
    with pytest.raises(LinesNotClaimable) as late:
        ask(order_id, "claim-key-04", claim({"PRAYER-MAT": 1}))
    assert [line.why for line in late.value.lines] == ["window_ended"]
    assert shop.world.returns[order_id] == {}


def test_units_already_claimed_and_an_order_not_delivered_are_refused(shop, ask):
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    ask(order_id, "claim-key-05", claim({"MUG-CLASSIC": 1}))
    with pytest.raises(LinesNotClaimable) as twice:
        ask(order_id, "claim-key-06", claim({"MUG-CLASSIC": 1}, reason="item_missing"))
    assert [line.why for line in twice.value.lines] == ["already_claimed"]

    placed = shop.place({"PRAYER-MAT": 1}, key="key-00000002")
    shop.reserve(placed)
    with pytest.raises(ReturnRefused):  # the page offers no claim before the order allows one, nor does the API
        ask(placed, "claim-key-07", claim({"PRAYER-MAT": 1}))
    assert shop.world.returns.get(placed, {}) == {}


def test_the_refund_method_and_the_iban_are_checked_by_the_same_claim_as_the_page(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    with pytest.raises(ReturnRefused) as not_offered:  # a card order: no bank transfer
        ask(order_id, "claim-key-08", claim({"PRAYER-MAT": 1}, refund_method="bank_transfer",
                                            iban="SA0380000000608010167519"))
    assert "bank_transfer is not offered" in str(not_offered.value)
    assert shop.world.returns[order_id] == {}


def test_the_request_shape_refuses_what_does_not_go_together():
    ClaimAsked.model_validate(EXAMPLE_CLAIM)
    for wrong in ({"refund_method": "exchange"}, {"refund_method": "bank_transfer"}, {"iban": "SA0380000000608010167519"},
                  {"reason": "changed_mind"}, {"remedy": "exchange"}, {"lines": []},
                  {"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "MUG-CLASSIC", "quantity": 1}]},
                  {"lines": [{"sku": "MUG-CLASSIC", "quantity": 0}]}, {"method": "label"}, {"comment": "x" * 501}):
        with pytest.raises(ValidationError):
            ClaimAsked.model_validate({**EXAMPLE_CLAIM, **wrong})
    schema = ClaimAsked.model_json_schema()
    assert set(schema["$defs"]["ClaimReason"]["enum"]) == {"arrived_damaged", "item_missing"}



def test_an_order_not_shipped_yet_allows_no_claim_and_nothing_is_stored(shop, ask):
    order_id = shop.place({"MUG-CLASSIC": 1})  # confirmed: nothing has left, let alone arrived
    with pytest.raises(IllegalTransition, match="allows no claim"):
        ask(order_id, "claim-key-early", claim({"MUG-CLASSIC": 1}))
    assert not shop.world.returns[order_id] and shop.workflow.started_returns == []
