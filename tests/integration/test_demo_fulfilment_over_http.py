"""`make demo`'s delivery choices (dawra/local/demo_fulfilment.py) on a stack of their own: the availability call,
the store pickup through the console's desk (a wrong code refused, the right one completes the order) and the
backorder served by the warehouse's adjustment, each ending as the demo says; and the messages they bring are the
number the demo's outbox check counts on."""

from __future__ import annotations

import time

from parcels import stock

from dawra.local import demo_fulfilment as fulfilment
from dawra.local.actors import SandboxCarrierSimulator, Storefront


def test_the_demo_s_availability_pickup_and_backorder_end_as_it_says(local_stack, capsys):
    store = Storefront(local_stack.gateway_url)
    carrier = SandboxCarrierSimulator(local_stack.gateway_url,
                                      local_stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    lines = fulfilment.availability(store)
    assert lines[1].startswith("   MUG-CLASSIC: 45 available (riyadh-dc 40, jeddah-store 5)")
    assert any("pickup    from jeddah-store" in line and "at Jeddah store" in line for line in lines)
    assert any(line.startswith("   DALLAH-BRASS: 3 available (jeddah-store 3)") for line in lines)

    (_, collected), (_, backordered) = fulfilment.place(store)
    fulfilment.store_pickup(local_stack, store, collected)
    fulfilment.backorder(local_stack, store, carrier, backordered)
    out = capsys.readouterr().out
    assert "hand over for ZZZZ-ZZZZ: HTTP 422 Wrong pickup code" in out
    assert "its workflow waits in WaitForStock" in out

    pickup = store.get_order(collected).body
    assert pickup["status"] == "COMPLETED" and pickup["shipments"][0]["status"] == "collected"
    assert pickup["totals"]["shipping"]["amount"] == 0
    assert stock(local_stack, "MUG-CLASSIC", "jeddah-store") == (3, 0, 3)  # 5 seeded, 2 collected
    lantern = store.get_order(backordered).body
    assert lantern["status"] == "COMPLETED"
    kinds = [event["kind"] for event in lantern["timeline"]]
    assert kinds.index("order_confirmed") < kinds.index("stock_reserved") < kinds.index("order_completed")
    assert stock(local_stack, "LANTERN-BRASS", "riyadh-dc") == (3, 0, 3)  # 4 arrived, one left with the parcel

    deadline = time.monotonic() + 30
    while len(local_stack.outbox()) < fulfilment.MESSAGES and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a duplicate would show up here
    sent = [(m.to, m.subject.split(" is ", 1)[-1].split(" was ", 1)[-1]) for m in local_stack.outbox()]
    assert len(sent) == fulfilment.MESSAGES, sent
    assert sorted(sent) == sorted([
        ("huda@example.com", "confirmed"), ("huda@example.com", "ready to collect"),
        ("faisal@example.com", "confirmed"), ("faisal@example.com", "confirmed"),
        ("faisal@example.com", "on its way"), ("faisal@example.com", "delivered")])
