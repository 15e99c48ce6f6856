"""Environment variable names, and the settings read from them once per cold start."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dawra.domain.holds import HoldKind, hold_timeouts
from dawra.domain.pickup import Durations

ORDERS_TABLE = "ORDERS_TABLE_NAME"
INVENTORY_TABLE = "INVENTORY_TABLE_NAME"
ORDER_LIFECYCLE_ARN = "ORDER_LIFECYCLE_ARN"
SANDBOX_CARRIER_SECRET = "SANDBOX_CARRIER_SECRET_NAME"  # noqa: S105 - an environment variable's name
SANDBOX_PAYMENTS_SECRET = "SANDBOX_PAYMENTS_SECRET_NAME"  # noqa: S105 - an environment variable's name
SENDER_EMAIL = "SENDER_EMAIL"
SMS_SENDER_ID = "SMS_SENDER_ID"
OPS_ALERTS_TOPIC_ARN = "OPS_ALERTS_TOPIC_ARN"
SES_CONFIGURATION_SET = "SES_CONFIGURATION_SET"
DELIVERY_GRACE_HOURS = "DELIVERY_GRACE_HOURS"
# Late and lost parcels (dawra/app/claims.py): hours after the end of the promised day before an undelivered parcel
# is declared lost in transit, and what then happens by the merchant's policy (reship | refund | agent).
DELIVERY_LOST_AFTER_HOURS = "DELIVERY_LOST_AFTER_HOURS"
LOST_PARCEL_POLICY = "LOST_PARCEL_POLICY"
FEEDBACK_AFTER_HOURS = "FEEDBACK_AFTER_HOURS"
# Returns (dawra/topology/returns.py): the return workflow, and how long its waits last (hours; fractions allowed).
RETURN_LIFECYCLE_ARN = "RETURN_LIFECYCLE_ARN"
RETURN_APPROVAL_HOURS = "RETURN_APPROVAL_HOURS"
RETURN_INSPECTION_ALERT_HOURS = "RETURN_INSPECTION_ALERT_HOURS"
RETURN_PARCEL_WAIT_HOURS = "RETURN_PARCEL_WAIT_HOURS"
RETURN_LABEL_VALID_HOURS = "RETURN_LABEL_VALID_HOURS"
# SMS quiet hours on the customer's clock ("21:00-08:00"; empty: none), dawra/domain/message_timing.py.
SMS_QUIET_HOURS = "SMS_QUIET_HOURS"
# How long each kind of hold may last, hours per kind over the defaults ("fraud_review=24,cod_confirmation=2"; empty:
# the defaults), dawra/domain/holds.py; and the secret the risk screening's keyed digests use (dawra/domain/risk.py).
HOLD_HOURS = "HOLD_HOURS"
PICKUP_HOURS = "PICKUP_HOURS"
RISK_KEY_SECRET = "RISK_KEY_SECRET_NAME"  # noqa: S105 - an environment variable's name
# Cash on delivery (dawra/app/remittances.py): days after delivery a parcel's cash may go unremitted by the courier
# before it is flagged to operations and listed as owed.
COD_REMITTANCE_DAYS = "COD_REMITTANCE_DAYS"
# Partners (dawra/topology/partners.py): the queue a 3PL or dropshipper takes the shipments it prepares from.
PARTNER_OUTBOX_QUEUE_URL = "PARTNER_OUTBOX_QUEUE_URL"
PAYMENT_PROVIDER = "PAYMENT_PROVIDER"
CARRIER = "CARRIER"
# The back office's operators (dawra/topology/backoffice.py): the Cognito user pool, its app client, and the secret
# the console signs its CSRF tokens with.
USER_POOL_ID = "USER_POOL_ID"
USER_POOL_CLIENT_ID = "USER_POOL_CLIENT_ID"
CONSOLE_SESSION_KEY_SECRET = "CONSOLE_SESSION_KEY_SECRET_NAME"  # noqa: S105 - an environment variable's name
# The customer's side (dawra/topology/customer.py): the secret order links and their forms are signed with, the public
# base URL the links start with (the API's stage URL or a custom domain; the local gateway's URL on the local stack),
# and what every message and the order page say about the shop.
ORDER_LINK_KEY_SECRET = "ORDER_LINK_KEY_SECRET_NAME"  # noqa: S105 - an environment variable's name
CUSTOMER_SITE_URL = "CUSTOMER_SITE_URL"
SHOP_NAME = "SHOP_NAME"
SUPPORT_CONTACT = "SUPPORT_CONTACT"
# Where the order page's "Download the label" link points (decision 78): the return label's HTTP API (CDK's
# HttpApi.apiEndpoint, https://... without a trailing "/"; on the local stack, the local server standing in for it);
# empty: the page's own /my-order/<token>/returns/<id>/label.pdf.
LABEL_URL_BASE = "LABEL_URL_BASE"
# The bucket tax invoices' and credit notes' PDFs are kept in once drawn (decision 87); empty: drawn on every request.
DOCUMENTS_BUCKET = "DOCUMENTS_BUCKET"
# The bucket ERPs and 3PLs drop stock feeds into (dawra/topology/stock_feeds.py): only its notifications are imported.
FEEDS_BUCKET = "FEEDS_BUCKET"
# Jobs for later (dawra/topology/later.py): the EventBridge Scheduler group, the role the scheduler assumes, and the
# queue each schedule sends its job to: later-jobs, or ops-jobs for a job that may alert operations
# (dawra.contracts.jobs.for_operations).
LATER_SCHEDULE_GROUP = "LATER_SCHEDULE_GROUP"
LATER_ROLE_ARN = "LATER_ROLE_ARN"
LATER_TARGET_ARN = "LATER_TARGET_ARN"
LATER_OPS_TARGET_ARN = "LATER_OPS_TARGET_ARN"
# Local only (the embedded cloud sets it; never deployed): where the pool's JWKS is fetched from instead of
# https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json (dawra/adapters/identity.py).
JWKS_URL = "DAWRA_JWKS_URL"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    orders_table: str
    inventory_table: str | None = None
    order_lifecycle_arn: str | None = None
    sandbox_carrier_secret_name: str | None = None
    sandbox_payments_secret_name: str | None = None  # the sandbox payment provider's webhook HMAC key
    sender_email: str | None = None
    sms_sender_id: str | None = None
    ops_alerts_topic_arn: str | None = None
    ses_configuration_set: str | None = None
    delivery_grace_hours: int = 48
    delivery_lost_after_hours: int = Field(default=240, ge=0, le=9999)
    lost_parcel_policy: Literal["reship", "refund", "agent"] = "agent"
    feedback_after_hours: float = Field(default=72, ge=0, le=9999)
    return_lifecycle_arn: str | None = None
    return_approval_hours: float = Field(default=72, gt=0, le=9999)
    return_inspection_alert_hours: float = Field(default=48, gt=0, le=9999)
    return_parcel_wait_hours: float = Field(default=336, gt=0, le=9999)
    return_label_valid_hours: float = Field(default=336, gt=0, le=9999)
    sms_quiet_hours: str = Field(default="", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    hold_hours: str = Field(default="", max_length=500)
    pickup_hours: str = Field(default="", max_length=100)  # store pickup: "remind=<h>,collect=<h>" for every store
    risk_key_secret_name: str | None = None
    cod_remittance_days: int = Field(default=7, ge=1, le=365)
    payment_provider: str = "sandbox"
    carrier: str = "sandbox"
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    console_session_key_secret_name: str | None = None
    jwks_url: str | None = None
    later_schedule_group: str | None = None
    later_role_arn: str | None = None
    later_target_arn: str | None = None
    later_ops_target_arn: str | None = None
    order_link_key_secret_name: str | None = None
    customer_site_url: str = ""
    shop_name: str = "Dawra"
    support_contact: str = ""
    label_url_base: str = ""
    documents_bucket: str = ""
    feeds_bucket: str = ""
    partner_outbox_queue_url: str | None = None

    @property
    def delivery_grace(self) -> timedelta:
        return timedelta(hours=self.delivery_grace_hours)

    @property
    def delivery_lost_after(self) -> timedelta:
        return timedelta(hours=self.delivery_lost_after_hours)

    @property
    def feedback_after(self) -> timedelta:
        return timedelta(hours=self.feedback_after_hours)

    @property
    def hold_timeouts(self) -> dict[HoldKind, timedelta]:
        return hold_timeouts(self.hold_hours)

    @property
    def pickup_durations(self) -> Durations:
        return Durations.parse(self.pickup_hours)

    @field_validator("pickup_hours")
    @classmethod
    def _pickup_times(cls, value: str) -> str:
        Durations.parse(value)  # ValueError for a bad name or number
        return value

    @field_validator("hold_hours")
    @classmethod
    def _known_hold_kinds(cls, value: str) -> str:
        hold_timeouts(value)  # ValueError for an unknown kind or a bad number
        return value

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        optional = {
            "inventory_table": env.get(INVENTORY_TABLE),
            "order_lifecycle_arn": env.get(ORDER_LIFECYCLE_ARN),
            "sandbox_carrier_secret_name": env.get(SANDBOX_CARRIER_SECRET),
            "sandbox_payments_secret_name": env.get(SANDBOX_PAYMENTS_SECRET),
            "sender_email": env.get(SENDER_EMAIL),
            "sms_sender_id": env.get(SMS_SENDER_ID),
            "ops_alerts_topic_arn": env.get(OPS_ALERTS_TOPIC_ARN),
            "ses_configuration_set": env.get(SES_CONFIGURATION_SET),
            "delivery_grace_hours": env.get(DELIVERY_GRACE_HOURS),
            "delivery_lost_after_hours": env.get(DELIVERY_LOST_AFTER_HOURS),
            "lost_parcel_policy": env.get(LOST_PARCEL_POLICY),
            "feedback_after_hours": env.get(FEEDBACK_AFTER_HOURS),
            "return_lifecycle_arn": env.get(RETURN_LIFECYCLE_ARN),
            "return_approval_hours": env.get(RETURN_APPROVAL_HOURS),
            "return_inspection_alert_hours": env.get(RETURN_INSPECTION_ALERT_HOURS),
            "return_parcel_wait_hours": env.get(RETURN_PARCEL_WAIT_HOURS),
            "return_label_valid_hours": env.get(RETURN_LABEL_VALID_HOURS),
            "sms_quiet_hours": env.get(SMS_QUIET_HOURS),
            "hold_hours": env.get(HOLD_HOURS),
            "pickup_hours": env.get(PICKUP_HOURS),
            "risk_key_secret_name": env.get(RISK_KEY_SECRET),
            "cod_remittance_days": env.get(COD_REMITTANCE_DAYS),
            "payment_provider": env.get(PAYMENT_PROVIDER),
            "carrier": env.get(CARRIER),
            "user_pool_id": env.get(USER_POOL_ID),
            "user_pool_client_id": env.get(USER_POOL_CLIENT_ID),
            "console_session_key_secret_name": env.get(CONSOLE_SESSION_KEY_SECRET),
            "jwks_url": env.get(JWKS_URL),
            "later_schedule_group": env.get(LATER_SCHEDULE_GROUP),
            "later_role_arn": env.get(LATER_ROLE_ARN),
            "later_target_arn": env.get(LATER_TARGET_ARN),
            "later_ops_target_arn": env.get(LATER_OPS_TARGET_ARN),
            "order_link_key_secret_name": env.get(ORDER_LINK_KEY_SECRET),
            "customer_site_url": env.get(CUSTOMER_SITE_URL),
            "shop_name": env.get(SHOP_NAME),
            "support_contact": env.get(SUPPORT_CONTACT),
            "label_url_base": env.get(LABEL_URL_BASE),
            "documents_bucket": env.get(DOCUMENTS_BUCKET),
            "feeds_bucket": env.get(FEEDS_BUCKET),
            "partner_outbox_queue_url": env.get(PARTNER_OUTBOX_QUEUE_URL),
        }
        return cls(orders_table=env[ORDERS_TABLE], **{k: v for k, v in optional.items() if v is not None})


@cache
def settings() -> Settings:
    return Settings.from_env()
