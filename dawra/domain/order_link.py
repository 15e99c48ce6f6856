"""The customer's order link: a signed, expiring, revocable claim on one order. Pure (stdlib hmac).

A token is 52 URL-safe characters, base64url (no padding) of 39 bytes:

    format (1) | order id (16: the 32 hex digits of ord_<hex>) | link version (2) | expires, epoch s (4) | MAC (16)

The MAC is HMAC-SHA256 over a purpose label and the first 23 bytes, with the order-link secret, truncated to 128 bits
(NIST SP 800-107 allows truncation to 128 bits for authentication). It says nothing a holder could not see anyway
(which order, until when) and cannot be forged or altered without the key. Revoking an order's links bumps the
order's `link_version`: every token carrying an older version stops working, and new messages carry new tokens.

`read` answers None for anything that is not a valid, unexpired token, never saying why, so a caller can only give
the one "no such order" answer whether a token was forged, tampered with, expired, revoked or for another order.

Forms on the order page carry `form_token(key, token, purpose)`: an HMAC of the link token and the form's purpose
with the same key under another label, so a page's forms are worthless for another order, another link or another
form, and a site without the key cannot make one."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

FORMAT = 1
LIFETIME = timedelta(days=180)  # long enough for the order's life, its delivery and a return window after it
_LAYOUT = struct.Struct(">B16sHI")  # format, order id bytes, version, expiry
_MAC_BYTES = 16
_TOKEN_BYTES = _LAYOUT.size + _MAC_BYTES
TOKEN_LENGTH = (_TOKEN_BYTES * 4 + 2) // 3  # 52 characters, no padding
TOKEN_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}$")
_ORDER_ID = re.compile(r"^ord_([a-f0-9]{32})$")
_MAX_VERSION = 0xFFFF
_LINK_LABEL = b"dawra-order-link|"
_FORM_LABEL = b"dawra-order-form|"
# What a token opens. A gift receipt's token (shared with a gift's recipient) is the same shape under another label:
# it opens the receipt only, never the order's page or its forms, and an order link never opens the receipt.
Scope = Literal["order", "gift_receipt"]
_SCOPE_LABELS: dict[str, bytes] = {"order": _LINK_LABEL, "gift_receipt": b"dawra-gift-receipt|"}


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: its order, the link version it was issued under, and when it stops working."""

    order_id: str
    version: int
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _mac(key: bytes, label: bytes, message: bytes) -> bytes:
    return hmac.new(key, label + message, hashlib.sha256).digest()


def issue(key: bytes, order_id: str, version: int, expires_at: datetime, *, scope: Scope = "order") -> str:
    """A token for this order under its current link version, valid until `expires_at` (UTC)."""
    match = _ORDER_ID.match(order_id)
    if match is None:
        raise ValueError("an order link names an order id of the form ord_<32 hex digits>")
    if not 0 <= version <= _MAX_VERSION:
        raise ValueError(f"link version {version} is outside 0..{_MAX_VERSION}")
    if not key:
        raise ValueError("an order link needs a key")
    payload = _LAYOUT.pack(FORMAT, bytes.fromhex(match[1]), version, int(expires_at.timestamp()))
    return _b64(payload + _mac(key, _SCOPE_LABELS[scope], payload)[:_MAC_BYTES])


def issue_for(key: bytes, order_id: str, version: int, now: datetime, *, scope: Scope = "order") -> str:
    """A token valid for the standard lifetime from now."""
    return issue(key, order_id, version, now + LIFETIME, scope=scope)


def read(key: bytes, token: str | None, now: datetime, *, scope: Scope = "order") -> LinkClaim | None:
    """The claim of a genuine, unexpired token; None for anything else (no reason given, on purpose). The MAC is
    compared in constant time before anything in the payload is believed."""
    if not key or token is None or not TOKEN_PATTERN.match(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _TOKEN_BYTES:
        return None
    payload, mac = raw[:_LAYOUT.size], raw[_LAYOUT.size:]
    if not hmac.compare_digest(mac, _mac(key, _SCOPE_LABELS[scope], payload)[:_MAC_BYTES]):
        return None
    form, order_bytes, version, expires = _LAYOUT.unpack(payload)
    expires_at = datetime.fromtimestamp(expires, UTC)
    if form != FORMAT or expires_at <= now:
        return None
    return LinkClaim(order_id=f"ord_{order_bytes.hex()}", version=version, expires_at=expires_at)


def form_token(key: bytes, link_token: str, purpose: str) -> str:
    """The CSRF token of one form (`purpose`: "cancel", "address", "contact", ...) on one link's page."""
    return _b64(_mac(key, _FORM_LABEL, f"{purpose}|{link_token}".encode()))


def form_token_matches(key: bytes, link_token: str, purpose: str, given: str | None) -> bool:
    """Constant-time check of a submitted form token."""
    if not given or not key:
        return False
    return hmac.compare_digest(form_token(key, link_token, purpose).encode(), given.encode())


def lookup_digest(key: bytes, value: str) -> str:
    """A keyed digest of something a visitor typed (an IP address, a contact), for rate-limit keys: counted, never
    stored in the clear, and not reversible by someone who reads the table without the key."""
    return _b64(_mac(key, b"dawra-rate|", value.strip().lower().encode()))[:32]
