"""Rendering customer messages (Jinja2; HTML autoescaped; Arabic right-to-left and English). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dawra.domain.money import Money
from dawra.domain.notifications import Recipient, recipient
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent, TimelineKind

# ISO 4217 minor-unit exponents that differ from 2
_EXPONENT = {"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "IQD": 3, "TND": 3, "LYD": 3, "JPY": 0}

SUBJECTS = {
    "en": {
        TimelineKind.ORDER_CONFIRMED: "Your order {ref} is confirmed",
        TimelineKind.SHIPMENT_SHIPPED: "Your order {ref} is on its way",
        TimelineKind.SHIPMENT_DELIVERED: "Your order {ref} was delivered",
        TimelineKind.ORDER_CANCELLED: "Your order {ref} was cancelled",
    },
    "ar": {
        TimelineKind.ORDER_CONFIRMED: "تم تأكيد طلبك {ref}",
        TimelineKind.SHIPMENT_SHIPPED: "طلبك {ref} في الطريق إليك",
        TimelineKind.SHIPMENT_DELIVERED: "تم توصيل طلبك {ref}",
        TimelineKind.ORDER_CANCELLED: "تم إلغاء طلبك {ref}",
    },
}


@cache
def _environments() -> tuple[Environment, Environment]:
    """Built on first use, not at import: a cold start that sends nothing pays nothing for templates."""
    html = Environment(loader=PackageLoader("dawra", "templates"),
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True,
                                                    default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    # Plain-text bodies (text email, SMS) have no markup to escape into; they get their own environment.
    text = Environment(loader=PackageLoader("dawra", "templates"),
                       autoescape=False,  # noqa: S701 - plain text only: nothing is ever rendered as HTML from it
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    return html, text


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
class Rendered:
    channel: str  # email | sms
    to: str
    subject: str
    html: str
    text: str


def render(order: Order, event: TimelineEvent) -> Rendered:
    html_env, text_env = _environments()
    language = order.contact.language
    context = {
        "kind": event.kind.value,
        "name": order.shipping_address.name,
        "ref": order_reference(order.order_id),
        "total": format_money(order.totals.total),
        "promised_by": order.promised_by,
        "lines": [{"title": line.title, "quantity": line.quantity} for line in order.lines],
        "tracking_number": event.detail.get("tracking_number", ""),
        "reason": event.detail.get("reason", ""),
        "dir": "rtl" if language == "ar" else "ltr",
        "lang": language,
    }
    subject = SUBJECTS[language][event.kind].format(ref=context["ref"])
    to: Recipient = recipient(order.contact)
    if to.channel == "sms":
        text = text_env.get_template(f"sms_{language}.txt").render(**context).strip()
        return Rendered(channel="sms", to=to.address, subject=subject, html="", text=text)
    html = html_env.get_template(f"email_{language}.html").render(subject=subject, **context)
    text = text_env.get_template(f"email_{language}.txt").render(subject=subject, **context)
    return Rendered(channel="email", to=to.address, subject=subject, html=html, text=text)
