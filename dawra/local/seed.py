"""Demo merchant data: a small catalog, three locations, stock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dawra.domain.allocation import Location
from dawra.domain.money import Money
from dawra.domain.pricing import CatalogItem

if TYPE_CHECKING:
    from dawra.adapters.dynamo.inventory import DynamoInventory

CATALOG = [
    CatalogItem(sku="MUG-CLASSIC", title="Classic mug", unit_price=Money(amount=4500, currency="SAR"), weight_g=350),
    CatalogItem(sku="DALLAH-BRASS", title="Brass dallah", unit_price=Money(amount=18900, currency="SAR"),
                weight_g=900),
    CatalogItem(sku="DATES-1KG", title="Sukkari dates, 1 kg", unit_price=Money(amount=6500, currency="SAR"),
                tax_class="zero", weight_g=1000),
    CatalogItem(sku="PRAYER-MAT", title="Prayer mat", unit_price=Money(amount=12000, currency="SAR"), weight_g=800),
]
LOCATIONS = [
    Location(location_id="riyadh-dc", name="Riyadh distribution centre", kind="warehouse", priority=1, region="SA-01"),
    Location(location_id="jeddah-store", name="Jeddah store", kind="store", priority=2, region="SA-02"),
    Location(location_id="dammam-3pl", name="Dammam 3PL", kind="3pl", priority=3, region="SA-04"),
]
STOCK = {
    ("MUG-CLASSIC", "riyadh-dc"): 40,
    ("MUG-CLASSIC", "jeddah-store"): 5,
    ("DALLAH-BRASS", "jeddah-store"): 3,
    ("DATES-1KG", "riyadh-dc"): 25,
    ("DATES-1KG", "dammam-3pl"): 10,
    ("PRAYER-MAT", "riyadh-dc"): 2,
}


def seed(inventory: DynamoInventory) -> None:
    """Write the demo merchant's data through the inventory adapter (dawra.adapters.dynamo.inventory)."""
    for item in CATALOG:
        inventory.put_catalog_item(item)
    for location in LOCATIONS:
        inventory.put_location(location)
    for (sku, location_id), units in STOCK.items():
        inventory.set_stock(sku, location_id, units)
