"""A customer's return asked for by a storefront (the storefront API): the checks the order page's form makes, each
refused line said with its reason, then the very request the page makes (`Returns.start`: the return stored once per
request key, its workflow started once), and reading one return back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dawra.app.common import load
from dawra.app.returns import ReturnChoices
from dawra.contracts.return_api import ReturnAsked
from dawra.domain.allocation import Location
from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.return_lines import LinesNotReturnable, ReturnNotFound, home_location, refused_lines, stores
from dawra.domain.returns import Return, ReturnMethod, ReturnRequest, return_id_for
from dawra.ports import OrderRepository

StartReturn = Callable[[str, str, ReturnRequest], Return]  # dawra.app.return_workflow.StartReturn


class AskForReturn:
    def __init__(self, orders: OrderRepository, returnable_lines: Callable[[str], ReturnChoices],
                 start: StartReturn, locations: Callable[[], Sequence[Location]]):
        self.orders, self.returnable_lines, self.start, self.locations = orders, returnable_lines, start, locations

    def __call__(self, order_id: str, request_key: str, asked: ReturnAsked) -> Return:
        """The return asked for (a replayed key: the return it asked for). LinesNotReturnable lists every line that
        cannot go back now and why; a store that takes no returns is InvalidCustomerDetails."""
        order = load(self.orders, order_id)
        skus = [line.sku for line in asked.lines]
        location = home_location(order, skus)
        if asked.method == ReturnMethod.STORE:
            location = asked.store_location_id or ""
            if location not in {place.location_id for place in stores(self.locations())}:
                raise InvalidCustomerDetails(f"{location} is not one of the shop's stores", field="store_location_id")
        request = ReturnRequest(lines=[(line.sku, line.quantity, line.reason, line.comment) for line in asked.lines],
                                method=asked.method, refund_method=asked.refund_method, location_id=location,
                                bank_account=asked.iban, exchanges=asked.exchanges, pickup=asked.pickup_slot)
        if all(ret.return_id != return_id_for(order_id, request_key) for ret in order.returns):
            refused = refused_lines(self.returnable_lines(order_id).lines,
                                    [(line.sku, line.quantity) for line in asked.lines])
            if refused:
                raise LinesNotReturnable(order_id, order.status.value, refused)
        # Asked before with this key: the same request finds its return, another one is refused there.
        return self.start(order_id, request_key, request)


class ViewReturn:
    def __init__(self, orders: OrderRepository):
        self.orders = orders

    def __call__(self, order_id: str, return_id: str) -> Return:
        order = self.orders.get(order_id)
        found = next((ret for ret in order.returns if ret.return_id == return_id), None) if order else None
        if found is None:
            raise ReturnNotFound(f"order {order_id} has no return {return_id}")
        return found
