"""An operator revokes an order's links: every link given out so far stops working (the order's link version moves on;
the next message carries a new link). Made like every back-office change (dawra.app.changes.ChangeOrder): committed
with its audit entry, once per Idempotency-Key."""

from __future__ import annotations

from dawra.app.changes import Change, ChangeOrder
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.order import Order


class RevokeOrderLinks:
    ACTION = "revoke_links"

    def __init__(self, change: ChangeOrder):
        self.change = change

    def __call__(self, actor: Actor, order_id: str, key: str, reason: str) -> Order:
        """Every link to the order given out so far stops working (a customer forwarded one, a phone was lost)."""
        authorize(actor, Permission.CHANGE_ADDRESS)  # whoever may change where an order goes may close its page

        def decide(order: Order, _: str) -> Change:
            before = order.link_version
            order.revoke_links()
            return Change(detail={"link_version": {"before": before, "after": order.link_version}})

        return self.change(actor, order_id, key, self.ACTION, reason, decide, {}).order
