"""Configuration, read once per cold start from the environment the deployment (or the local stack) sets."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    orders_table: str
    inventory_table: str | None = None
    idempotency_table: str | None = None
    order_lifecycle_arn: str | None = None
    sandbox_carrier_secret_name: str | None = None
    sender_email: str | None = None
    sms_sender_id: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            orders_table=env["ORDERS_TABLE_NAME"],
            inventory_table=env.get("INVENTORY_TABLE_NAME"),
            idempotency_table=env.get("IDEMPOTENCY_TABLE_NAME"),
            order_lifecycle_arn=env.get("ORDER_LIFECYCLE_ARN"),
            sandbox_carrier_secret_name=env.get("SANDBOX_CARRIER_SECRET_NAME"),
            sender_email=env.get("SENDER_EMAIL"),
            sms_sender_id=env.get("SMS_SENDER_ID"),
        )


@cache
def settings() -> Settings:
    return Settings.from_env()
