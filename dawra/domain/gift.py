"""A gift order: wrapped or not, a message for the recipient, the recipient's name. Pure.

The message is what a customer typed for someone else to read, printed on the packing slip and the gift receipt: it
is bounded (GIFT_MESSAGE_MAX characters, GIFT_MESSAGE_LINES lines), refuses control characters (a line break is the
one allowed: a card's message has lines; a typed CR LF is read as LF) and the bidirectional embedding, override and
isolate characters (they would reorder what the warehouse reads around them), and is escaped wherever it is shown
(Jinja2 autoescape; every page also isolates it with dir="auto")."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema

from dawra.domain.customer import NO_CONTROL, typed_text

GIFT_MESSAGE_MAX = 300
GIFT_MESSAGE_LINES = 8
RECIPIENT_NAME_MAX = 100
# No control character but the line breaks (LF, CR), no C1 control, no bidi embedding/override (U+202A-E) or isolate
# (U+2066-9). The lengths are counted as sent, before trimming: what the schema promises is what is refused.
_MESSAGE_CHARACTERS = r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"
_ALLOWED = re.compile(_MESSAGE_CHARACTERS)


def _as_sent(limit: int, allowed: re.Pattern[str]) -> Any:
    """Length and characters checked on the text as sent (before any trimming), as the schema says them."""
    def checked(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        if isinstance(value, str) and not allowed.fullmatch(value):  # fullmatch: "$" would let a final \n by
            raise ValueError("no control characters (but line breaks in a message) or bidirectional overrides")
        return value
    return BeforeValidator(checked)


def _line_feeds(value: Any) -> Any:
    """CR LF and a lone CR (what browsers' textareas send) are one line break; each line's edges trimmed."""
    if isinstance(value, str):
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.strip() for line in lines).strip()
    return value


def _few_lines(value: str) -> str:
    if value.count("\n") >= GIFT_MESSAGE_LINES:
        raise ValueError(f"a gift message has at most {GIFT_MESSAGE_LINES} lines")
    return value


GiftMessage = Annotated[str, AfterValidator(_few_lines), BeforeValidator(_line_feeds),
                        _as_sent(GIFT_MESSAGE_MAX, _ALLOWED),
                        WithJsonSchema({"type": "string", "maxLength": GIFT_MESSAGE_MAX,
                                        "pattern": _MESSAGE_CHARACTERS})]


def _blank_is_none(limit: int) -> Any:
    """Nothing typed is none (within the length the field allows: longer is refused whatever it holds)."""
    return BeforeValidator(lambda value: None if isinstance(value, str) and not value.strip() and len(value) <= limit
                           else value)


class Gift(BaseModel):
    """What makes an order a gift. Its presence alone means: no prices in the parcel, a gift receipt to share."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    wrap: StrictBool = Field(default=False, description="Gift-wrap the items (the pricing policy's gift wrap fee, taxed)")
    message: Annotated[GiftMessage | None, _blank_is_none(GIFT_MESSAGE_MAX)] = Field(default=None, description=(
        f"The message for the recipient, printed on the packing slip and the gift receipt: at most "
        f"{GIFT_MESSAGE_MAX} characters and {GIFT_MESSAGE_LINES} lines; line breaks allowed, no other control or "
        "bidirectional-override characters"))
    recipient_name: Annotated[Annotated[str, typed_text(RECIPIENT_NAME_MAX),
                                        _as_sent(RECIPIENT_NAME_MAX, re.compile(NO_CONTROL))] | None,
                              _blank_is_none(RECIPIENT_NAME_MAX)] = Field(
        default=None, description="Who the gift is for, as the gift receipt greets them")

    @property
    def lines(self) -> list[str]:
        """The message's lines, for templates that print one per line."""
        return self.message.split("\n") if self.message else []
