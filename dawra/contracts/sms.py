"""An SMS a customer sent us: AWS End User Messaging SMS (two-way SMS) publishes each inbound message of a number whose
two-way channel is an SNS topic to that topic, as the JSON document its user guide documents ("Example of a two-way
SMS message payload for Amazon SNS topics"):

    {"originationNumber": "+14255550182", "destinationNumber": "+12125550101", "messageKeyword": "JOIN",
     "messageBody": "EXAMPLE", "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
     "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

originationNumber is the customer's phone (E.164), destinationNumber the shop's number they texted, messageKeyword
the number's registered keyword the message matched (if any), inboundMessageId the message's own id (what a retried
delivery repeats: the confirmation's idempotency key), previousPublishedMessageId the id of our message they replied
to (if known). SNS hands it to the subscribed function as the record's ``Sns.Message`` string. A field AWS adds later
is ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class InboundSms(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    phone: str = Field(alias="originationNumber", pattern=r"^\+[1-9]\d{6,14}$")  # E.164, the customer's
    to: str = Field(alias="destinationNumber", pattern=r"^\+?\d{3,15}$")  # the shop's number (long or short code)
    text: str = Field(alias="messageBody", max_length=1600)
    message_id: str = Field(alias="inboundMessageId", min_length=1, max_length=128)
    keyword: str | None = Field(default=None, alias="messageKeyword", max_length=64)
    replying_to: str | None = Field(default=None, alias="previousPublishedMessageId", max_length=128)
