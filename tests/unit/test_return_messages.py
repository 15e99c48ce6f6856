"""What the customer hears about their returns (dawra/domain/notifications.py rules, dawra/rendering.py and the
templates): each step worth a message, in English and Arabic, by email and SMS, every one with the letterhead (the
shop, the order's reference, the link to its page, the support contact), and none for the steps that are not."""

from __future__ import annotations

from typing import Any

import pytest
from returning import AGENT, WAREHOUSE, Returns, asking, delivered
from test_return_refunds import fresh

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.domain.customer import Contact
from dawra.domain.notifications import NOTIFIED_KINDS, Recipient, deserves_message
from dawra.domain.returns import InspectionOutcome, RefundMethod, ReturnMethod, ReturnReason
from dawra.domain.timeline import TimelineKind as K
from dawra.rendering import SUBJECTS, Letterhead, format_money, order_reference, render

RETURN_KINDS = [k for k in NOTIFIED_KINDS if k.value.startswith("return_") and k != K.RETURN_SETTLED]
LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/my-order/TOKEN")


def events_of(shop: Any, order_id: str, kind: K) -> list[Any]:
    return [e for e in shop.orders.timeline(order_id) if e.kind == kind]


def told(shop: Any, order_id: str) -> list[str]:
    """Every event of the order through the notifier, as the stream would: the subjects sent."""
    for event in shop.orders.timeline(order_id):
        shop.notify(event, sender="stream")
    return [m["subject"] for m in shop.messenger.sent]


def a_whole_return(shop: Any) -> tuple[str, str]:
    """A prayer mat back by label, refunded: requested (approved by the policy), label, received, inspected,
    refunded; and a dallah an agent approves (homeware needs approval), brought to a store, found wrong: rejected.
    A minute passes between steps, so the timeline's order is the story's."""
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1, "DALLAH-BRASS": 1})

    def then(step: Any, *args: Any) -> Any:
        shop.clock.advance(minutes=1)
        return step(*args)

    mat = then(uses.request, order_id, "key-return-0001", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    then(uses.issue_label, order_id, mat.return_id)
    then(uses.receive, order_id, mat.return_id)
    then(uses.inspect, WAREHOUSE, order_id, mat.return_id, "key-inspect-0001",
         {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    then(uses.refund, order_id, mat.return_id)
    pot = then(uses.request, order_id, "key-return-0002", asking(
        {"DALLAH-BRASS": (1, ReturnReason.OTHER)}, method=ReturnMethod.STORE, location="jeddah-store",
        refund=RefundMethod.STORE_CREDIT))
    then(uses.decide.approve, AGENT, order_id, pot.return_id, "key-decide-0001")
    then(uses.issue_label, order_id, pot.return_id)
    then(uses.receive, order_id, pot.return_id)
    then(uses.inspect, WAREHOUSE, order_id, pot.return_id, "key-inspect-0002",
         {"DALLAH-BRASS": (InspectionOutcome.WRONG_ITEM, "a teapot, not our dallah")})
    then(uses.refund, order_id, pot.return_id)
    return order_id, mat.return_id


def test_each_step_worth_a_message_is_told_once_and_the_policys_approval_is_not(shop):
    order_id, _ = a_whole_return(shop)
    ref = order_reference(order_id)
    subjects = told(shop, order_id)
    returns = [s for s in subjects if "return" in s.lower() or "refund" in s.lower()]
    assert returns == [
        f"Your return request for order {ref}",  # the mat: accepted with the request, no separate approval
        f"Your return label for order {ref} is ready",
        f"We received your return for order {ref}",
        f"Your refund for order {ref}",
        f"Your return request for order {ref}",  # the dallah: waits for an agent
        f"Your return for order {ref} is accepted",  # the agent's approval is told
        f"We received your return for order {ref}",
        f"We could not accept your return for order {ref}",
    ]
    told(shop, order_id)  # the stream again: nothing twice
    assert len(shop.messenger.sent) == len(subjects)
    [auto] = [e for e in events_of(shop, order_id, K.RETURN_APPROVED) if e.detail["by"] == "policy"]
    assert not deserves_message(auto)


def test_the_messages_say_what_happened_and_what_to_do(shop):
    order_id, mat_id = a_whole_return(shop)
    told(shop, order_id)
    texts = {m["subject"]: m["text"] for m in shop.messenger.sent}
    ref = order_reference(order_id)
    label = texts[f"Your return label for order {ref} is ready"]
    assert f"#return-{mat_id}" in label and "Tracking number: SBR" in label
    refunded = texts[f"Your refund for order {ref}"]
    given = shop.orders.get(order_id).return_of(mat_id).refunded
    assert f"gave you back {format_money(given)} to the way you paid" in refunded
    rejected = texts[f"We could not accept your return for order {ref}"]
    assert "it is not the item we sent" in rejected and "Nothing was refunded" in rejected
    asked = [m["text"] for m in shop.messenger.sent if m["subject"] == f"Your return request for order {ref}"]
    assert "It is accepted" in asked[0] and "We check requests like this one" in asked[1]


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_every_return_message_has_the_letterhead_in_both_languages(shop, language, channel):
    order_id, _ = a_whole_return(shop)
    uses = Returns(shop)
    # The two ends not reached above: a request nobody decided, and a label nobody used.
    shop.clock.advance(minutes=5)
    late = uses.request(order_id, "key-return-0003", asking({"DALLAH-BRASS": (1, ReturnReason.OTHER)}))
    uses.expire_request(order_id, late.return_id)
    order = shop.orders.get(order_id)
    order.contact = Contact(email="sara@example.com", phone="+966501234567", preferred_channel="both",
                            language=language)
    ref = order_reference(order_id)
    rendered = {}
    for event in shop.orders.timeline(order_id):
        if event.kind in RETURN_KINDS and deserves_message(event):
            to = Recipient(channel, "+966501234567" if channel == "sms" else "sara@example.com")
            message = render(order, event, LETTERHEAD, to)
            rendered[event.kind] = message
            body = message.text if channel == "sms" else message.text + message.html
            assert ref in body and LETTERHEAD.page_url in body and LETTERHEAD.shop_name in body, event.kind
            assert LETTERHEAD.support in body, event.kind
            assert message.subject == SUBJECTS[language][event.kind].format(ref=ref)
            if language == "ar":
                assert any("\u0600" <= ch <= "\u06ff" for ch in message.text), event.kind
            if channel == "email":
                assert f'lang="{language}"' in message.html
    assert set(rendered) >= {K.RETURN_REQUESTED, K.RETURN_APPROVED, K.RETURN_LABEL_ISSUED, K.RETURN_RECEIVED,
                             K.RETURN_REFUNDED, K.RETURN_REJECTED, K.RETURN_EXPIRED}


def test_a_declined_return_quotes_the_agent_escaped_and_an_expired_label_says_so(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"DALLAH-BRASS": 1, "PRAYER-MAT": 1})
    pot = uses.request(order_id, "key-return-0001", asking({"DALLAH-BRASS": (1, ReturnReason.OTHER)}))
    uses.decide.decline(AGENT, order_id, pot.return_id, "key-decide-0001", "<b>used</b> and scratched")
    mat = uses.request(order_id, "key-return-0002", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    uses.issue_label(order_id, mat.return_id)
    shop.clock.advance(days=20)
    uses.expire_label(order_id, mat.return_id)
    told(shop, order_id)
    by_subject = {m["subject"]: m for m in shop.messenger.sent}
    ref = order_reference(order_id)
    declined = by_subject[f"Your return request for order {ref} was declined"]
    assert "The reason: <b>used</b> and scratched" in declined["text"]
    assert "&lt;b&gt;used&lt;/b&gt;" in declined["html"] and "<b>used</b>" not in declined["html"]
    expired = by_subject[f"Your return for order {ref} was not sent in time"]
    assert "label for your order" in expired["text"] and "ask again on your order's page" in expired["text"]


def test_a_store_drop_off_never_brought_ends_by_its_date_and_says_so(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    mat = uses.request(order_id, "key-return-0001", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)},
                                                           method=ReturnMethod.STORE, location="jeddah-store"))
    uses.issue_label(order_id, mat.return_id)  # the store named, and a date to bring it by
    shop.clock.advance(days=13)
    assert uses.expire_label(order_id, mat.return_id) == "awaiting_drop_off"  # not yet
    shop.clock.advance(days=2)
    assert uses.expire_label(order_id, mat.return_id) == "label_expired"
    told(shop, order_id)
    [expired] = [m for m in shop.messenger.sent if "was not sent in time" in m["subject"]]
    assert "not brought to the store" in expired["text"] and "label" not in expired["text"]


def test_a_bank_transfer_refund_names_only_the_accounts_last_digits(shop):
    shop = fresh(shop, CashOnDelivery())
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "key-return-0001", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)},
                                                           refund=RefundMethod.BANK_TRANSFER,
                                                           iban="SA03 8000 0000 6080 1016 7519"))
    uses.back(order_id, ret.return_id)
    uses.inspect(WAREHOUSE, order_id, ret.return_id, "key-inspect-0001",
                 {"PRAYER-MAT": (InspectionOutcome.DAMAGED, "torn")})
    uses.refund(order_id, ret.return_id)
    told(shop, order_id)
    [refund] = [m for m in shop.messenger.sent if m["subject"].startswith("Your refund")]
    assert "account ending 7519" in refund["text"] and "SA0380000000608010167519" not in refund["text"] + \
        refund["html"]
