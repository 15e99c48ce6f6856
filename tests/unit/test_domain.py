import json
import time

import pytest

from dawra.adapters.carriers.sandbox import SandboxCarrier, sign
from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.domain.allocation import Location, plan_allocation
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import PaymentDeclined, TransientError, WebhookRejected
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine, OrderStatus, PaymentState, Totals
from dawra.domain.shipment import Shipment, ShipmentStatus
from dawra.domain.timeline import TimelineEvent
from dawra.domain.tracking import TrackingStatus
from dawra.rendering import Letterhead, format_money, render

LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/v1/my-order/TOKEN")
LOCS = [Location(location_id="a", name="A", kind="warehouse", priority=1, region="r"),
        Location(location_id="b", name="B", kind="store", priority=2, region="r"),
        Location(location_id="c", name="C", kind="3pl", priority=3, region="r")]


def test_allocation_prefers_one_location_then_priority():
    picks = plan_allocation({"x": 2}, {("x", "b"): 5, ("x", "c"): 5}, LOCS)
    assert [(p.location_id, p.quantity) for p in picks] == [("b", 2)]


def test_allocation_splits_over_the_fewest_locations():
    available = {("x", "a"): 1, ("y", "b"): 1, ("x", "c"): 1, ("y", "c"): 1}
    picks = plan_allocation({"x": 1, "y": 1}, available, LOCS)
    assert {p.location_id for p in picks} == {"c"}  # one shipment beats two better-priority ones
    picks = plan_allocation({"x": 2, "y": 1}, available, LOCS)
    assert sum(p.quantity for p in picks if p.sku == "x") == 2


def test_allocation_returns_none_when_stock_cannot_cover():
    assert plan_allocation({"x": 3}, {("x", "a"): 1, ("x", "b"): 1}, LOCS) is None


def test_sandbox_payments_are_deterministic_and_documented():
    provider = SandboxPaymentProvider()
    amount = Money(amount=100, currency="SAR")
    assert provider.authorize("tok_sandbox_approve", amount, "ref") == provider.authorize(
        "tok_sandbox_approve", amount, "ref")
    with pytest.raises(PaymentDeclined):
        provider.authorize("tok_sandbox_decline", amount, "ref")
    with pytest.raises(TransientError):
        provider.authorize("tok_sandbox_unavailable", amount, "ref")


def test_sandbox_carrier_signature_and_replay_window():
    carrier = SandboxCarrier()
    body = json.dumps({"event_id": "e1", "tracking_number": "SBX0123456789AB", "status": "DELIVERED",
                       "occurred_at": "2026-11-23T10:00:00+03:00"}).encode()
    now = int(time.time())
    carrier.verify(body, sign(body, b"k", now), b"k", now * 1000)
    with pytest.raises(WebhookRejected):
        carrier.verify(body, sign(body, b"other", now), b"k", now * 1000)
    with pytest.raises(WebhookRejected):
        carrier.verify(body + b" ", sign(body, b"k", now), b"k", now * 1000)
    with pytest.raises(WebhookRejected):
        carrier.verify(body, sign(body, b"k", now - 3600), b"k", now * 1000)
    [event] = carrier.parse(body)
    assert event.status == TrackingStatus.DELIVERED
    assert event.occurred_at == "2026-11-23T07:00:00.000Z"


def test_tracking_never_moves_backwards():
    def shipment(status: ShipmentStatus) -> Shipment:
        return Shipment(shipment_id="shp_1", order_id="o", location_id="l", lines=[],
                        amount=Money(amount=1, currency="SAR"), status=status)

    assert shipment(ShipmentStatus.LABEL_CREATED).moves_forward_to(TrackingStatus.DELIVERED) == "delivered"
    assert shipment(ShipmentStatus.DELIVERED).moves_forward_to(TrackingStatus.IN_TRANSIT) is None
    assert shipment(ShipmentStatus.IN_TRANSIT).moves_forward_to(TrackingStatus.EXCEPTION) is None


def _order(name: str, language="en", channel="email") -> Order:
    def sar(amount: int) -> Money:
        return Money(amount=amount, currency="SAR")

    return Order(order_id="ord_0123456789abcdef01234567", customer_id="c", status=OrderStatus.CONFIRMED,
                 placed_at="2026-11-23T10:00:00.000Z", promised_by="2026-11-28",
                 contact=Contact(email="a@example.com", phone="+966501234567", preferred_channel=channel,
                                 language=language),
                 shipping_address=Address(name=name, line1="x", city="Riyadh", country="SA"),
                 shipping_method="standard",
                 lines=[OrderLine(sku="M", title="Mug", quantity=1, unit_price=sar(100), line_total=sar(100),
                                  tax=sar(15))],
                 totals=Totals(subtotal=sar(100), shipping=sar(0), tax=sar(15), total=sar(115)),
                 payment=PaymentState(provider="sandbox", authorization_id="auth_x", authorized=sar(115),
                                      captured=sar(0), refunded=sar(0)))


def test_customer_input_is_escaped_in_html_email():
    event = TimelineEvent(event_id="order_confirmed:x", order_id="ord_0123456789abcdef01234567",
                          kind="order_confirmed", at="2026-11-23T10:00:00.000Z")
    message = render(_order("<script>alert(1)</script>"), event, LETTERHEAD)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "1.15 SAR" in message.text


def test_arabic_sms_and_rtl_email():
    event = TimelineEvent(event_id="order_cancelled:x", order_id="ord_0123456789abcdef01234567",
                          kind="order_cancelled", at="2026-11-23T10:00:00.000Z", detail={"reason": "OutOfStock"})
    sms = render(_order("عمر", language="ar", channel="sms"), event, LETTERHEAD)
    assert sms.channel == "sms" and sms.to == "+966501234567" and "إلغاء" in sms.text
    email = render(_order("عمر", language="ar"), event, LETTERHEAD)
    assert 'dir="rtl"' in email.html


def test_money_formatting_uses_the_currency_exponent():
    assert format_money(Money(amount=123456, currency="SAR")) == "1,234.56 SAR"
    assert format_money(Money(amount=1500, currency="KWD")) == "1.500 KWD"
