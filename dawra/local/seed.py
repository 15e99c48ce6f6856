"""Demo merchant data: a small catalog, three locations, stock; and one operator per back-office role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from dawra.domain.allocation import DeliverySlot, Location, PickupDesk
from dawra.domain.availability import StockPolicy
from dawra.domain.money import Money
from dawra.domain.pricing import CatalogItem

if TYPE_CHECKING:
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.local.cloud import EmbeddedCloud

CATALOG = [
    CatalogItem(sku="MUG-CLASSIC", title="Classic mug", titles={"ar": "كوب كلاسيكي"},
                unit_price=Money(amount=4500, currency="SAR"), weight_g=350, category="homeware"),
    CatalogItem(sku="DALLAH-BRASS", title="Brass dallah", titles={"ar": "دلّة نحاسية"},
                unit_price=Money(amount=18900, currency="SAR"), weight_g=900, category="homeware"),
    CatalogItem(sku="DATES-1KG", title="Sukkari dates, 1 kg", titles={"ar": "تمر سكري، 1 كغ"},
                unit_price=Money(amount=6500, currency="SAR"), tax_class="zero", weight_g=1000, category="food"),
    CatalogItem(sku="PRAYER-MAT", title="Prayer mat", titles={"ar": "سجادة صلاة"},
                unit_price=Money(amount=12000, currency="SAR"), weight_g=800, category="textiles"),
]
# Handling days and the daily cut-off (local time) feed the delivery promise (dawra.domain.promise); the city, the
# cities its own couriers deliver to, the same-day cut-off and the weekly slots feed the storefront's delivery options
# (dawra.domain.delivery_options); a pickup desk makes a store one to collect orders from.
LOCATIONS = [
    Location(location_id="riyadh-dc", name="Riyadh distribution centre", kind="warehouse", priority=1, region="SA-01",
             country="SA", handling_days=1, cutoff=time(14, 0), city="Riyadh",
             delivery_cities=("Riyadh", "الرياض"), same_day_cutoff=time(13, 0),
             delivery_slots=(DeliverySlot(weekday="thursday", start=time(16, 0), end=time(21, 0)),
                             DeliverySlot(weekday="friday", start=time(16, 0), end=time(22, 0)),
                             DeliverySlot(weekday="saturday", start=time(10, 0), end=time(14, 0)))),
    Location(location_id="jeddah-store", name="Jeddah store", kind="store", priority=2, region="SA-02",
             country="SA", handling_days=1, cutoff=time(12, 0), city="Jeddah", delivery_cities=("Jeddah", "جدة"),
             same_day_cutoff=time(11, 0),
             pickup=PickupDesk(hours={"en": "Sat-Thu 10:00-22:00, Fri 16:00-22:00",
                                      "ar": "السبت إلى الخميس 10:00-22:00، الجمعة 16:00-22:00"})),
    Location(location_id="dammam-3pl", name="Dammam 3PL", kind="3pl", priority=3, region="SA-04",
             country="SA", handling_days=2, cutoff=time(16, 0), city="Dammam",
             preparation="partner", pack_within_hours=24),  # the 3PL prepares its shipments (decision 97)
]
STOCK = {
    ("MUG-CLASSIC", "riyadh-dc"): 40,
    ("MUG-CLASSIC", "jeddah-store"): 5,
    ("DALLAH-BRASS", "jeddah-store"): 3,
    ("DATES-1KG", "riyadh-dc"): 25,
    ("DATES-1KG", "dammam-3pl"): 10,
    ("PRAYER-MAT", "riyadh-dc"): 2,
}


def waiting_catalog(today: date) -> list[CatalogItem]:
    """Two SKUs sold ahead of their stock (dawra.domain.availability.StockPolicy), dated from `today`: a lantern on
    back order (none in stock, expected in 10 days) and an oud gift set on pre-order (released in 3 weeks; the
    warehouse already holds some)."""
    return [
        CatalogItem(sku="LANTERN-BRASS", title="Brass lantern", titles={"ar": "فانوس نحاسي"},
                    unit_price=Money(amount=24500, currency="SAR"), weight_g=1200, category="homeware",
                    stock_policy=StockPolicy(kind="backorder", until=today + timedelta(days=10))),
        CatalogItem(sku="OUD-GIFTSET", title="Oud gift set", titles={"ar": "طقم عود هدية"},
                    unit_price=Money(amount=39000, currency="SAR"), weight_g=600, category="homeware",
                    stock_policy=StockPolicy(kind="preorder", until=today + timedelta(days=21))),
    ]


WAITING_STOCK = {("OUD-GIFTSET", "riyadh-dc"): 5}  # held for the release day: not sold before it


def seed(inventory: DynamoInventory) -> None:
    """Write the demo merchant's data through the inventory adapter (dawra.adapters.dynamo.inventory)."""
    for item in CATALOG + waiting_catalog(datetime.now(UTC).date()):
        inventory.put_catalog_item(item)
    for location in LOCATIONS:
        inventory.put_location(location)
    for (sku, location_id), units in (STOCK | WAITING_STOCK).items():
        inventory.set_stock(sku, location_id, units)


# One operator per role of the operators' pool (dawra/topology/backoffice.py): username, email, preferred language.
OPERATORS = (
    ("agent", "agent", "agent@dawra.example", "ar"),
    ("warehouse", "warehouse", "warehouse@dawra.example", "en"),
    ("manager", "manager", "manager@dawra.example", "en"),
    ("store", "store", "store@dawra.example", "ar"),
)


@dataclass(frozen=True)
class Operator:
    role: str
    username: str
    email: str
    password: str

    def __repr__(self) -> str:
        return f"Operator(role={self.role!r}, username={self.username!r})"


def new_password() -> str:
    """A random password the pool's policy accepts (upper and lower case, a digit, a symbol, 12+ characters)."""
    return f"{secrets.token_urlsafe(12)}.Aa1"


def create_operator(cloud: EmbeddedCloud, username: str, email: str, groups: tuple[str, ...], *,
                    locale: str = "en", password: str | None = None, pool_id: str = "operators") -> Operator:
    """An operator with a permanent password (no first sign-in challenge), a verified email, in `groups`."""
    idp: Any = cloud.client("cognito-idp")
    user_pool_id = cloud.resolve_ref("user_pool", pool_id, "id")
    password = password or new_password()
    idp.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:locale", "Value": locale}])
    idp.admin_set_user_password(UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=user_pool_id, Username=username, GroupName=group)
    return Operator(role=",".join(groups), username=username, email=email, password=password)


def seed_operators(cloud: EmbeddedCloud) -> list[Operator]:
    """One operator per role, each with a new random password (the local stack prints them)."""
    return [create_operator(cloud, username, email, (role,), locale=locale)
            for role, username, email, locale in OPERATORS]
