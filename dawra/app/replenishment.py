"""Replenishment: the report of stock items under their reorder point (what to order to reach the target) and the
transfers suggested between locations (dawra.domain.replenishment.plan); a manager approves a suggestion into a
transfer through the back office's own transfer (StockActions.transfer: in transit, then received).

The reorder point and target themselves are set through StockActions.set_plan (audited like every stock change);
the low-stock alert is raised by the writes that change stock (`tell_low`, after their commit)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.errors import TransientError
from dawra.domain.inventory import StockLevel, StockRefused
from dawra.domain.replenishment import ReplenishmentPlan, plan
from dawra.ports import InventoryRepository, OpsAlerts, StockRecords

if TYPE_CHECKING:
    from dawra.app.stock import StockActions, StockOutcome

log = logging.getLogger(__name__)


def tell_low(alerts: OpsAlerts, crossed: Sequence[tuple[str, str, int, int]]) -> None:
    """Ops alerts for the stock items that just went below their reorder point: (sku, location, available, reorder
    point). After the commit: the stock change stands whatever happens here; an alert that cannot be sent is logged
    (the item stays flagged low and is in the replenishment report)."""
    for sku, location_id, available, reorder_point in crossed:
        try:
            alerts.low_stock(sku, location_id, available, reorder_point)
        except (TransientError, ValueError) as error:
            log.warning("low-stock alert not sent", extra={"sku": sku, "location_id": location_id,
                                                          "error": type(error).__name__})


class Replenishment:
    def __init__(self, inventory: InventoryRepository, records: StockRecords, stock: StockActions):
        self.inventory, self.records, self.stock = inventory, records, stock

    def report(self, actor: Actor) -> ReplenishmentPlan:
        authorize(actor, Permission.PLAN_REPLENISHMENT)
        return plan(self._levels())

    def approve(self, actor: Actor, key: str, sku: str, from_location: str, to_location: str,
                quantity: int) -> StockOutcome:
        """A suggested transfer sent as a transfer (in transit until received). Refused unless the plan, as it is
        now, still suggests moving at least `quantity` of `sku` between these locations (a retried approval is the
        same transfer: the transfer's own idempotency key)."""
        authorize(actor, Permission.PLAN_REPLENISHMENT)
        from dawra.app.stock import transfer_id_for

        if self.records.transfer(transfer_id_for(actor, key)) is None:
            suggested = sum(s.quantity for s in plan(self._levels()).transfers
                            if (s.sku, s.from_location, s.to_location) == (sku, from_location, to_location))
            if quantity < 1 or quantity > suggested:
                raise StockRefused(f"the plan suggests moving {suggested} of {sku} from {from_location} to "
                                   f"{to_location} now, not {quantity}", field="quantity")
        return self.stock.transfer(actor, key, sku, from_location, to_location, quantity,
                                   f"replenishment: suggested transfer of {quantity} approved")

    def _levels(self) -> list[StockLevel]:
        return [level for location in self.inventory.locations()
                for level in self.records.levels_at(location.location_id)]
