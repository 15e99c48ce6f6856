"""Routing (dawra.domain.routing): each strategy of the chain, the reason it gives in English and Arabic, the chain
configured differently, the "only these locations" constraint, and ReserveStock recording the route on the stock
reservation's timeline event in the same commit."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from dawra.app.reserve import ReserveStock
from dawra.domain.allocation import MAX_EXACT_LOCATIONS, Location, plan_allocation
from dawra.domain.routing import (
    CHOSEN,
    DEFAULT_CHAIN,
    ONLY,
    Route,
    RoutingPolicy,
    Strategy,
    plan_route,
    routing_policy,
)
from dawra.domain.timeline import TimelineKind
from dawra.web.i18n import Translator
from dawra.web.routing_words import routing_reason

RIYADH = Location(location_id="riyadh-dc", name="Riyadh DC", kind="warehouse", priority=1, region="SA-01")
JEDDAH = Location(location_id="jeddah-store", name="Jeddah store", kind="store", priority=2, region="SA-02")
DAMMAM = Location(location_id="dammam-3pl", name="Dammam 3PL", kind="3pl", priority=3, region="SA-04")
LOCATIONS = [RIYADH, JEDDAH, DAMMAM]
NAMES = {loc.location_id: loc.name for loc in LOCATIONS}
POLICY = routing_policy()


def chain(*strategies: Strategy) -> RoutingPolicy:
    return POLICY.model_copy(update={"chain": strategies})


def said(route: Route, language: str = "en") -> str:
    text = routing_reason(route.timeline_detail(NAMES), Translator(language), language)
    assert text is not None
    return text


def test_the_merchants_file_loads_with_the_default_chain():
    assert POLICY.chain == DEFAULT_CHAIN
    assert routing_policy() is POLICY  # read once
    assert {"SA-01", "SA-02", "SA-04"} <= set(POLICY.regions)


def test_fewest_shipments_one_location_with_every_item_beats_a_preferred_split():
    available = {("x", "riyadh-dc"): 1, ("x", "dammam-3pl"): 1, ("x", "jeddah-store"): 2}
    route = plan_route({"x": 2}, available, LOCATIONS, POLICY)
    assert route is not None and route.location_ids == ("jeddah-store",) and route.decided_by == ONLY
    assert route.reasons == ("only_location",)
    assert said(route) == "All items from Jeddah store: the only location with every item"
    assert said(route, "ar") == "جميع المنتجات من Jeddah store: الموقع الوحيد الذي تتوفر فيه كل المنتجات"
    # When the strategy itself has to choose (nearest cannot: no destination), its words are the same.
    route = plan_route({"x": 2}, available, LOCATIONS, chain(Strategy.NEAREST, Strategy.FEWEST_SHIPMENTS))
    assert route is not None and route.decided_by == Strategy.FEWEST_SHIPMENTS
    assert route.location_ids == ("jeddah-store",) and route.reasons == ("only_location",)


def test_location_priority_first_among_full_stock():
    available = {(sku, loc.location_id): 5 for sku in ("x", "y") for loc in LOCATIONS}
    route = plan_route({"x": 1, "y": 2}, available, LOCATIONS, POLICY, destination="SA-02")
    assert route is not None and route.location_ids == ("riyadh-dc",)
    assert route.decided_by == Strategy.LOCATION_PRIORITY
    assert said(route) == "All items from Riyadh DC: first in location priority with full stock"
    assert "الأول في أولوية المواقع" in said(route, "ar")
    # the same as the allocation returns and claims still use
    assert route.picks == plan_allocation({"x": 1, "y": 2}, available, LOCATIONS)


def test_nearest_to_the_destination_region_among_equal_priorities():
    riyadh, jeddah = RIYADH.model_copy(update={"priority": 1}), JEDDAH.model_copy(update={"priority": 1})
    available = {("x", "riyadh-dc"): 5, ("x", "jeddah-store"): 5}
    destination = POLICY.region_of("SA", "Jeddah")
    assert destination == "SA-02"
    route = plan_route({"x": 1}, available, [riyadh, jeddah], POLICY, destination=destination)
    assert route is not None and route.location_ids == ("jeddah-store",) and route.decided_by == Strategy.NEAREST
    assert route.timeline_detail(NAMES) == {"routing": "nearest", "routed_from": "Jeddah store",
                                            "routing_region": "SA-02"}
    assert said(route) == "All items from Jeddah store: nearest to Makkah region with full stock"
    assert said(route, "ar") == "جميع المنتجات من Jeddah store: الأقرب إلى منطقة مكة المكرمة مع توفر المخزون كاملًا"
    # To Dammam, Riyadh is nearer than Jeddah.
    route = plan_route({"x": 1}, available, [riyadh, jeddah], POLICY, destination=POLICY.region_of("SA", "Dammam"))
    assert route is not None and route.location_ids == ("riyadh-dc",)
    # No known destination: nearest cannot tell them apart; the tie goes to the preferred (equal priority: by id).
    route = plan_route({"x": 1}, available, [riyadh, jeddah], POLICY, destination=None)
    assert route is not None and route.decided_by == "tie" and route.location_ids == ("jeddah-store",)
    assert said(route) == "All items from Jeddah store: equal on every rule: the first by location priority"


def test_lowest_shipping_cost_when_nearer_is_not_cheaper():
    # Two locations in the same region (same distance), one with a cheaper carrier contract.
    riyadh_store = Location(location_id="riyadh-store", name="Riyadh store", kind="store", priority=1,
                            region="SA-01")
    policy = POLICY.model_copy(update={"shipping_cost": {**POLICY.shipping_cost, "riyadh-store": {"*": 900}}})
    available = {("x", "riyadh-dc"): 5, ("x", "riyadh-store"): 5}
    route = plan_route({"x": 1}, available, [RIYADH, riyadh_store], policy, destination="SA-04")
    assert route is not None and route.location_ids == ("riyadh-store",)
    assert route.decided_by == Strategy.LOWEST_COST and route.reasons == ("cheapest",)
    assert said(route) == "All items from riyadh-store: lowest shipping cost to Eastern Province with full stock"
    assert "أقل تكلفة شحن إلى المنطقة الشرقية" in said(route, "ar")
    # A location without a cost to the region ranks after every known cost.
    unknown = riyadh_store.model_copy(update={"location_id": "nowhere"})
    route = plan_route({"x": 1}, {("x", "riyadh-dc"): 5, ("x", "nowhere"): 5}, [RIYADH, unknown],
                       chain(Strategy.LOWEST_COST), destination="SA-04")
    assert route is not None and route.location_ids == ("riyadh-dc",)


def test_a_split_says_no_single_location_has_every_item():
    available = {("x", "riyadh-dc"): 3, ("y", "dammam-3pl"): 3}
    route = plan_route({"x": 1, "y": 1}, available, LOCATIONS, POLICY, destination="SA-04")
    assert route is not None and route.location_ids == ("riyadh-dc", "dammam-3pl") and route.split_needed
    assert said(route) == "Split across Riyadh DC and Dammam 3PL: no single location has every item"
    assert said(route, "ar") == ("مقسّم بين Riyadh DC وDammam 3PL: لا يوجد موقع واحد تتوفر فيه كل المنتجات")


def test_the_chain_configured_differently_chooses_differently():
    available = {("x", "riyadh-dc"): 5, ("x", "jeddah-store"): 5, ("x", "dammam-3pl"): 5}
    default = plan_route({"x": 1}, available, LOCATIONS, POLICY, destination="SA-02")
    nearest_first = plan_route({"x": 1}, available, LOCATIONS,
                               chain(Strategy.NEAREST, Strategy.LOCATION_PRIORITY), destination="SA-02")
    assert default is not None and default.location_ids == ("riyadh-dc",)
    assert nearest_first is not None and nearest_first.location_ids == ("jeddah-store",)
    assert nearest_first.decided_by == Strategy.NEAREST
    cheapest_first = plan_route({"x": 1}, available, LOCATIONS, chain(Strategy.LOWEST_COST), destination="SA-04")
    assert cheapest_first is not None and cheapest_first.location_ids == ("dammam-3pl",)

    # Priority before fewest shipments: a split over the two best priorities beats one location of priority 2.
    available = {("x", "riyadh-dc"): 1, ("x", "dammam-3pl"): 1, ("x", "jeddah-store"): 2}
    split = plan_route({"x": 2}, available, LOCATIONS,
                       chain(Strategy.LOCATION_PRIORITY, Strategy.FEWEST_SHIPMENTS))
    assert split is not None and split.location_ids == ("riyadh-dc", "dammam-3pl") and not split.split_needed
    assert said(split) == "Split across Riyadh DC and Dammam 3PL: best location priorities"
    # ... while no cover keeps a location it does not need (riyadh + jeddah + dammam is never a candidate)
    assert sorted(p.location_id for p in split.picks) == ["dammam-3pl", "riyadh-dc"]


def test_only_these_locations_comes_before_the_chain():
    available = {("x", "riyadh-dc"): 5, ("x", "jeddah-store"): 5}
    route = plan_route({"x": 2}, available, LOCATIONS, POLICY, only={"jeddah-store"})
    assert route is not None and route.location_ids == ("jeddah-store",) and route.decided_by == CHOSEN
    assert said(route) == "All items from Jeddah store: the location chosen for this order"
    assert plan_route({"x": 6}, available, LOCATIONS, POLICY, only={"jeddah-store"}) is None
    assert plan_route({"x": 1}, available, LOCATIONS, POLICY, only=set()) is None


def test_destination_regions_from_the_address():
    assert POLICY.region_of("SA", "Riyadh") == "SA-01"
    assert POLICY.region_of("SA", "الرياض") == "SA-01"
    assert POLICY.region_of("SA", "al-khobar") == "SA-04"
    assert POLICY.region_of("SA", "Somewhere", "SA-02") == "SA-02"  # its own region, as a code
    assert POLICY.region_of("SA", "Somewhere", "Eastern Province") == "SA-04"  # or a name
    assert POLICY.region_of("SA", "Somewhere") is None
    assert POLICY.region_of("AE", "Dubai") == "AE-DU"
    assert POLICY.region_of("KW", "Kuwait City") == "KW"  # a whole country
    assert POLICY.region_of("AE", "Riyadh") is None  # another country's city
    assert POLICY.model_copy(update={"regions": {}}).region_of("SA", "Riyadh") is None  # its own regions, not ours
    near, far = POLICY.distance_km("SA-02", "SA-02"), POLICY.distance_km("SA-01", "SA-02")
    assert near == 0 and far is not None and 800 < far < 900
    assert POLICY.distance_km("SA-01", "XX") is None
    assert POLICY.cost("dammam-3pl", "SA-04") == 900 and POLICY.cost("dammam-3pl", "SA-09") == 3200
    assert POLICY.cost("unknown", "SA-04") is None


def test_a_policy_that_does_not_make_sense_is_refused():
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"chain": ["nearest", "nearest"]})
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"chain": ["fastest"]})
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"chain": []})
    with pytest.raises(ValidationError):
        RoutingPolicy.model_validate({"regions": {}, "shipping_cost": {"riyadh-dc": {"SA-01": 100}}})


def test_the_search_stays_bounded_and_fast():
    many = [Location(location_id=f"loc-{i:02d}", name=f"L{i}", kind="store", priority=i % 4, region="SA-01")
            for i in range(MAX_EXACT_LOCATIONS)]
    available = {(sku, loc.location_id): 1 for sku in ("a", "b", "c") for loc in many}
    started = time.perf_counter()
    route = plan_route({"a": 3, "b": 2, "c": 1}, available, many, chain(Strategy.LOWEST_COST, Strategy.NEAREST,
                                                                        Strategy.LOCATION_PRIORITY),
                       destination="SA-01")
    elapsed = time.perf_counter() - started
    assert route is not None and len(route.location_ids) == 3  # every minimal cover considered, 3 is the least
    assert elapsed < 2.0  # 2^12 subsets at most; typically a few milliseconds
    # Past the bound: one greedy cover.
    more = [*many, *(loc.model_copy(update={"location_id": f"more-{i}"}) for i, loc in enumerate(many))]
    available = {(sku, loc.location_id): 1 for sku in ("a", "b") for loc in more}
    route = plan_route({"a": 2, "b": 2}, available, more, POLICY)
    assert route is not None and len(route.location_ids) == 2 and route.decided_by == ONLY


def test_reserve_stock_records_the_route_on_the_reservation_event_in_the_same_commit(shop):
    order_id = shop.place({"DALLAH-BRASS": 1}, shipping_address={"name": "Sara", "line1": "1 Tahlia St",
                                                                   "city": "Jeddah", "country": "SA"})
    commits = shop.uow.commits
    shop.reserve(order_id)
    assert shop.uow.commits == commits + 1
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_RESERVED]
    assert event.detail["routing"] == "only_location" and event.detail["routed_from"] == "Jeddah store"
    assert "routing_region" not in event.detail  # only when a reason names it


def test_reserve_stock_follows_the_merchants_chain(shop):
    # Mugs are at Riyadh (priority 1) and Jeddah (priority 2): by default Riyadh; nearest first, Jeddah for Jeddah.
    nearest_first = ReserveStock(shop.orders, shop.inventory, shop.uow, shop.clock,
                                 routing=chain(Strategy.NEAREST, Strategy.LOCATION_PRIORITY))
    jeddah = {"name": "Sara", "line1": "1 Tahlia St", "city": "Jeddah", "country": "SA"}
    by_default = shop.place({"MUG-CLASSIC": 1}, key="key-routing-0001", shipping_address=jeddah)
    nearest = shop.place({"MUG-CLASSIC": 1}, key="key-routing-0002", shipping_address=jeddah)
    assert [s.location_id for s in shop.reserve(by_default).shipments] == ["riyadh-dc"]
    assert [s.location_id for s in nearest_first(nearest).shipments] == ["jeddah-store"]
    [event] = [e for e in shop.orders.timeline(nearest) if e.kind == TimelineKind.STOCK_RESERVED]
    assert event.detail["routing"] == "nearest" and event.detail["routing_region"] == "SA-02"
