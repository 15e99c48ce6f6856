"""A cash-on-delivery order the customer confirms before anything ships (its country's rules ask for it,
dawra.domain.cod_rules): held once its stock is reserved (hold kind `cod_confirmation`, dawra.domain.holds), the
customer told how to confirm (the `cod_confirmation_requested` message: their order link, or an SMS reply with the
order's four-digit code), and released when they do. Unconfirmed when the hold's time runs out, the workflow's own
compensation cancels it (`NotConfirmed`: stock released, the customer told).

Confirming is the hold's release, made by the customer (the audit trail's `customer` actor) through the same
ChangeOrder as every person's change: once per request (the page's form key, the SMS's message id), and a second
confirmation of an order already confirmed changes nothing and says so. The parked shipments are then resumed, as
an operator's release resumes them.

An SMS reply is matched by the customer's phone (the back office's by-phone index: no scan) and the code in the
text; a reply without a code confirms the one order of that phone waiting for it, and is ignored when there are
several (the message names none). A reply naming an order confirmed already answers "already confirmed". "1", "yes", "نعم" (and "y", "ok", "تم", "اكيد"; Arabic-Indic digits too) confirm;
anything else is left for a person to read."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dawra.app.changes import Change, ChangeOrder
from dawra.app.common import load, now_iso
from dawra.domain.access import Actor
from dawra.domain.cod import confirmation_code
from dawra.domain.errors import IllegalTransition
from dawra.domain.holds import HoldKind
from dawra.domain.order import Order, OrderStatus
from dawra.ports import AuditLog, Clock, OrderQuery, OrderRepository, OrderSearch, UnitOfWork, Workflow

CUSTOMER = Actor(user_id="customer", username="customer", roles=frozenset())  # the order's own customer
YES = frozenset({"1", "yes", "y", "ok", "نعم", "نعم.", "تم", "اكيد", "أكيد", "ايوه"})
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
PHONE_ORDERS = 20  # a phone's latest orders looked at for a reply


@dataclass(frozen=True)
class Confirmed:
    order: Order
    already: bool  # it had been confirmed before: nothing changed now


def read_reply(text: str) -> tuple[bool, str | None]:
    """(the reply says yes, the four-digit code in it if any)."""
    normal = unicodedata.normalize("NFKC", text).translate(ARABIC_DIGITS).strip().lower()
    code = next(iter(re.findall(r"(?<!\d)\d{4}(?!\d)", normal)), None)
    words = [w for w in re.split(r"[\s,.!،؛:;-]+", normal) if w and w != code]
    return bool(words) and all(w in YES for w in words), code


class ConfirmCashOnDelivery:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, workflow: Workflow, clock: Clock,
                 search: OrderSearch | None = None):
        self.orders, self.workflow, self.clock, self.search = orders, workflow, clock, search
        self.change = ChangeOrder(orders, uow, audit, clock)

    def by_link(self, order_id: str, key: str) -> Confirmed:
        """The customer's button on their order page (the link's token was checked by the page)."""
        return self._confirm(order_id, f"link:{key}", "link")

    def by_sms(self, phone: str, text: str, message_id: str) -> str:
        """An SMS reply from `phone`: the order it confirms, or why it confirms none (never an error: a reply nobody
        can act on is only logged)."""
        yes, code = read_reply(text)
        if not yes:
            return "not a yes"
        if self.search is None:
            return "replies are not read here"
        found = self.search.search(OrderQuery(phone=phone), PHONE_ORDERS, None).orders
        waiting = [o for o in found if o.status == OrderStatus.ON_HOLD and o.hold_kind == HoldKind.COD_CONFIRMATION]
        if code is not None:  # the order it names, waiting or confirmed already (a reply sent twice is answered)
            waiting = [o for o in [*waiting, *(o for o in found if o.cod_confirmed_at)]
                       if confirmation_code(o.order_id) == code]
        if len(waiting) != 1:
            return "no order waits for this reply" if not waiting else "several orders wait: the reply names none"
        confirmed = self._confirm(waiting[0].order_id, f"sms:{message_id}", "sms")
        return f"{confirmed.order.order_id} {'already confirmed' if confirmed.already else 'confirmed'}"

    def _confirm(self, order_id: str, key: str, by: str) -> Confirmed:
        order = load(self.orders, order_id)
        if order.cod_confirmed_at is not None:
            return Confirmed(order, already=True)

        def decide(order: Order, ref: str) -> Change:
            if order.cod_confirmed_at is None and order.held_as != HoldKind.COD_CONFIRMATION:
                raise IllegalTransition(order.order_id, order.status.value, "confirm_cod",
                                        "it is not waiting for the customer's confirmation")
            order.confirm_cash_on_delivery(now_iso(self.clock), ref, "sms" if by == "sms" else "link")
            return Change(detail={"by": by})

        outcome = self.change(CUSTOMER, order_id, key, "confirm_cod", None, decide, {"by": by})
        for token in outcome.order.waiting_tokens():
            self.workflow.resume(token, {"released": True})
        return Confirmed(outcome.order, already=outcome.replayed)
