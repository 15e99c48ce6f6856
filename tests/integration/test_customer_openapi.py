"""The customer API's OpenAPI document (docs/api/customer-openapi.json) is what the customer function generates, and
a valid document: regenerate it with `python -m dawra.local openapi`."""

from __future__ import annotations

import json
from pathlib import Path

import schemathesis

from dawra.local.openapi import customer_document

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_customer_document_is_the_generated_one_and_a_valid_openapi_document():
    committed = json.loads((ROOT / "docs" / "api" / "customer-openapi.json").read_text())
    assert customer_document() == committed, "regenerate it: python -m dawra.local openapi"
    loaded = schemathesis.openapi.from_dict(committed)  # refuses a document that is not valid OpenAPI
    assert len(list(loaded.get_all_operations())) == 2
    assert set(committed["paths"]) == {"/customer/order", "/customer/order-link"}  # the HTML pages are not in it
    order, link = committed["paths"]["/customer/order"]["get"], committed["paths"]["/customer/order-link"]["post"]
    assert {"200", "404", "503"} <= set(order["responses"]) and order["security"] == [{"orderLink": []}]
    assert {"202", "422", "429"} <= set(link["responses"])
    view = committed["components"]["schemas"]["CustomerOrderView"]["properties"]
    assert "payment" not in view and {"stage", "shipments", "timeline", "actions"} <= set(view)
