"""Every key shape in Dawra's tables, and nothing else.

Orders table (pk, sk):
    ORDER#<order_id>         ORDER                                   the order header
                             RETURN#<return_id>                      a return (+ resume token while waiting)
                             SHIPMENT#<shipment_id>                  a shipment (+ resume token while waiting)
                             EVENT#<event_id>                        a timeline event (the stream feeds notify)
                             TRACKING#<carrier>#<tracking>#<event>   a carrier report applied (items written before
                                                                     decision 107; the parcel keeps digests now)
                             WEBHOOK#payments#<provider>#<event>     a payment provider's event already applied
                             MESSAGE#<event_id>#<channel>            a customer message's send claim
                             LOOKUP#<kind>#<value digest>            what the back office finds the order by
                             AUDIT#<audit_id>                        a back-office action on the order
                             LOOKUP#cod#<shipment_id>                a COD parcel delivered: lookup cod#owed until
                                                                     its cash is remitted, then cod#remitted
                             TAXDOC#<number>                         a tax invoice or credit note (INV-2026-000123)
    STOCK#<sku>#<location_id> AUDIT#<audit_id>                       a back-office action on stock
    CUSTOMER#<customer_id>   ACCOUNT                                 a business account (open_balance: a counter)
                             AUDIT#<audit_id>                        a manager's change to the account
    RECEIVABLE               <due on>#<order_id>                     an invoiced order on account not yet paid
    IDEMPOTENCY#<key hash>   IDEMPOTENCY                             which order a checkout key made
    REJECTED#<YYYY-MM-DD>    <received at>#<message id>              a carrier webhook rejected (TTL: 7 days)
    RATE#<key>               <window start>                          a rate-limit counter (TTL: after its window)
    RISK#<signal>#<digest>   RISK                                    a risk counter: orders, refusals at the door,
                                                                     velocity buckets (TTL: after its last change)
    REFUSED#<YYYY-MM-DD>     <at>#<refusal id>                       a checkout the risk screening refused (TTL)
    REMITTANCE#<digest>      REMITTANCE                              a courier's remittance file imported (report)
    REMITTANCES              <imported at>#<digest>                  the same, listed newest first
    COUNTER#<series>         COUNTER                                 the last number of a tax document series (INV-2026)
Indexes (the back office's searches; none of them is ever scanned):
    by-tracking-number (KEYS_ONLY)   tracking_number                      on shipments and returns (the sk says which)
    by-customer (KEYS_ONLY)          customer_id, placed_at               on order headers
    by-status (KEYS_ONLY)            status, placed_at                    on order headers
    by-lookup (KEYS_ONLY)            lookup, placed_at                    on LOOKUP items: email, phone, sku, location;
                                                                          cod#owed by delivery time (in placed_at)
    by-actor (ALL)                   actor_id, at                         on AUDIT items

Inventory table (pk, sk):
    SKU#<sku>                CATALOG | STOCK#<location_id>
                             WAIT#<placed at>#<order_id>            an order waiting for the sku (backorder,
                                                                     preorder), oldest first; its task token
    LOCATION                 LOC#<location_id>
    RESERVATION#<order_id>   <sku>#<location_id>
    TRANSFER#<transfer_id>   TRANSFER                                a stock transfer between locations
    FEED#<feed ref>          FEED                                    a stock feed's marker (its report, once done)
    FEEDS                    <received at>#<feed ref>                the same feeds, listed newest first
Index (the stock screen's reads; never scanned):
    by-location (KEYS_ONLY)  at_location, listing                    STOCK#<sku> on stock items; while a transfer is
                                                                     in transit, TRANSFER#<sent at>#<id> on it (under
                                                                     its destination; removed when received)
"""

from __future__ import annotations

import hashlib

ORDER_SK = "ORDER"
# Sort keys between these two hold the header, the returns and the shipments (EVENT# < MESSAGE# < ORDER < RETURN# <
# SHIPMENT# < TRACKING#): one strongly consistent query loads the whole aggregate.
AGGREGATE_RANGE = ("ORDER", "SHIPMENT$")
SHIPMENT_PREFIX, RETURN_PREFIX = "SHIPMENT#", "RETURN#"
TAX_DOCUMENT_PREFIX = "TAXDOC#"  # after the aggregate's range: loading an order never reads its documents


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_id_of(pk: str) -> str:
    return pk.removeprefix("ORDER#")


def order_key(order_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": ORDER_SK}


def shipment_key(order_id: str, shipment_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"{SHIPMENT_PREFIX}{shipment_id}"}


def shipment_id_of(sk: str) -> str:
    return sk.removeprefix(SHIPMENT_PREFIX)


def return_key(order_id: str, return_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"{RETURN_PREFIX}{return_id}"}


def return_id_of(sk: str) -> str:
    return sk.removeprefix(RETURN_PREFIX)


def event_key(order_id: str, event_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"EVENT#{event_id}"}


def applied_payment_event_key(order_id: str, provider: str, event_id: str) -> dict[str, str]:
    """After the aggregate's range (W > S): loading an order never reads them."""
    return {"pk": order_pk(order_id), "sk": f"WEBHOOK#payments#{provider}#{event_id}"}


def message_key(order_id: str, message: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"MESSAGE#{message}"}


def lookup_value(kind: str, value: str) -> str:
    """The by-lookup index's partition value: emails and phone numbers as a digest (no contact data in keys)."""
    if kind in ("email", "phone"):
        value = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]
    return f"{kind}#{value}"


def lookup_key(order_id: str, kind: str, value: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"LOOKUP#{lookup_value(kind, value)}"}


COD_OWED, COD_REMITTED = "cod#owed", "cod#remitted"  # a COD parcel's lookup value: its cash owed, or remitted


def cod_lookup_key(order_id: str, shipment_id: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"LOOKUP#cod#{shipment_id}"}


def remittance_key(digest: str) -> dict[str, str]:
    return {"pk": f"REMITTANCE#{digest}", "sk": "REMITTANCE"}


REMITTANCES_PK = "REMITTANCES"


def remittance_listing_key(imported_at: str, digest: str) -> dict[str, str]:
    return {"pk": REMITTANCES_PK, "sk": f"{imported_at}#{digest}"}


def audit_key(subject: str, audit_id: str) -> dict[str, str]:
    """subject: "order:<order_id>" or "stock:<sku>@<location_id>" (dawra.domain.audit)."""
    kind, _, name = subject.partition(":")
    if kind == "order":
        return {"pk": order_pk(name), "sk": f"AUDIT#{audit_id}"}
    if kind == "account":
        return {"pk": customer_pk(name), "sk": f"AUDIT#{audit_id}"}
    sku, _, location_id = name.partition("@")
    return {"pk": stock_audit_pk(sku, location_id), "sk": f"AUDIT#{audit_id}"}


def stock_audit_pk(sku: str, location_id: str) -> str:
    return f"STOCK#{sku}#{location_id}"


def tax_document_key(order_id: str, number: str) -> dict[str, str]:
    return {"pk": order_pk(order_id), "sk": f"{TAX_DOCUMENT_PREFIX}{number}"}


def counter_key(series: str) -> dict[str, str]:
    """The last number used in a tax document series (one item per series: gapless numbers are one at a time)."""
    return {"pk": f"COUNTER#{series}", "sk": "COUNTER"}


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def account_key(customer_id: str) -> dict[str, str]:
    """A business account: its details, and `open_balance`, which the commits of its orders on account move."""
    return {"pk": customer_pk(customer_id), "sk": "ACCOUNT"}


RECEIVABLES_PK = "RECEIVABLE"


def receivable_key(due_on: str, order_id: str) -> dict[str, str]:
    """One partition, sorted by due date: the overdue list is one Query (`sk < <today>`)."""
    return {"pk": RECEIVABLES_PK, "sk": f"{due_on}#{order_id}"}


def idempotency_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{key_hash}", "sk": "IDEMPOTENCY"}


def rejection_key(day: str, received_at: str, message_id: str) -> dict[str, str]:
    return {"pk": f"REJECTED#{day}", "sk": f"{received_at}#{message_id}"}


def rate_key(key: str, window_start: str) -> dict[str, str]:
    """key: what is counted, already a keyed digest (dawra.domain.order_link.lookup_digest), never raw input."""
    return {"pk": f"RATE#{key}", "sk": window_start}


def risk_key(key: str) -> dict[str, str]:
    """key: dawra.domain.risk.Identity.key, "<signal>#<keyed digest>" (never the email, phone, card or IP)."""
    return {"pk": f"RISK#{key}", "sk": "RISK"}


def risk_key_of(pk: str) -> str:
    return pk.removeprefix("RISK#")


def refusal_key(day: str, at: str, refusal_id: str) -> dict[str, str]:
    return {"pk": f"REFUSED#{day}", "sk": f"{at}#{refusal_id}"}


CATALOG_SK = "CATALOG"


def catalog_key(sku: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": CATALOG_SK}


def stock_key(sku: str, location_id: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": f"STOCK#{location_id}"}


WAITING_PREFIX = "WAIT#"


def waiting_key(sku: str, placed_at: str, order_id: str) -> dict[str, str]:
    """An order's place in a sku's waiting list: sorted by when it was placed (FIFO)."""
    return {"pk": f"SKU#{sku}", "sk": f"{WAITING_PREFIX}{placed_at}#{order_id}"}


LOCATIONS_PK = "LOCATION"


def location_key(location_id: str) -> dict[str, str]:
    return {"pk": LOCATIONS_PK, "sk": f"LOC#{location_id}"}


def transfer_key(transfer_id: str) -> dict[str, str]:
    return {"pk": f"TRANSFER#{transfer_id}", "sk": "TRANSFER"}


def feed_key(ref: str) -> dict[str, str]:
    """A stock feed's marker; ref: dawra.domain.stock_feeds.feed_ref (a digest of the sender's feed id)."""
    return {"pk": f"FEED#{ref}", "sk": "FEED"}


FEEDS_PK = "FEEDS"


def feed_listing_key(received_at: str, ref: str) -> dict[str, str]:
    return {"pk": FEEDS_PK, "sk": f"{received_at}#{ref}"}


# The by-location index's attributes: a stock item and an open transfer under the location they count at.
AT_LOCATION, LISTING = "at_location", "listing"
STOCK_LISTING, TRANSFER_LISTING = "STOCK#", "TRANSFER#"


def stock_listing(location_id: str, sku: str) -> dict[str, str]:
    return {AT_LOCATION: location_id, LISTING: f"{STOCK_LISTING}{sku}"}


def transfer_listing(to_location: str, sent_at: str, transfer_id: str) -> dict[str, str]:
    return {AT_LOCATION: to_location, LISTING: f"{TRANSFER_LISTING}{sent_at}#{transfer_id}"}


def reservations_pk(order_id: str) -> str:
    return f"RESERVATION#{order_id}"


def reservation_key(order_id: str, sku: str, location_id: str, replacement: str = "") -> dict[str, str]:
    """replacement: the shipment id of a replacement's reservation (a lost or returned parcel sent again)."""
    return {"pk": reservations_pk(order_id), "sk": f"{sku}#{location_id}" + (f"#{replacement}" if replacement else "")}


# The `entity` attribute says what an item is (the notifier's stream filter reads it).
ENTITY_ORDER, ENTITY_SHIPMENT, ENTITY_TIMELINE, ENTITY_MARKER = "order", "shipment", "timeline", "marker"
ENTITY_LOOKUP, ENTITY_AUDIT, ENTITY_RETURN = "lookup", "audit", "return"
ENTITY_TAX_DOCUMENT, ENTITY_COUNTER = "tax_document", "counter"
ENTITY_ACCOUNT, ENTITY_RECEIVABLE = "account", "receivable"
ENTITY_RISK, ENTITY_REFUSAL = "risk", "refusal"
KEY_ATTRIBUTES = frozenset({"pk", "sk", "entity", AT_LOCATION, LISTING})  # keys and index keys, not data
TTL_ATTRIBUTE = "expires_at"  # epoch seconds; DynamoDB deletes the item some time after
