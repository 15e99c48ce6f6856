"""Claims without a return (issue 12 point 6), with the in-memory fakes: "arrived damaged" or "item missing" within
the claim window opens a claim that nothing comes back for; one worth no more than its policy's threshold settles in
the request's commit (refunded, or sent again when asked and in stock), any other waits for an agent (refund within
the role's limit, reship, or decline with a reason). No unit is ever restocked; a reship takes stock (held, then
shipped); money never exceeds what the order can still give back; the original shipment is never rewritten."""

from __future__ import annotations

from typing import Any

import pytest
from returning import AGENT, MANAGER, Returns, asking, delivered

from dawra.app.return_claims import ClaimableLines, DecideClaim, RequestClaim, StartClaim
from dawra.app.return_workflow import OpenReturnWorkflow, ParkReturn, ReturnTimings
from dawra.domain.access import Forbidden
from dawra.domain.errors import IdempotencyKeyReused, InvalidCustomerDetails
from dawra.domain.inventory import ReservationState
from dawra.domain.operations import return_figures
from dawra.domain.return_claims import ClaimRequest, NotClaimable
from dawra.domain.returns import (
    ClaimReason,
    ClaimRemedy,
    RefundMethod,
    ReturnReason,
    ReturnRefused,
    ReturnStatus,
    decide,
    default_policies,
    returnable,
)
from dawra.domain.timeline import TimelineKind as K
from dawra.rendering import Letterhead, render

LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/my-order/TOKEN")
MUG = 5175  # 45.00 + 15% VAT: under inspect-first's threshold (100.00): settles by itself
MAT = 13800  # 120.00 + 15% VAT: over standard's threshold (50.00): an agent decides


def claim(lines: dict[str, int], remedy: ClaimRemedy = ClaimRemedy.REFUND,
          reason: ClaimReason = ClaimReason.ARRIVED_DAMAGED, comment: str = "The box was crushed") -> ClaimRequest:
    return ClaimRequest(reason=reason, lines=list(lines.items()), remedy=remedy,
                        refund_method=RefundMethod.ORIGINAL_PAYMENT, comment=comment)


class Claims:
    def __init__(self, shop: Any):
        self.shop, self.returns = shop, Returns(shop)
        o, u, c, i = shop.orders, shop.uow, shop.clock, shop.inventory
        self.choices = ClaimableLines(o, c)
        self.request = RequestClaim(o, u, c, i)
        self.start = StartClaim(self.request, shop.workflow)
        self.decide = DecideClaim(o, u, self.returns.audit, shop.workflow, c, i)
        self.open = OpenReturnWorkflow(o, ReturnTimings())
        self.park = ParkReturn(o, self.returns.wait, shop.workflow)

    def get(self, order_id: str, return_id: str) -> Any:
        return self.shop.orders.get(order_id).return_of(return_id)

    def kinds(self, order_id: str) -> list[K]:
        return [e.kind for e in self.shop.orders.timeline(order_id)]


@pytest.fixture
def claims(shop: Any) -> Claims:
    return Claims(shop)


def on_hand(shop: Any, sku: str, location: str = "riyadh-dc") -> tuple[int, int]:
    level = shop.stock(sku, location)
    return level.on_hand, level.reserved


def test_a_small_damage_claim_is_refunded_by_itself_and_nothing_is_restocked(shop, claims):
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    before, [original] = on_hand(shop, "MUG-CLASSIC"), shop.orders.get(order_id).shipments

    ret = claims.start(order_id, "claim-key-1", claim({"MUG-CLASSIC": 1}))
    assert (ret.kind.value, ret.method, ret.status) == ("claim", None, ReturnStatus.REFUNDED)
    assert ret.decided_by == "policy" and ret.refunded is not None and ret.refunded.amount == MUG
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]
    assert claims.open(order_id, ret.return_id).kind == "claim"
    order = shop.orders.get(order_id)
    assert order.payment.refunded.amount == MUG  # recorded in the request's commit...
    assert not [c for c in shop.payments.ledger if c[0] == "refund"]  # ...paid out by the workflow's Refund task
    for _ in range(2):  # a retried task pays once, under the claim's own reference
        claims.returns.refund(order_id, ret.return_id)
    refunds = {(op, ref, amount) for op, _, ref, amount in shop.payments.ledger if op == "refund"}
    assert refunds == {("refund", f"{ret.return_id}:refund", MUG)}
    claims.returns.close(order_id, ret.return_id)
    assert claims.get(order_id, ret.return_id).status == ReturnStatus.CLOSED
    assert on_hand(shop, "MUG-CLASSIC") == before  # the damaged mug stays with the customer
    assert shop.orders.get(order_id).shipments == [original]
    kinds = claims.kinds(order_id)
    assert sorted(k for k in kinds if k.value.startswith("claim_")) == sorted(
        [K.CLAIM_OPENED, K.CLAIM_REFUNDED, K.CLAIM_CLOSED])  # each once
    assert not [k for k in kinds if k.value.startswith("return_")]


def test_a_small_claim_asking_for_a_replacement_is_sent_again_and_takes_stock(shop, claims):
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    [original] = shop.orders.get(order_id).shipments
    on, reserved = on_hand(shop, "MUG-CLASSIC")

    ret = claims.request(order_id, "claim-key-2", claim({"MUG-CLASSIC": 1}, ClaimRemedy.RESHIP))
    assert ret.status == ReturnStatus.RESHIPPING and ret.replacement_id and ret.refunded is None
    assert on_hand(shop, "MUG-CLASSIC") == (on, reserved + 1)  # held for the customer
    sent = claims.returns.ship_replacement(order_id, ret.return_id)
    assert sent.tracking_number and sent.for_return == ret.return_id and sent.amount.amount == 0
    assert on_hand(shop, "MUG-CLASSIC") == (on - 1, reserved)  # gone for good; nothing came back
    order = shop.orders.get(order_id)
    assert order.payment.refunded.amount == 0 and len(order.shipments) == 2
    assert order.shipment(original.shipment_id) == original  # the original parcel's record is not rewritten
    assert all(r.state != ReservationState.HELD for r in shop.inventory.reservations(order_id))
    assert K.CLAIM_REPLACEMENT_SHIPPED in claims.kinds(order_id)


def test_a_replacement_out_of_stock_is_refunded_instead(shop, claims):
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    for location in ("riyadh-dc", "jeddah-store"):
        shop.world.set_stock("MUG-CLASSIC", location, 0)
    ret = claims.request(order_id, "claim-key-3", claim({"MUG-CLASSIC": 1}, ClaimRemedy.RESHIP))
    # Every unit delivered claimed for, the shop's fault: the delivery charge comes back too (the order's total).
    total = shop.orders.get(order_id).totals.total.amount
    assert ret.status == ReturnStatus.REFUNDED and ret.replacement_id is None and ret.refunded.amount == total
    assert ret.settlement is not None and ret.settlement.shipping.amount > 0
    event = next(e for e in shop.orders.timeline(order_id) if e.kind == K.CLAIM_REFUNDED)
    email = render(shop.orders.get(order_id), event, LETTERHEAD)
    assert "We could not send the items again, so we refunded them instead." in email.text


def test_a_claim_over_the_threshold_waits_for_an_agent_who_refunds_it_and_the_workflow_goes_on(shop, claims):
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = claims.start(order_id, "claim-key-4", claim({"PRAYER-MAT": 1}))
    assert ret.status == ReturnStatus.REQUESTED and ret.approval_required and ret.estimate.total.amount == MAT
    assert claims.park(order_id, ret.return_id, "approval", "token-claim") == {"waiting": True}

    done = claims.decide.refund(AGENT, order_id, ret.return_id, "agent-claim-1")
    again = claims.decide.refund(AGENT, order_id, ret.return_id, "agent-claim-1")
    assert again.replayed and again.audit.audit_id == done.audit.audit_id
    assert done.audit.action == "refund_claim" and done.audit.after["claim_refund"] == MAT
    settled = claims.get(order_id, ret.return_id)
    assert settled.status == ReturnStatus.REFUNDED and settled.decided_by == AGENT.user_id
    assert shop.workflow.resumed["token-claim"]["status"] == "refunded"
    assert shop.orders.get(order_id).payment.refunded.amount == MAT
    with pytest.raises(ReturnRefused):  # settled once
        claims.decide.reship(AGENT, order_id, ret.return_id, "agent-claim-2")


def test_an_agent_may_not_settle_a_claim_past_the_agent_refund_limit_a_manager_may(shop, claims):
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    order_id = delivered(shop, {"PRAYER-MAT": 4})  # 4 x 138.00 = 552.00 SAR, past 500.00
    ret = claims.request(order_id, "claim-key-5", claim({"PRAYER-MAT": 4}))
    for settle in (claims.decide.refund, claims.decide.reship):
        with pytest.raises(Forbidden, match="need a manager"):
            settle(AGENT, order_id, ret.return_id, f"agent-{settle.__name__}")
    assert claims.get(order_id, ret.return_id).status == ReturnStatus.REQUESTED
    before = on_hand(shop, "PRAYER-MAT")
    claims.decide.reship(MANAGER, order_id, ret.return_id, "manager-reship")
    assert claims.get(order_id, ret.return_id).status == ReturnStatus.RESHIPPING
    assert on_hand(shop, "PRAYER-MAT") == (before[0], before[1] + 4)


def test_an_agent_declines_with_a_reason_the_customer_is_told_in_their_language(shop, claims):
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = claims.request(order_id, "claim-key-6", claim({"PRAYER-MAT": 1}, reason=ClaimReason.ITEM_MISSING))
    with pytest.raises(InvalidCustomerDetails, match="say why"):
        claims.decide.decline(AGENT, order_id, ret.return_id, "decline-0", " ")
    claims.decide.decline(AGENT, order_id, ret.return_id, "decline-1", "The carrier's photo shows it delivered whole")
    declined = claims.get(order_id, ret.return_id)
    assert declined.status == ReturnStatus.DECLINED and declined.decline_reason.startswith("The carrier")
    order = shop.orders.get(order_id)
    event = next(e for e in shop.orders.timeline(order_id) if e.kind == K.CLAIM_DECLINED)
    english = render(order, event, LETTERHEAD)
    assert english.subject.startswith("Your report about order") and "The carrier's photo" in english.text
    arabic = render(order.model_copy(update={"contact": order.contact.model_copy(update={"language": "ar"})}),
                    event, LETTERHEAD)
    assert arabic.subject.startswith("تم رفض بلاغك") and 'dir="rtl"' in arabic.html
    # Declined: its units may be claimed for again within the window.
    assert claims.choices(order_id).lines[0].quantity == 1


def test_what_may_be_claimed_says_why_not(shop, claims):
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    with pytest.raises(ReturnRefused, match="2 unit"):
        claims.request(order_id, "too-many", claim({"MUG-CLASSIC": 3}))
    claims.request(order_id, "one", claim({"MUG-CLASSIC": 1}))
    [line] = claims.choices(order_id).lines
    assert (line.delivered, line.held, line.quantity) == (2, 1, 1)
    # A unit claimed is not returned too: one mug may still go back.
    [back] = returnable(shop.orders.get(order_id), default_policies(), shop.clock.now().date())
    assert back.quantity == 1
    with pytest.raises(ReturnRefused, match="1 unit"):
        claims.request(order_id, "two-more", claim({"MUG-CLASSIC": 2}))
    shop.clock.advance(days=4)  # inspect-first: 3 days from delivery
    [late] = claims.choices(order_id).lines
    assert late.why_not == NotClaimable.WINDOW_ENDED and not claims.choices(order_id).open
    with pytest.raises(ReturnRefused, match="could be made until"):
        claims.request(order_id, "late", claim({"MUG-CLASSIC": 1}))


def test_an_undelivered_parcel_cannot_be_claimed_for(shop, claims):
    order_id = shop.place({"MUG-CLASSIC": 1})
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    [line] = claims.choices(order_id).lines
    assert line.why_not == NotClaimable.NOT_DELIVERED
    with pytest.raises(ReturnRefused, match="not delivered"):
        claims.request(order_id, "early", claim({"MUG-CLASSIC": 1}))


def test_one_key_is_one_claim_and_a_claim_is_never_approved_as_a_return(shop, claims):
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    first = claims.request(order_id, "same-key", claim({"PRAYER-MAT": 1}))
    assert claims.request(order_id, "same-key", claim({"PRAYER-MAT": 1})).return_id == first.return_id
    with pytest.raises(IdempotencyKeyReused):
        claims.request(order_id, "same-key", claim({"PRAYER-MAT": 1}, ClaimRemedy.RESHIP))
    with pytest.raises(IdempotencyKeyReused):  # nor a return under a claim's key
        claims.returns.request(order_id, "same-key", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    order = shop.orders.get(order_id)
    with pytest.raises(ReturnRefused):
        decide(order, first.return_id, approve=True, by=AGENT.user_id, at="2026-11-23T10:00:00Z")
    assert len(order.returns) == 1


def test_claims_are_counted_apart_from_returns_in_the_operations_figures(shop, claims):
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    damaged = delivered(shop, {"MUG-CLASSIC": 1}, key="key-claim-a")
    missing = delivered(shop, {"PRAYER-MAT": 1}, key="key-claim-b")
    delivered(shop, {"MUG-CLASSIC": 1}, key="key-claim-c")
    claims.request(damaged, "c1", claim({"MUG-CLASSIC": 1}))
    claims.request(missing, "c2", claim({"PRAYER-MAT": 1}, reason=ClaimReason.ITEM_MISSING))
    figures = return_figures([shop.orders.get(o) for o in shop.world.headers])
    assert figures.returns == 0 and figures.units.count == 0  # a claim is not a return
    assert (figures.claims.count, figures.claims.of) == (2, 3)
    assert {r: rate.count for r, rate in figures.claims_by_reason.items()} == {
        ClaimReason.ARRIVED_DAMAGED: 1, ClaimReason.ITEM_MISSING: 1}


@pytest.mark.parametrize("language,channel", [("en", "email"), ("ar", "email"), ("en", "sms"), ("ar", "sms")])
def test_the_claim_messages_are_in_the_customers_language_on_their_channel(shop, claims, language, channel):
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    ret = claims.request(order_id, "msg", claim({"MUG-CLASSIC": 1}, ClaimRemedy.RESHIP))
    claims.returns.ship_replacement(order_id, ret.return_id)
    order = shop.orders.get(order_id)
    order = order.model_copy(update={"contact": order.contact.model_copy(update={
        "language": language, "phone": "+966500000001", "preferred_channel": channel})})
    said = {e.kind: render(order, e, LETTERHEAD).text for e in shop.orders.timeline(order_id)
            if e.kind in (K.CLAIM_OPENED, K.CLAIM_REPLACEMENT_SHIPPED)}
    tracking = order.shipment(ret.replacement_id).tracking_number
    words = {"en": ("arrived damaged", "again"), "ar": ("تالفاً", "مرة أخرى")}[language]
    assert words[0] in said[K.CLAIM_OPENED] and words[1] in said[K.CLAIM_OPENED]
    assert tracking in said[K.CLAIM_REPLACEMENT_SHIPPED] and words[1] in said[K.CLAIM_REPLACEMENT_SHIPPED]
    if channel == "sms":
        assert len(said[K.CLAIM_OPENED]) < 400


# --- the console: an open claim on the order's page, settled by an agent's form --------------------------------------
CONSOLE_KEY = b"console-session-key"
WHO = {"agent": {"sub": "u-agent", "cognito:username": "agent", "cognito:groups": "agent", "iat": 1},
       "warehouse": {"sub": "u-wh", "cognito:username": "warehouse", "cognito:groups": "warehouse", "iat": 1}}


class _Log:
    def info(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

    exception = info


def _console(claims: Claims) -> Any:
    from dataclasses import dataclass

    from dawra.app.backoffice import ViewOrderFile
    from dawra.web.console import Console

    @dataclass(frozen=True)
    class Office:
        view_order: ViewOrderFile

    @dataclass(frozen=True)
    class Uses:
        decide: Any
        receive: Any
        inspect: Any
        decide_claim: Any

    uses = claims.returns
    return Console(Office(ViewOrderFile(claims.shop.orders, uses.audit)), lambda token: WHO[token],  # type: ignore
                   lambda *_: None, lambda: CONSOLE_KEY, _Log(),  # type: ignore[arg-type]
                   Uses(uses.decide, uses.receive, uses.inspect, claims.decide))


def _post(console: Any, who: str, order_id: str, return_id: str, action: str, **fields: str) -> Any:
    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE, csrf_token

    form = {"csrf": [csrf_token(CONSOLE_KEY, WHO[who])], "key": ["key-console-claim-1"],
            **{name: [value] for name, value in fields.items()}}
    return console.handle(WebRequest("POST", f"/admin/orders/{order_id}/returns/{return_id}/{action}", form=form,
                                     cookies={SESSION_COOKIE: who}))


def test_the_console_shows_an_open_claim_with_its_forms_and_an_agent_reships_it_once(shop, claims):
    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE

    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 10)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = claims.request(order_id, "console-claim", claim({"PRAYER-MAT": 1}, ClaimRemedy.RESHIP))
    console = _console(claims)

    def page(who: str) -> str:
        return console.handle(WebRequest("GET", f"/admin/orders/{order_id}", cookies={SESSION_COOKIE: who})).body

    body = page("agent")
    assert 'data-testid="claim"' in body and "Arrived damaged" in body and "the items sent again" in body
    for form in ("form-refund-claim", "form-reship-claim", "form-decline-claim"):
        assert form in body
    assert "form-approve-return" not in body  # a claim is never approved as a return
    assert "form-reship-claim" not in page("warehouse")
    assert _post(console, "warehouse", order_id, ret.return_id, "reship-claim").status == 403
    assert _post(console, "agent", order_id, ret.return_id, "decline-claim").status == 422  # no reason given

    before = on_hand(shop, "PRAYER-MAT")
    done = _post(console, "agent", order_id, ret.return_id, "reship-claim")
    assert done.status == 303 and "done=reship_claim" in done.headers["Location"]
    assert _post(console, "agent", order_id, ret.return_id, "reship-claim").status == 303  # the same key: once
    assert on_hand(shop, "PRAYER-MAT") == (before[0], before[1] + 1)
    [entry] = [e for e in claims.returns.audit.world.audit.values() if e.action == "reship_claim"]
    assert entry.actor_id == "u-agent" and entry.after["return_id"] == ret.return_id
    assert "form-reship-claim" not in page("agent")


# --- the customer's page: "Report a problem with your parcel" ----------------------------------------------------------
def test_the_order_page_offers_a_claim_within_the_window_and_one_form_post_makes_one_claim(shop, claims):
    import html
    import re
    from dataclasses import dataclass

    from fakes import LINK_KEY, FakeOrderSearch, FakeRateLimits
    from test_customer_page import Log, RecordingActions, get, post
    from test_customer_returns_page import PageReturns

    from dawra.app.order_page import OpenOrderLink, SendOrderLink
    from dawra.web.customer import CustomerSite

    @dataclass
    class PageClaims(PageReturns):
        def claimable_lines(self, order_id: str) -> Any:
            return claims.choices(order_id)

        def start_claim(self, order_id: str, request_key: str, request: ClaimRequest) -> Any:
            ret = claims.request(order_id, request_key, request)
            self.started.append(ret.return_id)
            return ret

    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    page_claims = PageClaims(claims.returns, [])
    site = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links,
                        RecordingActions(shop, offered=frozenset()), Log(), returns=page_claims,
                        locations=lambda: list(shop.world.locations))
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    token = shop.links.token(shop.orders.get(order_id))
    assert 'data-testid="start-claim"' in get(site, f"/my-order/{token}").body
    assert "claim" in site.order_json(token)["actions"]
    form = get(site, f"/my-order/{token}/claim")
    assert form.status == 200 and 'data-testid="claim-form"' in form.body
    found = re.search(r'<form[^>]*data-testid="claim-form".*?</form>', form.body, re.S)[0]
    fields = {n: html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"',
                                                         found)}
    chosen = {**fields, "reason": "arrived_damaged", "qty.MUG-CLASSIC": "1", "remedy": "refund",
              "refund_method": "original_payment", "comment": "<b>cracked</b>"}
    bad = post(site, f"/my-order/{token}/claim", {**chosen, "qty.MUG-CLASSIC": "3"})
    assert bad.status == 422 and not shop.orders.get(order_id).returns  # more than delivered: nothing made
    forged = post(site, f"/my-order/{token}/claim", {**chosen, "csrf": "forged"})
    assert forged.status == 403 and not shop.orders.get(order_id).returns
    for _ in range(2):
        done = post(site, f"/my-order/{token}/claim", chosen)
        assert done.status == 303 and "done=claim_opened" in done.headers["Location"]
    [ret] = shop.orders.get(order_id).returns
    assert ret.is_claim and ret.lines[0].comment == "<b>cracked</b>" and page_claims.started == [ret.return_id] * 2
    section = get(site, f"/my-order/{token}").body
    assert f'id="return-{ret.return_id}"' in section and 'data-testid="claim"' in section
    assert "&lt;b&gt;cracked&lt;/b&gt;" in section and "<b>cracked</b>" not in section  # escaped
    shop.clock.advance(days=4)
    assert 'data-testid="start-claim"' not in get(site, f"/my-order/{token}").body  # the window ended
