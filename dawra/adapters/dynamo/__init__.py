"""DynamoDB adapters: the order repository and send log (Orders table), the inventory repository (Inventory table),
and the unit of work that commits across both in one TransactWriteItems. keys.py is the one place that knows how
items are keyed."""
