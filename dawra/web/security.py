"""The console's session, CSRF tokens and security headers. Pure: no AWS, no framework.

- The session is the operator's Cognito ID token in a `__Host-` cookie: HttpOnly (no script reads it), Secure,
  SameSite=Strict (no other site's page sends it), Path=/ and no Domain; it lives as long as the token. Every
  request verifies the token again (signature, issuer, audience, expiry), so a forged or stale cookie is a
  signed-out visitor. Chromium sends Secure cookies to http://127.0.0.1 and http://localhost (potentially
  trustworthy origins), so the local stack uses the same flags as AWS.
- CSRF: every form carries `csrf` = HMAC-SHA256(session key, token subject | token issued-at), checked on every POST
  before anything else is read from it. The sign-in form, before any session exists, carries HMAC(session key,
  "signin" | a random nonce held in a short-lived SameSite=Strict cookie) instead.
- Every answer carries a strict Content-Security-Policy (scripts and styles from the console's own origin only; no
  inline script, no eval, no framing), X-Content-Type-Options, Referrer-Policy and Cache-Control: no-store (static
  files, which hold no data, may be cached)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

SESSION_COOKIE = "__Host-dawra-session"
SIGNIN_COOKIE = "__Host-dawra-signin"
# "<who>.<language>.<digits>": the operator's choice on this browser, tagged with who made it (subject_tag), so the
# next operator to sign in on the same browser gets their own account's language, not this one's.
PREFS_COOKIE = "__Host-dawra-prefs"
PREFERENCE_MAX_AGE_S = 365 * 24 * 3600
SIGNIN_MAX_AGE_S = 30 * 60
CSRF_FIELD = "csrf"
KEY_FIELD = "key"  # each form's own random nonce: the action's idempotency key, so a double submit acts once

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(key: bytes, claims: Mapping[str, Any]) -> str:
    """The token every form of this session carries: bound to the signed-in identity and to this very token (its
    issued-at), so it is worthless for another operator or after signing in again."""
    return _mac(key, f"session|{claims.get('sub', '')}|{claims.get('iat', '')}")


def signin_token(key: bytes, nonce: str) -> str:
    return _mac(key, f"signin|{nonce}")


def same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def subject_tag(subject: str) -> str:
    """A short tag of an operator's subject for the preferences cookie (not the subject itself)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:12]


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def cookie(name: str, value: str, max_age: int | None) -> str:
    """A Set-Cookie value with the flags every console cookie has (the `__Host-` prefix requires Secure, Path=/ and
    no Domain; browsers refuse it otherwise)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max(0, max_age)}")
    return "; ".join(parts)


def expired(name: str) -> str:
    return cookie(name, "", 0)


def parse_cookies(header: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:  # the first of two same-named cookies is the more specific one
            found[name] = value.strip()
    return found
