"""Product titles in the customer's language: the catalog's translation is kept on the order line at checkout, and
every message and the order page use it (the catalog's own title where no translation exists)."""

import pytest

from dawra.contracts.customer import customer_view
from dawra.domain.pricing import CatalogItem
from dawra.domain.timeline import TimelineKind
from dawra.rendering import Letterhead, render

LETTERHEAD = Letterhead(shop_name="Dawra", support="help@example.com", page_url="https://shop.example/my-order/T")


def placed(shop, language: str) -> str:
    return shop.place({"DALLAH-BRASS": 1, "MUG-CLASSIC": 1}, key=f"key-titles-{language}",
                      contact={"email": "sara@example.com", "language": language})


def test_a_catalog_translation_is_in_a_language_customers_read():
    with pytest.raises(ValueError):
        CatalogItem.model_validate({"sku": "X", "title": "X", "titles": {"fr": "X"}, "weight_g": 1,
                                    "unit_price": {"amount": 1, "currency": "SAR"}})


def test_an_arabic_customer_reads_arabic_titles_in_messages_and_on_the_page(shop):
    order_id = placed(shop, "ar")
    order = shop.orders.get(order_id)
    dallah = next(line for line in order.lines if line.sku == "DALLAH-BRASS")
    assert (dallah.title, dallah.title_in("ar"), dallah.title_in("en")) == ("Brass dallah", "دلّة نحاسية",
                                                                            "Brass dallah")
    [confirmed] = shop.orders.timeline(order_id)
    message = render(order, confirmed.model_copy(update={"kind": TimelineKind.ORDER_CONFIRMED}), LETTERHEAD)
    assert "دلّة نحاسية" in message.html and "كوب كلاسيكي" in message.text and "Brass dallah" not in message.text
    view = customer_view(order, [], [])
    assert [line.title for line in view.lines] == ["دلّة نحاسية", "كوب كلاسيكي"]
    assert [line.title for line in customer_view(order, [], [], "en").lines] == ["Brass dallah", "Classic mug"]


def test_an_english_customer_and_an_untranslated_item_read_the_catalog_title(shop):
    order_id = placed(shop, "en")
    order = shop.orders.get(order_id)
    [confirmed] = shop.orders.timeline(order_id)
    message = render(order, confirmed.model_copy(update={"kind": TimelineKind.ORDER_CONFIRMED}), LETTERHEAD)
    assert "Brass dallah" in message.text and "دلّة" not in message.text
    untranslated = order.lines[0].model_copy(update={"titles": {}})
    assert untranslated.title_in("ar") == untranslated.title
