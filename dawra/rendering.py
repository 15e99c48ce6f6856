"""Rendering customer messages (Jinja2; HTML autoescaped; Arabic right-to-left and English). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from markupsafe import Markup

from dawra.domain.money import Money
from dawra.domain.notifications import Recipient, recipients
from dawra.domain.order import Order
from dawra.domain.pickup import spoken
from dawra.domain.timeline import TimelineEvent, TimelineKind

if TYPE_CHECKING:  # Jinja2 and Babel are imported where a message is rendered: most importers never render one
    from jinja2 import Environment

# ISO 4217 minor-unit exponents that differ from 2
_EXPONENT = {"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "IQD": 3, "TND": 3, "LYD": 3, "JPY": 0}

SUBJECTS = {
    "en": {
        TimelineKind.ORDER_CONFIRMED: "Your order {ref} is confirmed",
        TimelineKind.COD_CONFIRMATION_REQUESTED: "Please confirm your order {ref} (cash on delivery)",
        TimelineKind.PICKUP_READY: "Your order {ref} is ready to collect",
        TimelineKind.PICKUP_REMINDER: "Reminder: your order {ref} is waiting for you at the store",
        TimelineKind.SHIPMENT_SHIPPED: "Your order {ref} is on its way",
        TimelineKind.SHIPMENT_DELIVERED: "Your order {ref} was delivered",
        TimelineKind.ORDER_CANCELLED: "Your order {ref} was cancelled",
        TimelineKind.SHIPMENTS_CANCELLED: "Part of your order {ref} is cancelled",
        TimelineKind.ADDRESS_CHANGED: "Your order {ref} goes to a new address",
        TimelineKind.CONTACT_CHANGED: "How we keep you posted about your order {ref}",
        TimelineKind.ORDER_LINK_REQUESTED: "The link to your order {ref}",
        TimelineKind.FEEDBACK_REQUESTED: "How did your order {ref} go?",
        TimelineKind.SHIPMENT_DELAYED: "Your order {ref} is running late: we are sorry",
        TimelineKind.STOCK_DELAYED: "Your order {ref} will be later than we said: we are sorry",
        TimelineKind.SHIPMENT_LOST: "A parcel from your order {ref} was lost: what happens now",
        TimelineKind.DELIVERY_ATTEMPTED: "We tried to deliver your order {ref}",
        TimelineKind.DELIVERY_EXCEPTION: "A problem delivering your order {ref}",
        TimelineKind.AVAILABLE_FOR_PICKUP: "Your order {ref} is ready to pick up",
        TimelineKind.SHIPMENT_RETURNING: "A parcel from your order {ref} is coming back to us",
        TimelineKind.RETURN_SETTLED: "A parcel from your order {ref} came back: what happens now",
        TimelineKind.RETURN_REQUESTED: "Your return request for order {ref}",
        TimelineKind.RETURN_APPROVED: "Your return for order {ref} is accepted",
        TimelineKind.RETURN_DECLINED: "Your return request for order {ref} was declined",
        TimelineKind.RETURN_EXPIRED: "Your return request for order {ref} has expired",
        TimelineKind.RETURN_LABEL_ISSUED: "Your return label for order {ref} is ready",
        TimelineKind.RETURN_RECEIVED: "We received your return for order {ref}",
        TimelineKind.RETURN_REFUNDED: "Your refund for order {ref}",
        TimelineKind.RETURN_REJECTED: "We could not accept your return for order {ref}",
        TimelineKind.RETURN_LABEL_EXPIRED: "Your return for order {ref} was not sent in time",
        TimelineKind.RETURN_PICKUP_MISSED: "The courier did not collect your return for order {ref}",
        TimelineKind.RETURN_PICKUP_CHANGED: "A new pickup day for your return for order {ref}",
        TimelineKind.RETURN_EXCHANGE_SHIPPED: "Your exchange for order {ref} is on its way",
        TimelineKind.RETURN_EXCHANGED: "Your exchange for order {ref} is complete",
        TimelineKind.CLAIM_OPENED: "We received your report about order {ref}",
        TimelineKind.CLAIM_DECLINED: "Your report about order {ref} was declined",
        TimelineKind.CLAIM_REFUNDED: "Your refund for the problem with order {ref}",
        TimelineKind.CLAIM_REPLACEMENT_SHIPPED: "Your items for order {ref} are on their way again",
    },
    "ar": {
        TimelineKind.ORDER_CONFIRMED: "تم تأكيد طلبك {ref}",
        TimelineKind.COD_CONFIRMATION_REQUESTED: "يرجى تأكيد طلبك {ref} (الدفع عند الاستلام)",
        TimelineKind.PICKUP_READY: "طلبك {ref} جاهز للاستلام من المتجر",
        TimelineKind.PICKUP_REMINDER: "تذكير: طلبك {ref} بانتظارك في المتجر",
        TimelineKind.SHIPMENT_SHIPPED: "طلبك {ref} في الطريق إليك",
        TimelineKind.SHIPMENT_DELIVERED: "تم توصيل طلبك {ref}",
        TimelineKind.ORDER_CANCELLED: "تم إلغاء طلبك {ref}",
        TimelineKind.SHIPMENTS_CANCELLED: "تم إلغاء جزء من طلبك {ref}",
        TimelineKind.ADDRESS_CHANGED: "تم تغيير عنوان توصيل طلبك {ref}",
        TimelineKind.CONTACT_CHANGED: "طريقة تواصلنا معك بشأن طلبك {ref}",
        TimelineKind.ORDER_LINK_REQUESTED: "رابط طلبك {ref}",
        TimelineKind.FEEDBACK_REQUESTED: "كيف كانت تجربتك مع طلبك {ref}؟",
        TimelineKind.SHIPMENT_DELAYED: "نعتذر: تأخر طلبك {ref}",
        TimelineKind.STOCK_DELAYED: "نعتذر: سيتأخر طلبك {ref} عن الموعد الذي ذكرناه",
        TimelineKind.SHIPMENT_LOST: "فُقدت شحنة من طلبك {ref}: إليك ما سيحدث الآن",
        TimelineKind.DELIVERY_ATTEMPTED: "حاولنا توصيل طلبك {ref}",
        TimelineKind.DELIVERY_EXCEPTION: "مشكلة في توصيل طلبك {ref}",
        TimelineKind.AVAILABLE_FOR_PICKUP: "طلبك {ref} جاهز للاستلام",
        TimelineKind.SHIPMENT_RETURNING: "شحنة من طلبك {ref} في طريق عودتها إلينا",
        TimelineKind.RETURN_SETTLED: "عادت إلينا شحنة من طلبك {ref}: إليك ما سيحدث الآن",
        TimelineKind.RETURN_REQUESTED: "طلب الإرجاع الخاص بطلبك {ref}",
        TimelineKind.RETURN_APPROVED: "تمت الموافقة على إرجاع طلبك {ref}",
        TimelineKind.RETURN_DECLINED: "تم رفض طلب الإرجاع الخاص بطلبك {ref}",
        TimelineKind.RETURN_EXPIRED: "انتهت صلاحية طلب الإرجاع الخاص بطلبك {ref}",
        TimelineKind.RETURN_LABEL_ISSUED: "ملصق الإرجاع لطلبك {ref} جاهز",
        TimelineKind.RETURN_RECEIVED: "استلمنا المرتجع من طلبك {ref}",
        TimelineKind.RETURN_REFUNDED: "استرداد المبلغ لطلبك {ref}",
        TimelineKind.RETURN_REJECTED: "تعذّر قبول المرتجع من طلبك {ref}",
        TimelineKind.RETURN_LABEL_EXPIRED: "لم يُرسل المرتجع من طلبك {ref} في الوقت المحدد",
        TimelineKind.RETURN_PICKUP_MISSED: "لم يستلم المندوب المرتجع من طلبك {ref}",
        TimelineKind.RETURN_PICKUP_CHANGED: "يوم جديد لاستلام المرتجع من طلبك {ref}",
        TimelineKind.RETURN_EXCHANGE_SHIPPED: "البديل لطلبك {ref} في الطريق إليك",
        TimelineKind.RETURN_EXCHANGED: "اكتمل الاستبدال لطلبك {ref}",
        TimelineKind.CLAIM_OPENED: "استلمنا بلاغك بخصوص طلبك {ref}",
        TimelineKind.CLAIM_DECLINED: "تم رفض بلاغك بخصوص طلبك {ref}",
        TimelineKind.CLAIM_REFUNDED: "استرداد المبلغ عن المشكلة في طلبك {ref}",
        TimelineKind.CLAIM_REPLACEMENT_SHIPPED: "منتجات طلبك {ref} في الطريق إليك مرة أخرى",
    },
}


@cache
def _environments() -> tuple[Environment, Environment]:
    """Built on first use, not at import: a cold start that sends nothing pays nothing for templates."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    html = Environment(loader=PackageLoader("dawra", "templates"),
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True,
                                                    default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    # Plain-text bodies (text email, SMS) have no markup to escape into; they get their own environment.
    text = Environment(loader=PackageLoader("dawra", "templates"),
                       autoescape=False,  # noqa: S701 - plain text only: nothing is ever rendered as HTML from it
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    return html, text



def load_templates() -> None:
    """Jinja2 and the environments now, not at the first message: the notifier renders on every request, so its
    init pays for them (where a cold start is measured) rather than its first delivery."""
    _environments()

def format_money(money: Money) -> str:
    exponent = _EXPONENT.get(money.currency, 2)
    if exponent == 0:
        return f"{money.amount} {money.currency}"
    whole, fraction = divmod(money.amount, 10**exponent)
    return f"{whole:,}.{fraction:0{exponent}d} {money.currency}"


def order_reference(order_id: str) -> str:
    """A short reference a customer can read out on the phone."""
    return "#" + order_id.removeprefix("ord_")[:8].upper()


@dataclass(frozen=True)
class Letterhead:
    """What every message carries besides its news: the shop's name, how to reach its support, and the link to the
    order's page (signed for this order by the caller: rendering stays pure)."""

    shop_name: str
    support: str
    page_url: str
    gift_receipt_url: str = ""  # a gift's receipt (its own link, opening the receipt only); "" when not a gift


@dataclass(frozen=True)
class Rendered:
    channel: str  # email | sms
    to: str
    subject: str
    html: str
    text: str


def _what_changed(order: Order, event: TimelineEvent) -> dict[str, object]:
    """What a change the customer made (or an operator made for them) says: the items it took out, the money it
    gives back, where the parcels go now, how we write to them from now on."""
    language = order.contact.language
    titles = {line.sku: line.title_in(language) for line in [*order.cancelled_lines, *order.lines]}
    items = [{"title": titles.get(sku, sku), "quantity": int(quantity)}
             for sku, _, quantity in (item.rpartition(":") for item in event.detail.get("items", "").split(",") if item)]
    given_back = int(event.detail.get("given_back", "0") or 0)
    address = order.shipping_address
    return {
        "items": items,
        "given_back": format_money(Money(amount=given_back, currency=event.detail.get("currency", order.currency)))
        if given_back > 0 else "",
        "address": ", ".join(part for part in (address.line1, address.line2, address.city) if part),
        "channel": event.detail.get("channel", ""),
    }


def _parcel_news(order: Order, event: TimelineEvent) -> dict[str, object]:
    """What a late, lost, returned or troubled parcel's message says: the date it was promised by and the new
    estimate, how a lost or returned one was settled (and the money given back), where the carrier says it is."""
    refunded = int(event.detail.get("amount", "0") or 0)
    return {
        "was_promised": event.detail.get("promised_by", order.promised_by),
        "new_estimate": event.detail.get("new_estimate", ""),
        "settlement": event.detail.get("settlement", ""),
        "refund_amount": format_money(Money(amount=refunded, currency=event.detail.get("currency", order.currency))),
        "carrier_location": event.detail.get("location", ""),
    }


# A courier pickup's window, in the customer's words (the customer's page and the label say the same).
PICKUP_WINDOWS = {
    "en": {"morning": "morning (9:00\u201313:00)", "afternoon": "afternoon (13:00\u201317:00)"},
    "ar": {"morning": "صباحاً (من 9:00 إلى 13:00)", "afternoon": "بعد الظهر (من 13:00 إلى 17:00)"},
}


def _pickup_news(language: str, event: TimelineEvent, ret: object) -> dict[str, str]:
    """The day (its weekday, in the customer's language) and window a courier comes for a return: the booking's,
    as the label-issued event says it, else the return's."""
    day = event.detail.get("pickup_on") or getattr(ret, "pickup_on", None) or ""
    window = event.detail.get("pickup_window") or str(getattr(ret, "pickup_window", None) or "")
    if not day or window not in PICKUP_WINDOWS["en"]:
        return {"pickup_day": "", "pickup_window": ""}
    words = PICKUP_WINDOWS.get(language, PICKUP_WINDOWS["en"])
    from babel.dates import format_date  # only where a date is spoken

    pattern, locale = ("EEEE\u060c d MMMM", "ar_SA") if language == "ar" else ("EEEE d MMMM", "en")
    return {"pickup_day": format_date(date.fromisoformat(day), pattern, locale=locale), "pickup_window": words[window]}


def _return_news(order: Order, event: TimelineEvent, page_url: str) -> dict[str, object]:
    """What a return's message says: the items going back (and, once inspected, what was found), the refund it
    estimated or gave and how, the way back (label, courier, store) and until when a label can be used, where the
    return is on the order's page, and whether a person must approve it first."""
    language = order.contact.language
    titles = {line.sku: line.title_in(language) for line in order.lines}
    return_id = event.detail.get("return_id", "")
    ret = next((r for r in order.returns if r.return_id == return_id), None)
    expires = event.detail.get("expires_at") or (ret.label_expires_at if ret else None)
    last_day = (datetime.fromisoformat(expires.replace("Z", "+00:00")) - timedelta(microseconds=1)).date().isoformat() \
        if expires else ""
    sent = order.shipment(ret.replacement_id) if ret and ret.replacement_id else None
    # Whether the replacement left before the returned items came back (the policy trusted the customer): fixed
    # when the exchange was asked, so a message reads the same whenever it is rendered.
    first = bool(ret and ret.ship_exchange_first)
    return {
        "return_items": [{"title": titles.get(line.sku, line.sku), "quantity": line.quantity,
                          "outcome": line.outcome.value if line.outcome else ""} for line in ret.lines] if ret else [],
        # An exchange: what is sent instead, in the customer's language, and whether it has left (and by when).
        "exchange_items": [{"title": line.exchange.title_in(language), "quantity": line.quantity}
                           for line in ret.lines if line.exchange] if ret else [],
        "exchange_sent": first,
        "exchange_promised_by": event.detail.get("promised_by") or (sent.promised_by or "" if sent else ""),
        "return_estimate": format_money(ret.estimate.total) if ret else "",
        "return_method": str(ret.method or "") if ret else event.detail.get("method", ""),
        "approval_required": bool(ret and ret.approval_required),
        "refund_method": event.detail.get("refund_method") or (ret.refund_method.value if ret else ""),
        "account_ending": event.detail.get("account_ending", ""),
        "label_use_by": last_day,
        "carrier": event.detail.get("carrier", ""),
        "return_url": f"{page_url}#return-{return_id}" if return_id else page_url,
        # A courier pickup to move (it did not come): the page that offers the carrier's other days.
        "pickup_url": f"{page_url}/returns/{return_id}/pickup" if return_id else page_url,
        # A claim without a return: what was wrong, what the customer asked for, and (fixed once decided) whether
        # its policy settled it and how.
        "claim_reason": str(ret.claim_reason or "") if ret else "",
        "claim_remedy": str(ret.claim_remedy or "") if ret else "",
        "claim_by_itself": event.detail.get("by_itself") == "true",
        "claim_reshipped": bool(ret and ret.is_claim and ret.replacement_id),
        **_pickup_news(language, event, ret),
    }


def _pickup_desk(order: Order, event: TimelineEvent) -> dict[str, object]:
    """A store pickup's message: the store, its hours in the customer's language, the pickup code (and its QR, as a
    table of cells every mail client draws), and the date to collect it by."""
    shipment = next((s for s in order.shipments if s.shipment_id == event.shipment_id and s.pickup), None)
    desk = shipment.pickup if shipment is not None else None
    if desk is None:  # the confirmation of a pickup order names its store; nothing else of the desk is known yet
        store = next((s.pickup.store_name for s in order.shipments if s.pickup), "") if order.pickup_location else ""
        return {"pickup_store": store, "pickup_hours": "", "pickup_code": "", "pickup_qr": "", "collect_by": ""}
    language = order.contact.language
    from babel.dates import format_date  # only where a date is spoken

    pattern, locale = ("EEEE\u060c d MMMM", "ar_SA") if language == "ar" else ("EEEE d MMMM", "en")
    day = format_date(datetime.fromisoformat(desk.collect_by).date(), pattern, locale=locale) if desk.collect_by else ""
    return {"pickup_store": desk.store_name, "pickup_hours": desk.hours_in(language),
            "pickup_code": spoken(desk.code) if desk.code else "", "pickup_qr": qr_table(desk.code) if desk.code else "",
            "collect_by": day}


def qr_table(payload: str) -> Markup:
    """A QR code as an HTML table (runs of dark or light cells, 4 px each, with its quiet zone): images and SVG are
    blocked by many mail clients, a table is not. Only our own characters go in: nothing to escape."""
    import segno

    rows = []
    for row in segno.make(payload, error="m", micro=False).matrix_iter(border=4):
        cells, run, dark = [], 0, None
        for bit in (*row, None):
            if bit is not None and bool(bit) == dark:
                run += 1
                continue
            if dark is not None:
                colour = "#000000" if dark else "#ffffff"
                cells.append(f'<td colspan="{run}" width="{4 * run}" height="4" bgcolor="{colour}"></td>')
            dark, run = (bool(bit), 1) if bit is not None else (None, 0)
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return Markup('<table role="img" aria-label="QR" cellpadding="0" cellspacing="0" border="0" dir="ltr" '  # noqa: S704
                  'style="border-collapse: collapse; line-height: 0">' + "".join(rows) + "</table>")


def _invoices(order: Order, parcels: Sequence[TimelineEvent], page_url: str) -> list[dict[str, str]]:
    """The tax invoice of each parcel a shipped message tells about (issued with its capture), linked to its page
    under the order's (decision 87)."""
    found: list[dict[str, str]] = []
    for parcel in parcels:
        ref = order.invoice_of(parcel.shipment_id or "") if parcel.kind == TimelineKind.SHIPMENT_SHIPPED else None
        if ref is not None and all(ref.number != seen["number"] for seen in found):
            found.append({"number": ref.number, "url": f"{page_url}/invoices/{ref.number}"})
    return found


def render_all(order: Order, event: TimelineEvent, letterhead: Letterhead,
               parcels: Sequence[TimelineEvent] = ()) -> list[Rendered]:
    """The message on each channel the customer chose: email, SMS, or both."""
    return [render(order, event, letterhead, to, parcels) for to in recipients(order.contact, event.kind)]


def render(order: Order, event: TimelineEvent, letterhead: Letterhead, to: Recipient | None = None,
           parcels: Sequence[TimelineEvent] = ()) -> Rendered:
    """The message for one recipient (by default the customer's first channel). `parcels`: the shipped events one
    shipped message tells about together (by default the event itself)."""
    html_env, text_env = _environments()
    language = order.contact.language
    context = {
        "kind": event.kind.value,
        # A gift's address names its recipient, not the buyer who reads this: no name then.
        "name": "" if order.gift else order.shipping_address.name,
        "gift": order.gift,
        "gift_wrap_fee": format_money(order.totals.gift_wrap) if order.totals.gift_wrap else "",
        "gift_receipt_url": letterhead.gift_receipt_url if order.gift else "",
        "ref": order_reference(order.order_id),
        "total": format_money(order.totals.total),
        "promised_by": order.promised_by,
        "lines": [{"title": line.title_in(language), "quantity": line.quantity} for line in order.lines],
        "tracking_number": event.detail.get("tracking_number", ""),
        "parcels": [{"tracking_number": parcel.detail.get("tracking_number", ""),
                     "carrier": parcel.detail.get("carrier", "")} for parcel in (parcels or [event])],
        "reason": event.detail.get("reason", ""),
        "code": event.detail.get("code", ""),  # cash on delivery: the code an SMS reply confirms the order with
        # Backorders and preorders: the order waits for stock due that day (its confirmation, and each delay's).
        "awaiting": event.detail.get("awaiting", ""),
        "available_from": event.detail.get("available_from", ""),
        "dir": "rtl" if language == "ar" else "ltr",
        "lang": language,
        "shop_name": letterhead.shop_name,
        "support": letterhead.support,
        "page_url": letterhead.page_url,
        **_what_changed(order, event),
        **_parcel_news(order, event),
        **_return_news(order, event, letterhead.page_url),
        "invoices": _invoices(order, parcels or [event], letterhead.page_url),
        **_pickup_desk(order, event),
    }
    subject = SUBJECTS[language][event.kind].format(ref=context["ref"])
    to = to or recipients(order.contact, event.kind)[0]
    if to.channel == "sms":
        text = text_env.get_template(f"sms_{language}.txt").render(**context).strip()
        return Rendered(channel="sms", to=to.address, subject=subject, html="", text=text)
    html = html_env.get_template(f"email_{language}.html").render(subject=subject, **context)
    text = text_env.get_template(f"email_{language}.txt").render(subject=subject, **context)
    return Rendered(channel="email", to=to.address, subject=subject, html=html, text=text)
