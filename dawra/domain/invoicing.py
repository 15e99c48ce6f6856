"""Drafting an order's tax documents from what it sold and what it gave back. Pure.

- `invoice_for_shipment`: the shipment's items (each with its price and tax, as the order priced them) and its share
  of the order's charges (shipping, gift wrap, fees: what the total holds besides the items), adding up to exactly
  what was captured for it.
- `credit_note_for_amount`: an amount given back without items (an operator's refund, a lost parcel's), its tax
  at the rate of the invoices it corrects.
- `credit_note_for_return`: a return's or a claim's settlement: each item's refund, the shipping given back,
  minus what was kept (restocking fee, return shipping) and any cap, down to exactly what was given back.

The unit of work numbers each draft in the commit that moves the money (dawra/domain/tax_documents.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dawra.domain.tax_documents import (
    Buyer,
    DocumentKind,
    DocumentLine,
    Seller,
    TaxDocument,
    merchant_profile,
    rate_of,
    series_of,
    tax_in,
)

if TYPE_CHECKING:
    from dawra.domain.order import Order
    from dawra.domain.returns import Return
    from dawra.domain.shipment import Shipment

CHARGES = {"en": "Shipping and charges", "ar": "الشحن والرسوم"}
SHIPPING = {"en": "Shipping", "ar": "الشحن"}
REFUND = {"en": "Refund", "ar": "استرداد"}
RESTOCKING = {"en": "Restocking fee kept", "ar": "رسوم إعادة التخزين المحتجزة"}
RETURN_SHIPPING = {"en": "Return shipping kept", "ar": "رسوم شحن الإرجاع المحتجزة"}
CAPPED = {"en": "Limited to what was left to give back", "ar": "بحدود المبلغ المتبقي للاسترداد"}


def buyer_of(order: Order) -> Buyer:
    """The buyer as the order names them: the name and address they gave (a business account's order: the company
    and its VAT number, dawra.domain.accounts)."""
    a = order.shipping_address
    lines = (a.line1, *([a.line2] if a.line2 else []),
             " ".join(part for part in (a.city, a.region or "", a.postal_code or "") if part), a.country)
    if order.account is not None:
        return Buyer(name=order.account.company_name, address=lines, country=a.country,
                     vat_number=order.account.vat_number)
    return Buyer(name=a.name, address=lines, country=a.country)


def _charge_line(texts: dict[str, str], gross: int, bps: int) -> DocumentLine:
    tax = tax_in(gross, bps)
    return DocumentLine(title=texts["en"], titles={"ar": texts["ar"]}, quantity=1, unit_price=gross - tax,
                        net=gross - tax, tax_rate_bps=bps, tax=tax)


def _document(order: Order, kind: DocumentKind, key: str, at: str, lines: Sequence[DocumentLine],
              seller: Seller | None, **extra: object) -> TaxDocument:
    terms = order.account if kind == DocumentKind.INVOICE else None  # on account: the PO, due after the terms
    return TaxDocument(
        kind=kind, key=key, series=series_of(kind, at), order_id=order.order_id, issued_at=at,
        currency=order.currency, seller=seller or merchant_profile(), buyer=buyer_of(order), lines=tuple(lines),
        net=sum(x.net for x in lines), tax=sum(x.tax for x in lines), gross=sum(x.gross for x in lines),
        payment_method=order.payment.provider, po_number=terms.po_number if terms else None,
        due_date=terms.due_for(at) if terms else None, **extra)


def invoice_for_shipment(order: Order, shipment: Shipment, at: str, seller: Seller | None = None) -> TaxDocument:
    """The invoice for a shipment whose share (`shipment.amount`) was captured: its items at the order's prices and
    tax, and the rest of that share as its part of the order's charges."""
    by_sku = {line.sku: line for line in order.lines}
    lines: list[DocumentLine] = []
    for item in shipment.lines:
        sold = by_sku.get(item.sku)
        if sold is None:
            continue
        net = sold.unit_price.amount * item.quantity
        tax = sold.tax.amount * item.quantity // sold.quantity
        lines.append(DocumentLine(sku=sold.sku, title=sold.title, titles=dict(sold.titles), quantity=item.quantity,
                                  unit_price=sold.unit_price.amount, net=net,
                                  tax_rate_bps=rate_of(sold.line_total.amount, sold.tax.amount), tax=tax))
    rest = shipment.amount.amount - sum(x.gross for x in lines)
    if rest or not lines:
        t = order.totals
        charges_net = t.total.amount - t.subtotal.amount - t.tax.amount
        charges_tax = t.tax.amount - sum(line.tax.amount for line in order.lines)
        lines.append(_charge_line(CHARGES, rest, rate_of(charges_net, charges_tax)))
    return _document(order, DocumentKind.INVOICE, f"ship:{shipment.shipment_id}", at, lines, seller,
                     shipment_ids=(shipment.shipment_id,))


def _invoices(order: Order, shipment_id: str | None = None, skus: Sequence[str] = ()) -> tuple[str, ...]:
    """The invoices a credit note corrects: the shipment's, else those selling any of `skus`, else every one."""
    invoices = [ref for ref in order.documents if ref.kind == DocumentKind.INVOICE]
    chosen = [ref for ref in invoices if shipment_id in ref.shipment_ids] if shipment_id else []
    if not chosen and skus:
        carrying = {s.shipment_id for s in order.shipments if any(item.sku in skus for item in s.lines)}
        chosen = [ref for ref in invoices if carrying & set(ref.shipment_ids)]
    return tuple(ref.number for ref in (chosen or invoices))


def _invoiced_rate(order: Order) -> int:
    """The rate the order's items were taxed at (their tax over their price), for amounts given back without items."""
    return rate_of(sum(x.line_total.amount for x in order.lines), sum(x.tax.amount for x in order.lines))


def credit_note_for_amount(order: Order, amount: int, at: str, ref: str, reason: str,
                           shipment_id: str | None = None, seller: Seller | None = None) -> TaxDocument | None:
    """A credit note for `amount` given back with no items named; None when the order has no invoice to correct
    (nothing was invoiced: it shipped before invoices existed)."""
    refers_to = _invoices(order, shipment_id)
    if amount <= 0 or not refers_to:
        return None
    line = _charge_line(REFUND, amount, _invoiced_rate(order))
    return _document(order, DocumentKind.CREDIT_NOTE, f"refund:{ref}", at, [line], seller, refers_to=refers_to,
                     reason=reason, shipment_ids=(shipment_id,) if shipment_id else ())


def credit_note_for_return(order: Order, ret: Return, at: str, seller: Seller | None = None) -> TaxDocument | None:
    """A credit note for a return's or a claim's settlement (`ret.settlement`, given back as `ret.refunded`): each
    item's refund with its tax, the shipping given back, then what was kept back, adding up to what was given."""
    breakdown = ret.settlement
    if breakdown is None or breakdown.total.amount <= 0:
        return None
    refers_to = _invoices(order, skus=[line.sku for line in ret.lines])
    if not refers_to:
        return None
    by_sku = {line.sku: line for line in [*order.lines, *order.cancelled_lines]}
    rate = _invoiced_rate(order)
    lines: list[DocumentLine] = []
    for item in ret.lines:
        sold = by_sku.get(item.sku)
        if item.refund is None or not item.refund.amount or sold is None:
            continue
        net = min(sold.unit_price.amount * item.quantity, item.refund.amount)  # the units' price, and the return's
        lines.append(DocumentLine(sku=item.sku, title=sold.title, titles=dict(sold.titles), quantity=item.quantity,
                                  unit_price=sold.unit_price.amount, net=net,  # own share of the line's tax
                                  tax_rate_bps=rate_of(sold.line_total.amount, sold.tax.amount),
                                  tax=item.refund.amount - net))
    if breakdown.shipping.amount:  # the shipping given back, with the rest of the settlement's tax (its own)
        shipping_tax = breakdown.tax.amount - sum(x.tax for x in lines)
        lines.append(DocumentLine(title=SHIPPING["en"], titles={"ar": SHIPPING["ar"]}, quantity=1,
                                  unit_price=breakdown.shipping.amount, net=breakdown.shipping.amount,
                                  tax_rate_bps=rate_of(breakdown.shipping.amount, shipping_tax), tax=shipping_tax))
    for texts, kept in ((RESTOCKING, breakdown.restocking_fee.amount), (RETURN_SHIPPING,
                                                                        breakdown.return_shipping.amount)):
        if kept:
            lines.append(_charge_line(texts, -kept, rate))
    rest = breakdown.total.amount - sum(x.gross for x in lines)
    if rest:
        lines.append(_charge_line(CAPPED, rest, rate))
    return _document(order, DocumentKind.CREDIT_NOTE, f"return:{ret.return_id}", at, lines, seller,
                     refers_to=refers_to, reason="claim" if ret.is_claim else "return")
