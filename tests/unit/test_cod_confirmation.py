"""Cash on delivery confirmed by the customer before anything ships: held where its country asks for it, the
customer told how (the link, or an SMS reply with the order's code), released once by their confirmation (audited
as the customer), and cancelled by the hold's own timeout when nobody confirms."""

import pytest
from fakes import FakeAuditLog, FakeOrderSearch, request

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.app.checkout import Checkout
from dawra.app.cod_confirmation import ConfirmCashOnDelivery, read_reply
from dawra.domain.cod import confirmation_code
from dawra.domain.errors import IllegalTransition
from dawra.domain.holds import HoldKind
from dawra.domain.notifications import deserves_message
from dawra.domain.order import OrderStatus
from dawra.rendering import Letterhead, render

PHONE = "+971501234567"


def placed(shop, key: str = "cod-ae-0001", country: str = "AE", city: str = "Dubai") -> str:
    checkout = Checkout(shop.orders, shop.inventory, shop.uow, shop.payments, shop.alerts, shop.clock,
                        cod=CashOnDelivery())
    order = checkout.place_order(key, request(
        {"MUG-CLASSIC": 1}, payment_method="cash_on_delivery", payment_token=None,
        contact={"email": "aisha@example.com", "phone": PHONE, "preferred_channel": "sms", "language": "ar"},
        shipping_address={"name": "Aisha", "line1": "1 Sheikh Zayed Rd", "city": city, "country": country}))
    shop.reserve(order.order_id)
    return order.order_id


def confirming(shop) -> ConfirmCashOnDelivery:
    return ConfirmCashOnDelivery(shop.orders, shop.uow, FakeAuditLog(shop.world), shop.workflow, shop.clock,
                                 FakeOrderSearch(shop.world))


def parked(shop, order_id: str) -> str:
    """The workflow parks the order's shipment while it is held (WaitWhileOnHold); its token."""
    order = shop.orders.get(order_id)
    [shipment] = order.shipments
    order.wait_for_release(shipment.shipment_id, f"token-{order_id}")
    shop.uow.commit(order=order)
    return f"token-{order_id}"


def test_where_its_country_asks_the_order_waits_and_the_customer_is_told_how_to_confirm(shop):
    order_id = placed(shop)
    order = shop.orders.get(order_id)
    assert order.status == OrderStatus.ON_HOLD and order.held_as == HoldKind.COD_CONFIRMATION
    [asked] = [e for e in shop.orders.timeline(order_id) if e.kind == "cod_confirmation_requested"]
    code = confirmation_code(order_id)
    assert asked.detail["code"] == code and len(code) == 4 and deserves_message(asked)

    sms = render(order, asked, Letterhead("Dawra", "help@shop.example", "https://shop.example/my-order/t"))
    assert sms.channel == "sms" and f"نعم {code}" in sms.text and "https://shop.example/my-order/t" in sms.text

    saudi = placed(shop, "cod-sa-0001", country="SA", city="Riyadh")  # Saudi Arabia asks for no confirmation
    assert shop.orders.get(saudi).status == OrderStatus.ALLOCATED


def test_the_customer_confirms_by_the_link_once_and_the_workflow_goes_on(shop):
    order_id = placed(shop)
    token = parked(shop, order_id)

    first = confirming(shop).by_link(order_id, "form-key-0001")
    assert not first.already and first.order.status == OrderStatus.ALLOCATED and first.order.cod_confirmed_at
    assert shop.workflow.resumed[token] == {"released": True}
    [confirmed] = [e for e in shop.orders.timeline(order_id) if e.kind == "cod_confirmed"]
    assert confirmed.detail["by"] == "link"
    [entry] = [e for e in shop.world.audit.values() if e.action == "confirm_cod"]
    assert entry.actor_id == "customer" and entry.after["status"] == "ALLOCATED"

    again = confirming(shop).by_link(order_id, "form-key-0002")  # a second click, another form key
    assert again.already and shop.world.timeline_kinds(order_id).count("cod_confirmed") == 1


def test_an_sms_reply_with_the_phone_and_code_confirms_the_order_it_names(shop):
    first, second = placed(shop, "cod-ae-0001"), placed(shop, "cod-ae-0002")
    replies = confirming(shop)
    assert replies.by_sms(PHONE, "no thanks", "m-1") == "not a yes"
    assert replies.by_sms(PHONE, "yes", "m-2") == "several orders wait: the reply names none"
    assert replies.by_sms(PHONE, "yes 0000" if confirmation_code(first) != "0000" else "yes 0001", "m-3") \
        == "no order waits for this reply"
    code = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in confirmation_code(second))  # Arabic-Indic digits
    assert replies.by_sms(PHONE, f"نعم {code}", "m-4") == f"{second} confirmed"
    assert shop.orders.get(second).status == OrderStatus.ALLOCATED
    assert shop.orders.get(first).status == OrderStatus.ON_HOLD
    assert replies.by_sms(PHONE, "1", "m-5") == f"{first} confirmed"  # now the only one waiting: no code needed
    assert replies.by_sms("+971500000000", "1", "m-6") == "no order waits for this reply"


def test_an_order_not_waiting_for_confirmation_cannot_be_confirmed(shop):
    saudi = placed(shop, "cod-sa-0002", country="SA", city="Riyadh")
    with pytest.raises(IllegalTransition, match="not waiting"):
        confirming(shop).by_link(saudi, "form-key-0003")


def test_unconfirmed_when_the_hold_times_out_it_is_cancelled_as_not_confirmed(shop):
    order_id = placed(shop)
    order = shop.orders.get(order_id)
    assert order.expire_hold("2026-12-03T00:00:00Z") == "NotConfirmed"
    assert order.cancellation_requested and order.cancellation_as == "NotConfirmed"
    shop.uow.commit(order=order)
    with pytest.raises(IllegalTransition):
        confirming(shop).by_link(order_id, "form-key-0004")  # too late: it is being cancelled


@pytest.mark.parametrize(("text", "yes", "code"), [
    ("1", True, None), ("YES 4821", True, "4821"), ("نعم ٤٨٢١", True, "4821"), ("ok!", True, None),
    ("no", False, None), ("1234", False, "1234"), ("yes please", False, None), ("", False, None)])
def test_replies_are_read_in_either_language(text, yes, code):
    assert read_reply(text) == (yes, code)


def test_the_order_page_offers_the_button_while_it_waits_and_confirms_with_it(shop):
    from fakes import LINK_KEY
    from test_customer_page import Log, form_of, get, post

    from dawra.app.customer import CustomerActions
    from dawra.app.order_page import OpenOrderLink
    from dawra.web.customer import CustomerSite

    actions = CustomerActions(shop.orders, shop.inventory, shop.uow, FakeAuditLog(shop.world), shop.workflow,
                              shop.payments, shop.clock, release_stock=shop.release, cancel_order=shop.cancel)
    site = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), None, shop.links, actions, Log())
    order_id = placed(shop)
    token = shop.links.token(shop.orders.get(order_id))

    page = get(site, f"/my-order/{token}")
    assert page.status == 200 and confirmation_code(order_id) in page.body and "تأكيد طلبي" in page.body
    done = post(site, f"/my-order/{token}/confirm", form_of(page.body, "confirm-cod"))
    assert done.status == 303 and "done=confirm_cod" in done.headers["Location"]
    assert shop.orders.get(order_id).status == OrderStatus.ALLOCATED
    after = get(site, f"/my-order/{token}")
    assert 'data-testid="confirm-cod-form"' not in after.body and "أكّدت الطلب" in after.body
