"""The customer's order page: server-rendered, no account, opened from the signed link every message carries.

`CustomerSite.handle(request)` serves the HTML side:
- `GET /my-order/<token>`: the order in the customer's words and language (the order's contact language, switchable
  with ?lang=), its parcels with their tracking links and promised dates, its timeline (customer-visible events only)
  and only the forms the order's status allows (`CustomerActions.offers`).
- `POST /my-order/<token>/{cancel,address,contact}`: a cross-site request is refused first (Sec-Fetch-Site, Origin),
  then the link must open the order (404 otherwise, the same for every kind of bad link), then the form's CSRF token
  (HMAC of the link token and the form's purpose with the order-link key) is checked before anything else is read
  from it. Each form carries a fresh random key, the action's idempotency key: a double submit acts once. Success
  redirects back to the page (post/redirect/get); a refusal re-renders the page with its reason; a caller that asks
  for JSON gets application/problem+json instead.
- `GET /my-order` and `POST /my-order/lookup`: the guest lookup. Its answer is a redirect that is the same, byte for
  byte, whether or not anything matched; its form is protected by a nonce cookie and its HMAC.
- `GET /customer/static/<file>`: the stylesheet.

Every answer carries the console's security headers (a strict CSP with no inline script or style, no framing,
Referrer-Policy: no-referrer because the token is in the URL, Cache-Control: no-store). Nothing a customer typed and
no token is ever logged."""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import ValidationError

from dawra.app.customer import CustomerActions, CustomerOutcome
from dawra.app.feedback import GiveFeedback
from dawra.app.order_page import NO_SUCH_ORDER, OpenOrderLink, OrderLinks, SendOrderLink
from dawra.contracts import problems
from dawra.contracts.customer import Stage, customer_view, stage_of, visible
from dawra.domain import order_link
from dawra.domain.customer import Address
from dawra.domain.errors import DomainError, OrderNotFound
from dawra.domain.feedback import Feedback
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent
from dawra.web.formatting import Formatter, language_or_default
from dawra.web.forms import ADDRESS_FIELDS, FormInvalid
from dawra.web.http import WebRequest, WebResponse, redirect, with_query
from dawra.web.i18n import Translator
from dawra.web.render import render, static_file, static_version
from dawra.web.security import CSRF_FIELD, KEY_FIELD, cookie, new_nonce

PAGE = "/my-order"
STATIC = "/customer/static/"
STATIC_FILES = ("customer.css",)
LOOKUP_COOKIE = "__Host-dawra-lookup"
LOOKUP_COOKIE_MAX_AGE_S = 30 * 60
BOOK = "customer"
LINK_IN_PATH = r"[A-Za-z0-9_-]{1,100}"  # what may be a link token; read() decides if it is one
FORMS = ("cancel", "address", "contact", "feedback")
SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site values of a request this site's own pages (or a link) made


class Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Reader:
    """Who is reading, in which language, and where the page lives (the deployed stage's prefix, if any)."""

    request: WebRequest
    language: str

    @property
    def t(self) -> Translator:
        return Translator(language_or_default(self.language), BOOK)

    @property
    def f(self) -> Formatter:
        return Formatter(language_or_default(self.language))

    def url(self, path: str, **params: str | None) -> str:
        return with_query(self.request.base + path, **params)


def cross_site(request: WebRequest) -> bool:
    """A request another site's page made: the browser says so (Sec-Fetch-Site), or, from a browser that does not
    send that, its Origin is another host. An Origin of "null" decides nothing: it is what a browser sends for a form
    posted from a page with Referrer-Policy: no-referrer, as these pages are (the CSRF token still decides)."""
    fetched = request.headers.get("sec-fetch-site")
    if fetched:
        return fetched not in SAME_SITE
    origin = request.headers.get("origin")
    if origin in (None, "null"):
        return False
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def wants_json(request: WebRequest) -> bool:
    accept = request.headers.get("accept", "")
    return ("application/json" in accept or "+json" in accept) and "text/html" not in accept


def problem_response(kind: problems.Kind, detail: str) -> WebResponse:
    return WebResponse(status=kind.status, body=json.dumps(problems.body(kind, detail)),
                       content_type=problems.PROBLEM_JSON, headers=problems.headers(kind))


class CustomerSite:
    def __init__(self, open_link: OpenOrderLink, send_link: SendOrderLink, links: OrderLinks,
                 actions: CustomerActions | None, log: Log, give_feedback: GiveFeedback | None = None):
        self.open_link, self.send_link, self.links, self.actions, self.log = open_link, send_link, links, actions, log
        self.give_feedback = give_feedback

    @property
    def key(self) -> bytes:
        return self.links.key()

    # --- the request's way through ----------------------------------------------------------------------------
    def handle(self, request: WebRequest, source: str) -> WebResponse:
        path = request.path.rstrip("/") or "/"
        reader = Reader(request, request.arg("lang") or request.field("lang") or "en")
        try:
            if path.startswith(STATIC) and request.method == "GET":
                return self._static(path.removeprefix(STATIC))
            if path == PAGE and request.method == "GET":
                return self.lookup_page(reader)
            if path == f"{PAGE}/lookup" and request.method == "POST":
                return self.lookup(reader, source)
            match = re.fullmatch(rf"{PAGE}/(?P<token>{LINK_IN_PATH})(?:/(?P<form>[a-z]+))?", path)
            if match and request.method == "GET" and not match["form"]:
                return self.order_page(request, match["token"])
            if match and request.method == "POST" and match["form"] in FORMS:
                return self.act(request, match["token"], match["form"])
            return self._not_found(reader)
        except OrderNotFound:
            return self._not_found(reader)
        except DomainError as error:
            kind = problems.kind_of(error)
            self.log.info("customer page refused", extra={"error": type(error).__name__, "status": kind.status})
            if wants_json(request):
                return problem_response(kind, error.message)
            return self.error_page(reader, kind.status, _problem_text(reader, kind.code))
        except Exception as error:  # noqa: BLE001 - any failure is a page, never a stack trace to the browser
            frames = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                      for frame in traceback.extract_tb(error.__traceback__)[-6:]]
            self.log.info("customer page failed", extra={"error": type(error).__name__, "where": frames})
            if wants_json(request):
                return problem_response(problems.INTERNAL, "the request failed; retry it")
            return self.error_page(reader, 500, reader.t("error.internal"))

    # --- rendering --------------------------------------------------------------------------------------------
    def page(self, reader: Reader, template: str, status: int = 200, **context: Any) -> WebResponse:
        t, f = reader.t, reader.f
        base = {"t": t, "f": f, "lang": f.language, "dir": f.direction, "url": reader.url,
                "static": lambda name: reader.url(f"{STATIC}{name}", v=static_version(name)),
                "shop": self.links.shop, "CSRF_FIELD": CSRF_FIELD, "KEY_FIELD": KEY_FIELD, "new_key": new_nonce,
                "error": None, "problems": [], "notice": None, "other_lang": "en" if f.language == "ar" else "ar",
                "lang_href": reader.url(reader.request.path, lang="en" if f.language == "ar" else "ar")}
        return WebResponse(status=status, body=render(f"customer/{template}", {**base, **context}))

    def error_page(self, reader: Reader, status: int, message: str) -> WebResponse:
        return self.page(reader, "error.html", status=status, title=reader.t("error.title"), error=message)

    def _not_found(self, reader: Reader) -> WebResponse:
        """The one answer for any link that opens no order (and any unknown path): never says why."""
        if wants_json(reader.request):
            return problem_response(problems.HTTP[OrderNotFound], NO_SUCH_ORDER)
        other = "en" if reader.f.language == "ar" else "ar"  # the same page whatever path was asked for
        return self.page(reader, "error.html", status=404, title=reader.t("error.title"),
                         error=reader.t("error.not_found"), lang_href=reader.url(PAGE, lang=other))

    def _static(self, name: str) -> WebResponse:
        found = static_file(name) if name in STATIC_FILES else None
        if found is None:
            return WebResponse(status=404, body="not found", content_type="text/plain; charset=utf-8")
        body, media_type = found
        return WebResponse(status=200, body=body.decode("utf-8"), content_type=media_type, cacheable=True,
                           headers={"Cache-Control": "public, max-age=31536000, immutable"})

    # --- the order page ---------------------------------------------------------------------------------------
    def order_json(self, token: str | None) -> dict[str, Any]:
        order, timeline = self.open_link(token)
        return customer_view(order, timeline, self._offers(order)).model_dump(mode="json")

    def _offers(self, order: Order) -> frozenset[str]:
        return self.actions.offers(order) if self.actions is not None else frozenset()

    def order_page(self, request: WebRequest, token: str, status: int = 200, **extra: Any) -> WebResponse:
        order, timeline = self.open_link(token)
        reader = Reader(request, request.arg("lang") or request.field("lang") or order.contact.language)
        return self._render_order(reader, token, order, timeline, status, **extra)

    def _render_order(self, reader: Reader, token: str, order: Order, timeline: list[TimelineEvent],
                      status: int = 200, **extra: Any) -> WebResponse:
        offers = self._offers(order)
        view = customer_view(order, timeline, offers, reader.f.language)
        done = reader.request.arg("done")
        notice = reader.t(f"done.{done}") if done and reader.t.has(f"done.{done}") else None
        forms = {purpose: order_link.form_token(self.key, token, purpose) for purpose in FORMS}
        unshipped = [s for s in order.active_shipments if not s.has_shipped]
        titles = {line.sku: line.title_in(reader.f.language) for line in [*order.cancelled_lines, *order.lines]}
        extra.setdefault("form", {})
        extra.setdefault("quote", None)
        # The reference isolated left-to-right (U+2066..U+2069), so "#1A2B3C4D" keeps its # in front in Arabic.
        title = reader.t("order.title", ref=f"\u2066{view.reference}\u2069")
        return self.page(reader, "order.html", status=status, title=title,
                         order=order, view=view, offers=offers, events=visible(timeline), stage=stage_of(order),
                         Stage=Stage, forms=forms, token=token, unshipped=unshipped, titles=titles,
                         action_url=lambda form: reader.url(f"{PAGE}/{token}/{form}"),
                         notice=extra.pop("notice", notice), **extra)

    def act(self, request: WebRequest, token: str, form: str) -> WebResponse:
        reader = Reader(request, request.field("lang") or "en")
        if cross_site(request):
            self.log.info("customer form refused", extra={"reason": "cross-site", "form": form})
            return self._refused(reader, 403, "error.csrf")
        order = self.open_link.order(token)  # a link that opens no order: 404, before anything else
        reader = Reader(request, request.field("lang") or order.contact.language)
        if not order_link.form_token_matches(self.key, token, form, request.field(CSRF_FIELD)):
            self.log.info("customer form refused", extra={"reason": "csrf", "form": form})
            return self._refused(reader, 403, "error.csrf")
        key = request.field(KEY_FIELD)
        try:
            if self.actions is None:
                raise OrderNotFound("this shop does not take changes online")
            if not 8 <= len(key) <= 128:
                raise FormInvalid([(KEY_FIELD, "missing")])
            outcome = self._do(order, form, key, reader, token)
        except FormInvalid as invalid:
            if wants_json(request):
                return WebResponse(status=422, content_type=problems.PROBLEM_JSON, body=json.dumps(problems.body(
                    problems.VALIDATION, "the form is not valid; see errors",
                    [problems.FieldProblem(path=field, message=message) for field, message in invalid.problems])))
            return self._rerender(reader, token, 422, reader.t("error.invalid"), invalid.problems)
        except DomainError as error:
            if isinstance(error, OrderNotFound):
                raise
            kind = problems.kind_of(error)
            self.log.info("customer action refused", extra={"form": form, "error": type(error).__name__,
                                                             "status": kind.status})
            if wants_json(request):
                return problem_response(kind, error.message)
            said = [(error.field, error.message)] if error.field else None  # which field, in the use case's words
            return self._rerender(reader, token, kind.status, _problem_text(reader, kind.code), said)
        if isinstance(outcome, WebResponse):  # a question back to the customer (the address change's price)
            return outcome
        self.log.info("customer action", extra={"form": form, "outcome": outcome.kind})
        if wants_json(request):
            return WebResponse(status=200, content_type="application/json",
                               body=json.dumps(self.order_json(token)))
        return redirect(reader.url(f"{PAGE}/{token}", done=outcome.kind, lang=request.field("lang") or None))

    def _refused(self, reader: Reader, status: int, message_key: str) -> WebResponse:
        if wants_json(reader.request):
            return problem_response(problems.Kind(status, "forbidden", "Refused"), reader.t(message_key))
        return self.error_page(reader, status, reader.t(message_key))

    def _rerender(self, reader: Reader, token: str, status: int, message: str | None,
                  field_problems: list[tuple[str, str]] | None = None, **extra: Any) -> WebResponse:
        """The page again, with what the customer typed kept in its form, and why it was not done."""
        order, timeline = self.open_link(token)
        return self._render_order(reader, token, order, timeline, status, error=message,
                                  problems=[(_field_label(reader, f), m) for f, m in field_problems or []],
                                  form=reader.request.form, **extra)

    def _do(self, order: Order, form: str, key: str, reader: Reader, token: str) -> CustomerOutcome | WebResponse:
        actions, request = self.actions, reader.request
        assert actions is not None  # noqa: S101 - act() answers 404 before, when the shop takes no changes online
        if form == "cancel":
            chosen = [s for s in request.fields("shipment") if s]
            if request.field("scope") == "shipments" and not chosen:  # never read as "the whole order"
                raise FormInvalid([("shipment", "choose at least one parcel to cancel")])
            return actions.cancel(order.order_id, key, chosen or None)
        if form == "feedback":
            return self._feedback(order, request)
        if form == "contact":
            phone = request.field("phone").strip() or None
            return actions.change_contact(order.order_id, key, request.field("preferred_channel"),
                                          request.field("language"), phone)
        address = _address(request, order.shipping_address.country)
        quote = actions.quote_address_change(order.order_id, address)
        if not quote.allowed:
            return self._rerender(reader, token, 409, f"{reader.t('error.refused')}: {quote.reason or ''}".rstrip(": "))
        if quote.difference.amount != 0 and request.field("confirm") != "yes":
            return self._rerender(reader, token, 200, None, quote=quote)
        return actions.change_address(order.order_id, key, address)

    def _feedback(self, order: Order, request: WebRequest) -> CustomerOutcome:
        """The customer's one answer. A second submit (a double click, a retry after a lost answer) is the same
        "thank you": the first answer stands."""
        if self.give_feedback is None:
            raise OrderNotFound("this shop does not ask for feedback online")
        if not order.feedback_at:
            try:
                answer = Feedback.model_validate({"rating": request.field("rating") or None,
                                                  "recommend": request.field("recommend") or None,
                                                  "comment": request.field("comment").strip() or None})
            except ValidationError as error:
                raise FormInvalid([(".".join(str(p) for p in item["loc"]) or "form", item["msg"])
                                   for item in error.errors(include_url=False, include_input=False)]) from None
            order = self.give_feedback(order.order_id, answer)
        return CustomerOutcome(order=order, replayed=False, message="Thank you for your feedback",
                               kind="feedback_given")

    # --- the guest lookup -------------------------------------------------------------------------------------
    def lookup_page(self, reader: Reader, status: int = 200, **extra: Any) -> WebResponse:
        nonce = new_nonce()
        sent = reader.request.arg("sent") == "1"
        response = self.page(reader, "lookup.html", status=status, title=reader.t("lookup.title"),
                             lookup_csrf=order_link.form_token(self.key, nonce, "lookup"),
                             notice=reader.t("lookup.sent") if sent else None, form=reader.request.form, **extra)
        response.cookies.append(cookie(LOOKUP_COOKIE, nonce, LOOKUP_COOKIE_MAX_AGE_S))
        return response

    def lookup(self, reader: Reader, source: str) -> WebResponse:
        request = reader.request
        nonce = request.cookies.get(LOOKUP_COOKIE)
        if cross_site(request) or not nonce or not order_link.form_token_matches(
                self.key, nonce, "lookup", request.field(CSRF_FIELD)):
            self.log.info("customer form refused", extra={"reason": "csrf", "form": "lookup"})
            return self.lookup_page(reader, 403, error=reader.t("error.csrf"))
        try:
            self.send_link(request.field("reference"), request.field("contact"), source)
        except DomainError as error:
            kind = problems.kind_of(error)
            self.log.info("customer lookup refused", extra={"error": type(error).__name__, "status": kind.status})
            message = reader.t("error.too_many") if kind.status == 429 else reader.t("error.invalid")
            field = [(_field_label(reader, error.field), error.message)] if error.field else []
            response = self.lookup_page(reader, kind.status, error=message, problems=field)
            response.headers.update(problems.headers(kind))
            return response
        self.log.info("customer lookup answered")  # never whether it matched, nor what was typed
        return redirect(reader.url(PAGE, sent="1", lang=reader.language if request.field("lang") else None))


def _address(request: WebRequest, country: str) -> Address:
    data: dict[str, Any] = {name: request.field(name).strip() or None for name in ADDRESS_FIELDS}
    try:
        return Address.model_validate({**data, "country": country})
    except ValidationError as error:
        raise FormInvalid([(".".join(str(p) for p in item["loc"]) or "form", item["msg"])
                           for item in error.errors(include_url=False, include_input=False)]) from None


def _field_label(reader: Reader, field: str) -> str:
    key = f"field.{field.rsplit('.', maxsplit=1)[-1]}"
    return reader.t(key) if reader.t.has(key) else field


def _problem_text(reader: Reader, code: str) -> str:
    key = f"problem.{code}"
    return reader.t(key) if reader.t.has(key) else reader.t("error.refused")


def source_of(event: dict[str, Any]) -> str:
    """The caller's address as API Gateway saw it (counted for the lookup's limits, never logged)."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def bearer(authorization: str | None) -> str | None:
    value = (authorization or "").strip()
    return value[7:].strip() or None if value[:7].lower() == "bearer " else None

