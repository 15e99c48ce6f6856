"""An HTTP client for the tests that read pages (HTML, redirects) rather than JSON: the raw answer, redirects not
followed (a 303 is often the answer under test)."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from dawra.web.security import SESSION_COOKIE


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 303 is the answer under test, not followed
        return None


def call(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), dict(error.headers))


def console(base: str, token: str, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
    """A console page or form post at `base` as the operator whose session `token` is (a form is url-encoded)."""
    body = urllib.parse.urlencode(form).encode() if form else None
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return call(method, f"{base}{path}", body, headers)


def hidden(page: str, name: str) -> str:
    """The value of the page's hidden field `name` (unescaped); fails the test if there is none."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))
