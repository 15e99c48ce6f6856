"""Business accounts on the Orders table (dawra.domain.accounts): `CUSTOMER#<id>` / `ACCOUNT`, its audit entries under
the same partition, and the `RECEIVABLE` partition the overdue list reads.

The account item's details are written by a manager over their version; its `open_balance` is a counter only the
commits of the customer's orders on account move (`account_items`, added to the order's own transaction by the unit
of work): `ADD open_balance :change`, conditioned at checkout on `open_balance <= :ceiling` (the credit limit less
the order), so two orders racing for the last of the limit cannot both pass. Nothing here scans."""

from __future__ import annotations

from typing import Any

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, to_item, values
from dawra.domain.accounts import BusinessAccount, Receivable
from dawra.domain.audit import AuditEntry
from dawra.domain.order import Order

DETAILS = ("customer_id", "company_name", "vat_number", "credit_limit", "terms_days", "created_at", "updated_at")


def account_items(table: str, order: Order) -> list[tuple[str, dict[str, Any]]]:
    """What an order on account's commit also writes: its change of the account's open balance, and its receivable
    (kept while it owes something once invoiced, deleted once it owes nothing)."""
    terms = order.account
    if terms is None:
        return []
    items: list[tuple[str, dict[str, Any]]] = []
    change, ceiling = order.account_change, order.credit_ceiling
    if change or ceiling is not None:
        update: dict[str, Any] = {"TableName": table, "Key": to_item(keys.account_key(order.customer_id)),
                                  "UpdateExpression": "ADD open_balance :change",
                                  "ExpressionAttributeValues": values(change=change)}
        if ceiling is not None:
            update["ConditionExpression"] = "attribute_exists(pk) AND open_balance <= :ceiling"
            update["ExpressionAttributeValues"] |= values(ceiling=ceiling)
        items.append(("account", {"Update": update}))
    if terms.due_on and order.header_changed:
        key = keys.receivable_key(terms.due_on, order.order_id)
        receivable = order.receivable()
        if receivable is not None:
            item = {**key, "entity": keys.ENTITY_RECEIVABLE, **receivable.model_dump(mode="json")}
            items.append(("receivable", {"Put": {"TableName": table, "Item": to_item(item)}}))
        elif change:  # paid (or credited) in full in this change
            items.append(("receivable", {"Delete": {"TableName": table, "Key": to_item(key)}}))
    return items


class DynamoAccounts:
    def __init__(self, table: str, client: Any = None):
        from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork  # it imports account_items from here

        self.table = Table(table, client)
        self._uow = DynamoUnitOfWork(table, None, client)

    def account(self, customer_id: str) -> BusinessAccount | None:
        item = self.table.get(keys.account_key(customer_id))
        return BusinessAccount.model_validate(fields(item)) if item else None

    def save(self, account: BusinessAccount, audit: AuditEntry) -> None:
        data = account.model_dump(mode="json", include=set(DETAILS))
        names = {f"#{name}": name for name in (*DETAILS, "version", "entity", "open_balance")}
        sets = [f"#{name} = :{name}" for name in DETAILS]
        update: dict[str, Any] = {
            "TableName": self.table.name, "Key": to_item(keys.account_key(account.customer_id)),
            "UpdateExpression": "SET " + ", ".join([*sets, "#version = :next", "#entity = :entity",
                                                    "#open_balance = if_not_exists(#open_balance, :zero)"]),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values(**data, next=account.version + 1, entity=keys.ENTITY_ACCOUNT,
                                                zero=0, **({"loaded": account.version} if account.version else {})),
            "ConditionExpression": "#version = :loaded" if account.version else "attribute_not_exists(pk)"}
        entry = {**keys.audit_key(audit.subject, audit.audit_id), "entity": keys.ENTITY_AUDIT,
                 **audit.model_dump(mode="json")}
        self._uow._transact([  # the unit of work's retries and error classification
            ("account", {"Update": update}),
            ("audit", {"Put": {"TableName": self.table.name, "Item": to_item(entry),
                               "ConditionExpression": "attribute_not_exists(pk)"}})])

    def receivables(self, due_before: str) -> list[Receivable]:
        return [Receivable.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk AND sk < :before", ConsistentRead=True,
            ExpressionAttributeValues=values(pk=keys.RECEIVABLES_PK, before=due_before))]
