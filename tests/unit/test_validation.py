import pytest
from pydantic import ValidationError

from dawra.contracts.api import PlaceOrderRequest

VALID = {
    "customer_id": "c-1",
    "contact": {"email": "a@example.com"},
    "shipping_address": {"name": "Sara", "line1": "1 Olaya St", "city": "Riyadh", "country": "SA"},
    "lines": [{"sku": "MUG-1", "quantity": 1}],
    "payment_token": "tok_sandbox_approve",
}


def fields(payload):
    with pytest.raises(ValidationError) as error:
        PlaceOrderRequest.model_validate(payload)
    return {".".join(map(str, e["loc"])) for e in error.value.errors()}


def test_a_valid_request_parses_and_normalises_the_phone():
    request = PlaceOrderRequest.model_validate(
        {**VALID, "contact": {"email": "a@example.com", "phone": "+966 50 123 4567", "preferred_channel": "sms"}})
    assert request.contact.phone == "+966501234567"


def test_field_level_errors():
    assert "lines.0.quantity" in fields({**VALID, "lines": [{"sku": "MUG-1", "quantity": 0}]})
    assert "contact.email" in fields({**VALID, "contact": {"email": "not-an-email"}})
    assert "shipping_address.country" in fields({**VALID, "shipping_address": {**VALID["shipping_address"],
                                                                              "country": "Saudi"}})
    assert "lines" in fields({**VALID, "lines": []})


def test_client_prices_are_refused_not_ignored_silently():
    assert "lines.0.unit_price" in fields({**VALID, "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": 1}]})


def test_sms_needs_a_phone_and_phones_must_be_valid():
    assert "contact" in fields({**VALID, "contact": {"email": "a@example.com", "preferred_channel": "sms"}})
    assert "contact.phone" in fields({**VALID, "contact": {"email": "a@example.com", "phone": "12345"}})


def test_duplicate_skus_are_refused():
    assert "lines" in fields({**VALID, "lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]})
