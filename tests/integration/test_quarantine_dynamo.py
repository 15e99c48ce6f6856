"""Quarantined stock on the embedded cloud: the unit of work counts it on stock items (also on items written before
the counter existed) over the counters read; the admin API writes quarantined units off and releases them to
sellable, audited in the same transaction, once per Idempotency-Key, never below zero; the console's stock page shows
the count and its forms do the same, CSRF-checked."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest

from dawra.adapters.dynamo.backoffice import DynamoAuditLog
from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.domain.audit import stock_subject
from dawra.domain.errors import ConcurrentChange
from dawra.domain.inventory import take_back
from dawra.local.actors import AdminApi
from dawra.local.scenario import sign_in
from dawra.local.seed import create_operator


@pytest.fixture(scope="module")
def cloud(local_stack) -> dict[str, Any]:
    orders, inventory = (local_stack.cloud.resolve_ref("table", name, "name") for name in ("orders", "inventory"))
    return {"inventory": DynamoInventory(inventory), "uow": DynamoUnitOfWork(orders, inventory),
            "audit": DynamoAuditLog(orders), "ddb": local_stack.cloud.client("dynamodb"), "table": inventory}


def operator(stack, role: str):
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    return create_operator(stack.cloud, username, f"{username}@dawra.example", (role,))


def quarantine(cloud: dict[str, Any], sku: str, location_id: str, units: int) -> None:
    """Units set aside, as an inspection of damaged goods does (the same counter change, the same unit of work)."""
    level = cloud["inventory"].stock(sku, location_id)
    cloud["uow"].commit(stock=[take_back(level, sku, location_id, quarantined=units)])


def counts(cloud: dict[str, Any], sku: str, location_id: str) -> tuple[int, int, int, int]:
    level = cloud["inventory"].stock(sku, location_id)
    return level.on_hand, level.reserved, level.available, level.quarantined


def test_the_unit_of_work_counts_quarantine_on_an_item_older_than_the_counter_and_refuses_stale_counts(cloud):
    ddb, table = cloud["ddb"], cloud["table"]
    ddb.put_item(TableName=table, Item={  # as stock items were written before quarantine (and transfers) existed
        "pk": {"S": "SKU#DATES-1KG"}, "sk": {"S": "STOCK#jeddah-store"}, "sku": {"S": "DATES-1KG"},
        "location_id": {"S": "jeddah-store"}, "on_hand": {"N": "4"}, "reserved": {"N": "0"}, "available": {"N": "4"}})
    stale = cloud["inventory"].stock("DATES-1KG", "jeddah-store")
    assert stale.quarantined == 0
    quarantine(cloud, "DATES-1KG", "jeddah-store", 2)
    assert counts(cloud, "DATES-1KG", "jeddah-store") == (4, 0, 4, 2)
    with pytest.raises(ConcurrentChange):  # decided on counters that have moved since
        cloud["uow"].commit(stock=[take_back(stale, "DATES-1KG", "jeddah-store", quarantined=1)])
    assert counts(cloud, "DATES-1KG", "jeddah-store") == (4, 0, 4, 2)


def test_the_admin_api_writes_off_and_releases_quarantined_units_audited_once(local_stack, cloud):
    warehouse = AdminApi(local_stack.gateway.url, sign_in(local_stack, operator(local_stack, "warehouse")))
    agent = AdminApi(local_stack.gateway.url, sign_in(local_stack, operator(local_stack, "agent")))
    quarantine(cloud, "MUG-CLASSIC", "riyadh-dc", 5)
    on_hand, reserved, available, held = counts(cloud, "MUG-CLASSIC", "riyadh-dc")
    listed = warehouse.get("/stock?sku=MUG-CLASSIC&location_id=riyadh-dc").body["levels"]
    assert [level["quarantined"] for level in listed] == [held]

    body = {"sku": "MUG-CLASSIC", "location_id": "riyadh-dc", "quantity": 2, "reason": "cracked beyond repair"}
    gone = warehouse.post("/stock/quarantine/write-offs", body, "wo-key-00000001")
    assert gone.status == 200, gone.body
    assert gone.body["audit"]["action"] == "write_off_quarantined" and not gone.body["replayed"]
    assert (gone.body["audit"]["before"]["quarantined"], gone.body["audit"]["after"]["quarantined"]) == (
        held, held - 2)
    again = warehouse.post("/stock/quarantine/write-offs", body, "wo-key-00000001")
    assert again.body["replayed"] and again.body["audit"]["audit_id"] == gone.body["audit"]["audit_id"]
    assert counts(cloud, "MUG-CLASSIC", "riyadh-dc") == (on_hand, reserved, available, held - 2)  # once
    entry = cloud["audit"].entry(stock_subject("MUG-CLASSIC", "riyadh-dc"), gone.body["audit"]["audit_id"])
    assert entry is not None and entry.reason == "cracked beyond repair"  # written with the counters

    fixed = warehouse.post("/stock/quarantine/releases", {**body, "quantity": 1, "reason": "re-glazed"},
                           "rel-key-0000001")
    assert fixed.status == 200, fixed.body
    assert counts(cloud, "MUG-CLASSIC", "riyadh-dc") == (on_hand + 1, reserved, available + 1, held - 3)

    too_many = warehouse.post("/stock/quarantine/releases", {**body, "quantity": held}, "rel-key-0000002")
    assert too_many.status == 409, too_many.body
    assert too_many.body["code"] == "stock_refused" and f"{held - 3} quarantined, cannot release" in (
        too_many.body["detail"])
    assert warehouse.post("/stock/quarantine/write-offs", {**body, "reason": " "}, "wo-key-00000002").status == 422
    refused = agent.post("/stock/quarantine/write-offs", body, "wo-key-00000003")
    assert refused.status == 403 and "adjust stock is not allowed for agent" in refused.body["detail"]
    assert counts(cloud, "MUG-CLASSIC", "riyadh-dc") == (on_hand + 1, reserved, available + 1, held - 3)


class Console:
    """A browser's view of the console, enough for forms: cookies kept, redirects not followed."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method="POST" if form is not None else "GET")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        no_redirects = type("NoRedirects", (urllib.request.HTTPRedirectHandler,),
                            {"redirect_request": lambda *args, **kwargs: None})
        try:
            response = urllib.request.build_opener(no_redirects).open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for line in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()

    def csrf(self, html: str) -> str:
        return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def test_the_console_stock_page_shows_quarantine_and_its_forms_act(local_stack, cloud):
    person = operator(local_stack, "warehouse")
    browser = Console(local_stack.gateway_url)
    _, _, signin = browser.request("/admin/signin")
    status, _, _ = browser.request("/admin/signin", {"csrf": browser.csrf(signin), "username": person.username,
                                                     "password": person.password, "next": ""})
    assert status == 303
    quarantine(cloud, "PRAYER-MAT", "riyadh-dc", 3)
    held = counts(cloud, "PRAYER-MAT", "riyadh-dc")[3]
    _, _, page = browser.request("/admin/stock?sku=PRAYER-MAT&location=riyadh-dc")
    row = re.search(r'<tr data-sku="PRAYER-MAT" data-location="riyadh-dc"[^>]*data-quarantined="(\d+)"', page)
    assert row and int(row.group(1)) == held
    assert 'data-testid="form-write-off"' in page and 'data-testid="form-release"' in page

    form = {"csrf": browser.csrf(page), "sku": "PRAYER-MAT", "location": "riyadh-dc", "quantity": "1",
            "reason": "seal broken, destroyed"}
    status, headers, _ = browser.request("/admin/stock/write-off", {**form, "key": "console-key-0001"})
    assert status == 303 and headers["location"] == "/admin/stock?done=write_off_quarantined"
    assert counts(cloud, "PRAYER-MAT", "riyadh-dc")[3] == held - 1
    status, _, _ = browser.request("/admin/stock/write-off", {**form, "key": "console-key-0001"})  # a double submit
    assert status == 303 and counts(cloud, "PRAYER-MAT", "riyadh-dc")[3] == held - 1
    status, _, refused = browser.request("/admin/stock/release", {**form, "key": "console-key-0002",
                                                                  "quantity": str(held)})
    assert status == 409 and "quarantined, cannot release" in refused
    forged = browser.request("/admin/stock/release", {**form, "key": "console-key-0003", "csrf": "forged"})
    assert forged[0] == 403 and counts(cloud, "PRAYER-MAT", "riyadh-dc")[3] == held - 1
