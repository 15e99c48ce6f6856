"""What the tracking consumer asks of the order repository (each call one DynamoDB Query on AWS; issue 15): a
parcel's tracking number is looked up once per container, a number not found every time; what follows a report's
commit (resuming the workflow, clearing its token, a return's resume) works on the order that commit left, and reads
it again only after losing a race, or for a duplicate."""

from collections import Counter

import pytest
from fakes import SECRET, FakeSecrets
from returning import Returns, asking, delivered, report

from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.app.return_workflow import ParkReturn, StartReturn
from dawra.app.returns import IssueReturnLabel
from dawra.app.tracking import ApplyTracking, KnownParcels, Parcel
from dawra.domain.errors import TransientError
from dawra.domain.returns import ReturnReason, ReturnStatus


class Counted:
    """A repository whose calls are counted by name."""

    def __init__(self, inner):
        self.inner, self.calls = inner, Counter()

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


def counting(shop) -> Counter:
    """The shop's tracking consumer, built again over a counted repository; the counts."""
    orders = Counted(shop.orders)
    shop.tracking = ApplyTracking(orders, shop.uow, shop.workflow, shop.carriers,
                                  FakeSecrets({"sandbox-secret": SECRET}), {"sandbox": "sandbox-secret"},
                                  shop.rejections, shop.clock, shop.inventory)
    return orders.calls


def shipped_parcel(shop) -> tuple[str, str, str]:
    order_id = shop.place({"MUG-CLASSIC": 1})
    [shipment] = shop.reserve(order_id).shipments
    return order_id, shipment.shipment_id, shop.ship(order_id, shipment.shipment_id).tracking_number


def test_a_parcels_second_report_makes_no_lookup(shop):
    _, _, number = shipped_parcel(shop)
    calls = counting(shop)
    assert report(shop, number, "PICKED_UP") == "['moved to in_transit']"
    assert (calls["find_shipment"], calls["find_return"], calls["get"]) == (1, 0, 1)
    assert report(shop, number, "OUT_FOR_DELIVERY") == "['moved to out_for_delivery']"
    assert (calls["find_shipment"], calls["find_return"], calls["get"]) == (1, 0, 2)  # a load, no lookup


def test_a_number_not_found_is_looked_up_again_until_it_is(shop):
    order_id, shipment_id, number = shipped_parcel(shop)
    calls = counting(shop)
    stored = shop.world.shipments[order_id][shipment_id]
    stored.tracking_number = None  # the booking is not visible yet
    for _ in range(2):
        with pytest.raises(TransientError, match="no shipment has tracking number"):
            report(shop, number, "PICKED_UP")
    stored.tracking_number = number
    assert report(shop, number, "PICKED_UP") == "['moved to in_transit']"
    assert (calls["find_shipment"], calls["find_return"]) == (3, 2)  # every miss asked again, never kept


def test_a_delivered_report_resumes_the_workflow_and_clears_the_token_with_one_load(shop):
    order_id, shipment_id, number = shipped_parcel(shop)
    shop.await_delivery(order_id, shipment_id, "token")
    calls, commits = counting(shop), shop.uow.commits
    assert report(shop, number, "DELIVERED") == "['moved to delivered']"
    assert shop.workflow.resumed["token"]["shipment_id"] == shipment_id
    assert shop.orders.get(order_id).shipment(shipment_id).resume_token is None
    assert calls["get"] == 1 and shop.uow.commits == commits + 2  # the report's commit, then the clearing


def test_a_clearing_that_loses_a_race_reads_the_order_again(shop):
    order_id, shipment_id, number = shipped_parcel(shop)
    shop.await_delivery(order_id, shipment_id, "token")
    calls = counting(shop)
    resume = shop.workflow.resume

    def resumed_while_another_change_commits(token, output):
        other = shop.orders.get(order_id)  # another writer changes the shipment before the token is cleared
        other.touch(shipment_id)
        shop.uow.commit(order=other)
        return resume(token, output)

    shop.workflow.resume = resumed_while_another_change_commits
    assert report(shop, number, "DELIVERED") == "['moved to delivered']"
    assert "token" in shop.workflow.resumed
    assert shop.orders.get(order_id).shipment(shipment_id).resume_token is None  # cleared over the new version
    assert calls["get"] == 2  # the report's load, and the one after the race


def test_a_duplicate_delivery_reads_the_order_again_and_resumes_what_the_first_did_not(shop):
    order_id, shipment_id, number = shipped_parcel(shop)
    shop.await_delivery(order_id, shipment_id, "token")
    shop.workflow.resume = lambda token, output: (_ for _ in ()).throw(TransientError("throttled"))
    with pytest.raises(TransientError):
        report(shop, number, "DELIVERED")
    del shop.workflow.resume
    calls = counting(shop)
    assert report(shop, number, "DELIVERED") == "['duplicate']"
    assert "token" in shop.workflow.resumed
    assert shop.orders.get(order_id).shipment(shipment_id).resume_token is None
    assert calls["get"] == 2  # the duplicate changed nothing: what follows reads the order


def test_a_return_parcels_arrival_resumes_its_wait_with_one_load_per_report(shop):
    returns = Returns(shop)
    park, start = ParkReturn(shop.orders, returns.wait, shop.workflow), StartReturn(returns.request, shop.workflow)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    number = IssueReturnLabel(shop.orders, shop.inventory, shop.uow, SandboxCarrier(now=shop.clock.now),
                              shop.clock)(order_id, ret.return_id).tracking_number
    park(order_id, ret.return_id, "parcel", "tok-parcel")
    calls = counting(shop)
    assert report(shop, number, "PICKED_UP") == "['return moved to in_transit']"
    assert report(shop, number, "DELIVERED") == "['return moved to received']"
    assert shop.workflow.resumed["tok-parcel"] == {"return_id": ret.return_id, "status": ReturnStatus.RECEIVED.value,
                                                   "received": True}
    assert (calls["find_shipment"], calls["find_return"], calls["get"]) == (1, 1, 2)


class Numbers:
    """A repository that knows every tracking number, counting the lookups."""

    def __init__(self):
        self.lookups: list[str] = []

    def find_shipment(self, tracking_number):
        self.lookups.append(tracking_number)
        return f"ord-{tracking_number}", f"shp-{tracking_number}"


def test_known_parcels_keep_the_most_recently_used_up_to_their_size():
    numbers = Numbers()
    parcels = KnownParcels(numbers, size=2)
    assert parcels.find("A") == Parcel("ord-A", "shp-A")
    parcels.find("B")
    parcels.find("A")  # A is now the most recently used
    parcels.find("C")  # B goes
    assert [parcels.find(n) for n in "ACB"] == [Parcel(f"ord-{n}", f"shp-{n}") for n in "ACB"]
    assert numbers.lookups == ["A", "B", "C", "B"]
