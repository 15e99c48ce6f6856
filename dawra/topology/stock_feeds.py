"""Stock feeds: the feeds bucket an ERP or a 3PL drops its stock files into, and the function that imports each.

An object created in the bucket is notified to the stock-feeds queue (S3 event notifications to SQS), which the
stock-feeds function consumes one message at a time: a notification delivered twice imports its feed once (the feed
id is the object's key and ETag), a failed import is retried by the queue and, after five receives, kept in the DLQ
(alarmed). Uploads through the admin API need none of this (dawra/app/stock_feeds.py)."""

from __future__ import annotations

from dawra.contracts import env as E

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN
from .model import Bucket, Function, Grant, Queue, QueueEventSource, Ref, arn
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT

FEEDS = Bucket(id="stock-feeds", name="dawra-stock-feeds", notify_queue="stock-feeds",
               purpose="Stock feeds (CSV or JSON) an ERP or a 3PL drops in; each object created is imported once.")
BUCKETS = (FEEDS,)
READ_FEEDS = Grant(actions=("s3:GetObject",), resources=(arn("bucket", FEEDS.id, "/*"),))

QUEUES = (
    Queue(
        id="stock-feeds",
        name="dawra-stock-feeds",
        visibility_timeout_s=6 * 120,  # 6x the function's timeout, as AWS recommends for event source mappings
        dead_letter_queue="stock-feeds-dlq",
        max_receive_count=5,
        purpose="The feeds bucket's notifications: an object created (a stock feed to import).",
    ),
    Queue(
        id="stock-feeds-dlq",
        name="dawra-stock-feeds-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Feeds bucket notifications whose import failed max_receive_count times.",
    ),
)

FUNCTIONS = (
    Function(
        id="stock-feeds",
        name="dawra-stock-feeds",
        code="functions/stock_feeds",
        handler="app.handler",
        memory_mb=512,
        timeout_s=120,  # 2,000 rows, eight at a time, each a read and a transaction with its audit entry
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **OPS_ALERTS,
                     E.FEEDS_BUCKET: Ref(kind="bucket", id=FEEDS.id)},
        # Reading the queue is the event source mapping's own grant. Audit entries are on the Orders table; a feed
        # with refused rows (and a stock item crossing its reorder point) is alerted to operations.
        # A row bringing stock orders wait for reserves them and resumes their workflows (ANSWER_TASK_TOKEN).
        grants=(READ_INVENTORY, WRITE_INVENTORY, READ_ORDERS, WRITE_ORDERS, READ_FEEDS, PUBLISH_OPS_ALERT,
                ANSWER_TASK_TOKEN),
        purpose="Imports each stock feed dropped into the feeds bucket: rows applied one by one, audited, reported.",
    ),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="stock-feeds", function="stock-feeds", batch_size=1),)
