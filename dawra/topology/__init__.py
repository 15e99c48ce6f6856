"""The one description of Dawra's cloud resources.

Both the embedded cloud (``dawra.local``) and the CDK app (``infra/``) build from :data:`TOPOLOGY`, so a table,
queue, topic, secret, function, route, event source, environment variable or IAM grant is declared exactly once.
It is pure data: no boto3, no CDK imports. The shapes are in :mod:`.model`; the resources are declared per
capability (:mod:`.data`, :mod:`.storefront`, :mod:`.fulfilment`, :mod:`.tracking`, :mod:`.notify`,
:mod:`.operations`, :mod:`.backoffice`, :mod:`.customer`, :mod:`.later`, :mod:`.returns`, :mod:`.sms_replies`, ...)
and assembled here.
"""

from __future__ import annotations

from . import (
    backoffice,
    customer,
    data,
    fulfilment,
    later,
    notify,
    operations,
    partners,
    payments,
    returns,
    risk,
    sms_replies,
    stock_feeds,
    storefront,
    tracking,
)
from .data import INVENTORY_TABLE, ORDERS_TABLE
from .fulfilment import LIFECYCLE
from .model import (
    REPO_ROOT,
    AnyResource,
    Arn,
    Bucket,
    ConfigurationSet,
    Function,
    Grant,
    HttpApi,
    HttpRoute,
    Index,
    KeySchema,
    NamedArn,
    Parameter,
    Queue,
    QueueEventSource,
    Ref,
    Resource,
    ResourceKind,
    Route,
    ScheduleGroup,
    Secret,
    StateMachine,
    StreamEventSource,
    Table,
    Topic,
    TopicEventSource,
    Topology,
    UserGroup,
    UserPool,
    arn,
)
from .operations import POWERTOOLS_ENV

__all__ = [
    "INVENTORY_TABLE", "LIFECYCLE", "ORDERS_TABLE", "POWERTOOLS_ENV", "REPO_ROOT", "TOPOLOGY", "AnyResource", "Arn", "Bucket",
    "ConfigurationSet", "Function", "Grant", "HttpApi", "HttpRoute", "Index", "KeySchema", "NamedArn", "Parameter", "Queue",
    "QueueEventSource", "Ref", "Resource", "ResourceKind", "Route", "ScheduleGroup", "Secret", "StateMachine",
    "StreamEventSource", "Table", "Topic", "TopicEventSource", "Topology", "UserGroup", "UserPool", "arn",
]

TOPOLOGY = Topology(
    tables=data.TABLES,
    queues=tracking.QUEUES + notify.QUEUES + fulfilment.QUEUES + later.QUEUES + payments.QUEUES + stock_feeds.QUEUES
    + sms_replies.QUEUES + partners.QUEUES,
    topics=operations.TOPICS + sms_replies.TOPICS,
    secrets=tracking.SECRETS + backoffice.SECRETS + customer.SECRETS + payments.SECRETS + risk.SECRETS
    + partners.SECRETS,
    parameters=(notify.SENDER_EMAIL, operations.DELIVERY_GRACE_HOURS, operations.FEEDBACK_AFTER_HOURS,
                operations.DELIVERY_LOST_AFTER_HOURS, operations.LOST_PARCEL_POLICY, notify.SMS_SENDER_ID, operations.SMS_QUIET_HOURS,
                operations.COD_REMITTANCE_DAYS,
                *customer.PARAMETERS, *returns.PARAMETERS, *risk.PARAMETERS, *backoffice.PARAMETERS),
    configuration_sets=notify.CONFIGURATION_SETS,
    functions=storefront.FUNCTIONS + fulfilment.FUNCTIONS + tracking.FUNCTIONS + notify.FUNCTIONS
    + backoffice.FUNCTIONS + customer.FUNCTIONS + later.FUNCTIONS + returns.FUNCTIONS + payments.FUNCTIONS
    + stock_feeds.FUNCTIONS + sms_replies.FUNCTIONS + partners.FUNCTIONS,
    state_machines=fulfilment.STATE_MACHINES + returns.STATE_MACHINES,
    routes=storefront.ROUTES + tracking.ROUTES + backoffice.ROUTES + customer.ROUTES + payments.ROUTES
    + partners.ROUTES,
    queue_event_sources=tracking.QUEUE_EVENT_SOURCES + later.QUEUE_EVENT_SOURCES + payments.QUEUE_EVENT_SOURCES
    + stock_feeds.QUEUE_EVENT_SOURCES + partners.QUEUE_EVENT_SOURCES,
    stream_event_sources=notify.STREAM_EVENT_SOURCES + fulfilment.STREAM_EVENT_SOURCES,
    topic_event_sources=sms_replies.TOPIC_EVENT_SOURCES,
    user_pools=backoffice.USER_POOLS,
    schedule_groups=later.SCHEDULE_GROUPS,
    http_apis=customer.HTTP_APIS,
    buckets=customer.BUCKETS + stock_feeds.BUCKETS,
)
