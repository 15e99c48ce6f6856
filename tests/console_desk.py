"""The operators' console (dawra/web/console.py) on the in-memory shop, as its unit tests drive it: two signed-in
roles (an agent, the warehouse), the order file, a log that keeps what was logged, and a form posted behind the
session's CSRF token with a form key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dawra.app.backoffice import ViewOrderFile
from dawra.web.console import Console
from dawra.web.http import WebRequest
from dawra.web.security import SESSION_COOKIE, csrf_token

KEY = b"console-session-key"
CLAIMS = {"agent": {"sub": "u-agent", "cognito:username": "agent", "cognito:groups": "agent", "iat": 1},
          "warehouse": {"sub": "u-wh", "cognito:username": "warehouse", "cognito:groups": "warehouse", "iat": 1}}
# A manager signed in twice, in English and in Arabic: the back-office pages' tests add the other roles they need.
MANAGER_CLAIMS = {"manager": {"sub": "u-mgr", "cognito:username": "maha", "cognito:groups": "manager", "iat": 1},
                  "manager-ar": {"sub": "u-mgr", "cognito:username": "maha", "cognito:groups": "manager", "iat": 1,
                                 "custom:locale": "ar"}}


@dataclass(frozen=True)
class Office:
    view_order: ViewOrderFile


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict]] = []

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append((msg, kwargs.get("extra", {})))

    exception = info


def console_for(shop: Any, audit: Any, returns: Any, log: Log | None = None) -> Console:
    """The console over the shop's orders, with these returns use cases."""
    return Console(Office(ViewOrderFile(shop.orders, audit)), lambda token: CLAIMS[token],  # type: ignore[arg-type]
                   lambda *_: None, lambda: KEY, log or Log(), returns)  # type: ignore[arg-type]


def console_over(office: Any, claims: dict[str, dict[str, Any]]) -> Console:
    """The console over `office` (the use cases its pages need), a session cookie naming one of `claims`."""
    return Console(office, lambda token: claims[token], lambda *_: None, lambda: KEY, Log())


def page(console: Console, who: str, order_id: str) -> Any:
    return console.handle(WebRequest("GET", f"/admin/orders/{order_id}", cookies={SESSION_COOKIE: who}))


def post(console: Console, who: str, path: str, key: str, csrf: str | None, fields: dict[str, str]) -> Any:
    """A form posted by `who` (their CSRF token unless `csrf`); a field named `qty__SKU` is sent as `qty.SKU`."""
    form = {"csrf": [csrf if csrf is not None else csrf_token(KEY, CLAIMS[who])], "key": [key],
            **{name.replace("__", "."): [value] for name, value in fields.items()}}
    return console.handle(WebRequest("POST", path, form=form, cookies={SESSION_COOKIE: who}))
