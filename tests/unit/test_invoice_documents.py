"""Tax invoices and credit notes: one invoice per shipment captured, numbered gaplessly in the commit that captures;
a credit note for each refund, referring to the invoice it corrects, with the right amounts; the Saudi simplified
invoice's QR code (TLV, base64) read back to its five fields."""

from __future__ import annotations

import base64

import pytest
from fakes import FakeAuditLog
from returning import AGENT, WAREHOUSE, Returns, asking, delivered

from dawra.app.backoffice import OrderActions
from dawra.domain.access import Actor, Role
from dawra.domain.errors import TransientError
from dawra.domain.returns import InspectionOutcome, ReturnReason, ReturnStatus
from dawra.domain.tax_documents import (
    Buyer,
    DocumentKind,
    DocumentLine,
    Seller,
    TaxDocument,
    decimal_amount,
    document_number,
    merchant_profile,
    read_zatca_qr,
    tax_in,
    zatca_qr,
)

MANAGER = Actor(user_id="u-mgr", username="manager@dawra.example", roles=frozenset({Role.MANAGER}))
ARABIC_SELLER = "شركة دورة للتجارة"


def shipped(shop, lines, key="key-00000001"):
    order_id = shop.place(lines, key=key)
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    return shop.orders.get(order_id)


def documents(shop, order):
    return [shop.orders.tax_document(order.order_id, ref.number) for ref in order.documents]


# --- the QR code ---------------------------------------------------------------------------------------------------


def test_the_qr_payload_is_tlv_in_base64_and_reads_back_to_its_five_fields():
    payload = zatca_qr(ARABIC_SELLER, "300000000000003", "2026-11-23T09:00:00Z", "1150.00", "150.00")
    raw = base64.b64decode(payload)
    name = ARABIC_SELLER.encode("utf-8")
    assert len(name) != len(ARABIC_SELLER)  # Arabic letters are two bytes each: the length is the bytes'
    assert raw[:2 + len(name)] == bytes([1, len(name)]) + name
    assert raw[2 + len(name):4 + len(name) + 15] == bytes([2, 15]) + b"300000000000003"
    assert read_zatca_qr(payload) == {"seller_name": ARABIC_SELLER, "vat_number": "300000000000003",
                                      "timestamp": "2026-11-23T09:00:00Z", "total_with_vat": "1150.00",
                                      "vat_total": "150.00"}


def test_a_value_too_long_for_one_length_byte_is_refused():
    with pytest.raises(ValueError, match="one length byte"):
        zatca_qr("ش" * 128, "300000000000003", "2026-11-23T09:00:00Z", "1.00", "0.13")


def test_amounts_are_written_as_the_currency_s_decimals():
    assert (decimal_amount(115000, "SAR"), decimal_amount(5, "SAR"), decimal_amount(1234, "KWD"),
            decimal_amount(-518, "SAR")) == ("1150.00", "0.05", "1.234", "-5.18")
    assert (tax_in(11500, 1500), tax_in(-596, 1500), tax_in(100, 0)) == (1500, -78, 0)


def test_an_invoice_s_qr_code_names_the_registered_seller_and_its_totals(shop):
    order = shipped(shop, {"MUG-CLASSIC": 2})
    [invoice] = documents(shop, order)
    fields = read_zatca_qr(invoice.qr_payload())
    assert fields == {"seller_name": merchant_profile().names["ar"], "vat_number": merchant_profile().vat_number,
                      "timestamp": invoice.issued_at, "total_with_vat": decimal_amount(invoice.gross, "SAR"),
                      "vat_total": decimal_amount(invoice.tax, "SAR")}
    uae = invoice.model_copy(update={"seller": invoice.seller.model_copy(update={"country": "AE"})})
    assert uae.qr_payload() is None  # the QR code is Saudi Arabia's


# --- invoices ------------------------------------------------------------------------------------------------------


def test_each_shipment_captured_gets_its_invoice_with_lines_adding_up_to_the_capture(shop):
    order = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})  # two locations: two parcels, two captures
    invoices = documents(shop, order)
    assert [d.number for d in invoices] == ["INV-2026-000001", "INV-2026-000002"]
    assert sorted(s for d in invoices for s in d.shipment_ids) == sorted(s.shipment_id for s in order.shipments)
    for invoice in invoices:
        [shipment_id] = invoice.shipment_ids
        assert invoice.gross == order.shipment(shipment_id).amount.amount
        assert invoice.kind == DocumentKind.INVOICE and invoice.is_simplified
    assert sum(d.gross for d in invoices) == order.payment.captured.amount == order.totals.total.amount
    dallah = next(line for d in invoices for line in d.lines if line.sku == "DALLAH-BRASS")
    assert (dallah.quantity, dallah.unit_price, dallah.net, dallah.tax, dallah.tax_rate_bps) == (1, 18900, 18900,
                                                                                                 2835, 1500)
    dates = next(line for d in invoices for line in d.lines if line.sku == "DATES-1KG")
    assert (dates.net, dates.tax, dates.tax_rate_bps, dates.title_in("ar")) == (13000, 0, 0, "تمر سكري، 1 كغ")
    assert sum(d.tax for d in invoices) == order.totals.tax.amount
    assert [ref.number for ref in order.documents] == ["INV-2026-000001", "INV-2026-000002"]


def test_numbers_follow_on_across_orders_and_a_retried_shipment_issues_none(shop):
    first = shipped(shop, {"MUG-CLASSIC": 1})
    second = shipped(shop, {"PRAYER-MAT": 1}, key="key-00000002")
    shop.ship(first.order_id, first.shipments[0].shipment_id)  # Step Functions retried the task
    assert [ref.number for ref in shop.orders.get(first.order_id).documents] == ["INV-2026-000001"]
    assert [ref.number for ref in second.documents] == ["INV-2026-000002"]
    assert shop.world.counters == {"INV-2026": 2}
    assert sorted(number for _, number in shop.world.documents) == ["INV-2026-000001", "INV-2026-000002"]


def test_a_capture_that_does_not_commit_takes_no_number(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    [planned] = shop.reserve(order_id).shipments
    shop.uow.faults = ["transient"]
    with pytest.raises(TransientError):
        shop.ship(order_id, planned.shipment_id)
    assert shop.world.documents == {} and shop.world.counters == {}
    shop.ship(order_id, planned.shipment_id)  # the task's retry
    assert [ref.number for ref in shop.orders.get(order_id).documents] == ["INV-2026-000001"]


def test_the_buyer_is_the_customer_as_typed_and_the_seller_is_copied_at_issue(shop):
    order = shipped(shop, {"MUG-CLASSIC": 1}, )
    [invoice] = documents(shop, order)
    assert invoice.buyer == Buyer(name="Sara", address=("12 Olaya St", "Riyadh", "SA"), country="SA")
    assert invoice.seller == merchant_profile()
    assert (invoice.po_number, invoice.due_date, invoice.payment_method) == (None, None, "sandbox")


def test_a_replacement_sent_for_a_lost_parcel_is_not_invoiced_again(shop):
    order = shipped(shop, {"MUG-CLASSIC": 1})
    shipment = order.shipments[0]
    order.declare_lost(shipment.shipment_id)
    replacement = order.settle_by_reship(shipment.shipment_id, "shp-again", "riyadh-dc", "2026-11-30",
                                         "2026-11-25T09:00:00Z")
    order.ship(replacement.shipment_id, carrier="sandbox", tracking_number="T2", label_url="", at="2026-11-25T10:00:00Z")
    assert order.new_documents == []  # nothing captured: the customer paid once


# --- credit notes --------------------------------------------------------------------------------------------------


def test_a_partial_refund_gets_a_credit_note_referring_to_the_invoice(shop):
    order = shipped(shop, {"DALLAH-BRASS": 1})
    actions = OrderActions(shop.orders, shop.inventory, shop.uow, FakeAuditLog(shop.world), shop.workflow, shop.payments, shop.clock,
                           release_stock=shop.release, cancel_order=shop.cancel)
    actions.refund(MANAGER, order.order_id, "refund-0001", 2300, "late delivery")
    actions.refund(MANAGER, order.order_id, "refund-0001", 2300, "late delivery")  # replay: one credit note
    order = shop.orders.get(order.order_id)
    [invoice, note] = documents(shop, order)
    assert note.kind == DocumentKind.CREDIT_NOTE and note.number == "CN-2026-000001"
    assert note.refers_to == (invoice.number,)
    assert (note.gross, note.tax, note.net) == (2300, 300, 2000)  # 23.00 back, 15% VAT inside it
    assert note.reason == "refund" and shop.world.counters == {"INV-2026": 1, "CN-2026": 1}


def test_a_returned_item_gets_a_credit_note_listing_it_down_to_what_was_given_back(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 2})  # inspect-first: 10% restocking, 15.00 return label
    ret = returns.request(order_id, "ret-1", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    if ret.status == ReturnStatus.REQUESTED:
        returns.decide.approve(AGENT, order_id, ret.return_id, "ret-1-decide")
    returns.back(order_id, ret.return_id)
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "ret-1-inspect",
                    {"MUG-CLASSIC": (InspectionOutcome.SELLABLE, None)})
    returns.refund(order_id, ret.return_id)
    order = shop.orders.get(order_id)
    invoice, note = documents(shop, order)
    assert note.refers_to == (invoice.number,) and note.reason == "return"
    assert note.gross == order.return_of(ret.return_id).refunded.amount == 3157
    [item, restocking, label] = note.lines
    assert (item.sku, item.quantity, item.net, item.tax) == ("MUG-CLASSIC", 1, 4500, 675)
    assert (restocking.gross, label.gross) == (-518, -1500)
    assert note.tax == 675 + restocking.tax + label.tax


def test_a_document_s_totals_are_its_lines_sums():
    line = DocumentLine(title="x", unit_price=100, net=100, tax_rate_bps=1500, tax=15)
    seller = Seller(names={"en": "S"}, vat_number="300000000000003", address={"en": ("A",)}, country="SA")
    with pytest.raises(ValueError, match="sums of its lines"):
        TaxDocument(kind=DocumentKind.INVOICE, key="k", series="INV-2026", order_id="o", issued_at="2026",
                    currency="SAR", seller=seller, buyer=Buyer(name="b", address=(), country="SA"), lines=(line,),
                    net=100, tax=15, gross=116, payment_method="sandbox")
    assert document_number("CN-2027", 7) == "CN-2027-000007"


def test_a_cash_on_delivery_order_is_invoiced_when_it_ships_with_its_fee_among_the_charges(shop):
    import dataclasses

    from fakes import RecordingPayments, request

    from dawra.adapters.payments.cod import CashOnDelivery
    from dawra.app.checkout import Checkout

    shop = dataclasses.replace(shop, payments=RecordingPayments(CashOnDelivery()))  # the courier collects
    checkout = Checkout(shop.orders, shop.inventory, shop.uow, shop.payments, shop.alerts, shop.clock,
                        cod=CashOnDelivery())
    order = checkout.place_order("cod-key-0001", request({"MUG-CLASSIC": 1}, payment_method="cash_on_delivery",
                                                         payment_token=None))
    [planned] = shop.reserve(order.order_id).shipments
    assert shop.orders.get(order.order_id).documents == []  # nothing invoiced before it leaves
    shop.ship(order.order_id, planned.shipment_id)
    [invoice] = documents(shop, shop.orders.get(order.order_id))
    assert invoice.payment_method == "cash_on_delivery" and invoice.gross == order.totals.total.amount
    charges = invoice.lines[-1]
    assert charges.sku is None and charges.net == 2500 + 1500  # shipping and the cash-on-delivery fee
    assert invoice.tax == order.totals.tax.amount
