"""The operators' console: server-rendered pages over the back office's use cases.

`Console.handle(request)` is the whole app: it serves the static files, signs operators in and out, checks the session
and the CSRF token of every POST, routes to a page and turns domain errors into a clear message on the page
(Forbidden 403, IllegalTransition 409 with its reason, an unknown order 404; Unauthenticated: back to sign-in).

Each page is rendered whole, so it works without JavaScript; with htmx, the orders search swaps only its results.
Buttons are shown only when the operator's role allows the action and the order's status does (the use case checks
both again on POST). Every form carries a CSRF token and a fresh random key: the key is the action's idempotency
key, so a double submit acts once. Nothing a customer typed is logged: log lines name the page, the action and the
outcome."""

from __future__ import annotations

import contextlib
import os
import re
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from dawra.app.changes import Outcome
from dawra.contracts import problems
from dawra.contracts.admin import actor_from_claims
from dawra.contracts.api import ServedCountry
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.accounts import AccountNotFound
from dawra.domain.errors import DomainError, OrderNotFound, PickupCodeRefused, Unauthenticated
from dawra.domain.holds import HoldKind, policy
from dawra.domain.notifications import NOTIFIED_KINDS
from dawra.domain.order import Order, OrderEvent, OrderStatus
from dawra.domain.return_claims import ClaimRequest
from dawra.domain.returns import (
    ClaimReason,
    ClaimRemedy,
    InspectionOutcome,
    Return,
    ReturnMethod,
    ReturnStatus,
    return_id_for,
)
from dawra.domain.shipment import ShipmentStatus
from dawra.web import forms
from dawra.web.account_forms import CURRENCIES, account_request, payment_request
from dawra.web.customer_claims import read_claim_form
from dawra.web.formatting import Formatter, digits_or_default, language_or_default
from dawra.web.http import WebRequest, WebResponse, redirect, with_query
from dawra.web.i18n import Translator
from dawra.web.invoice_view import words as invoice_words
from dawra.web.invoices import NUMBER, InvoicePages, document_rows
from dawra.web.render import render, static_file, static_version
from dawra.web.routing_words import routing_reason
from dawra.web.security import (
    CSRF_FIELD,
    KEY_FIELD,
    PREFERENCE_MAX_AGE_S,
    PREFS_COOKIE,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    SIGNIN_MAX_AGE_S,
    cookie,
    csrf_token,
    expired,
    new_nonce,
    same,
    signin_token,
    subject_tag,
)

if TYPE_CHECKING:
    from dawra.app.accounts import BusinessAccounts
    from dawra.app.remittances import Remittances
    from dawra.app.replenishment import Replenishment
    from dawra.app.return_claims import ClaimChoices, DecideClaim
    from dawra.app.returns import DecideReturn
    from dawra.app.stock_feeds import StockFeedImports
    from dawra.app.store_pickup import StorePickups
    from dawra.app.warehouse import Warehouse
    from dawra.bootstrap import BackOffice

ROOT = "/admin"
ORDER_ID = r"ord_[a-f0-9]{32}"
CUSTOMER_ID = r"[A-Za-z0-9_-]{1,64}"
RETURN_ID = r"ret_[0-9a-f]{20}"
INVOICE_NUMBER = NUMBER
SHIPMENT_ID = r"shp_[0-9a-f]{20}"
LOCATION_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
DEFAULT_PICKING_LOCATION = "riyadh-dc"  # the picking list a warehouse user sees first (?location= for another)
DEFAULT_PICKUP_DESK = "jeddah-store"  # the pickup desk a store user sees first (?location= for another)
RETURN_ACTIONS = ("approve", "decline", "receive", "inspect")
CLAIM_ACTIONS = ("refund-claim", "reship-claim", "decline-claim")  # an agent settles a claim without a return
QUARANTINE_DONE = {"write-off": "write_off_quarantined", "release": "release_quarantined"}  # the page's notice
PAGE_SIZE = 20


# Set by the embedded cloud only: where the local stack lists the emails and SMS sent (no outbox on AWS).
LOCAL_OUTBOX_PATH = "DAWRA_LOCAL_OUTBOX_PATH"


class SignedInTokens(Protocol):
    id_token: str
    expires_in: int


class Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Session:
    actor: Actor
    claims: dict[str, Any]
    csrf: str


@dataclass(frozen=True)
class View:
    """What every page is rendered with: the reader's language and digits, and (signed in) who they are."""

    request: WebRequest
    formatter: Formatter
    session: Session | None

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise Unauthenticated("not signed in")
        return self.session.actor

    @property
    def t(self) -> Translator:
        return Translator(self.formatter.language)

    def url(self, path: str, **params: str | None) -> str:
        return with_query(self.request.base + path, **params)


Handler = Callable[["Console", View, re.Match[str]], WebResponse]
ROUTES: list[tuple[str, re.Pattern[str], str]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{ROOT}{pattern}$"), handler.__name__))
        return handler

    return register


class ConsoleReturns(Protocol):
    """What the console does with returns (dawra.bootstrap.build_returns): each use case checks the actor's role."""

    @property
    def decide(self) -> DecideReturn: ...

    @property
    def decide_claim(self) -> DecideClaim: ...

    def receive(self, order_id: str, return_id: str) -> Return: ...

    def inspect(self, actor: Actor, order_id: str, return_id: str, key: str,
                outcomes: Mapping[str, tuple[InspectionOutcome, str | None]],
                write_off: Collection[str] = ()) -> Outcome: ...


@runtime_checkable
class ConsoleClaims(Protocol):
    """A claim reported by an agent for a customer on the phone (dawra.bootstrap.Returns has it): what may be
    claimed, and the customer's own claim, made `by` the agent (audited)."""

    def claimable_lines(self, order_id: str) -> ClaimChoices: ...

    def start_claim(self, order_id: str, request_key: str, request: ClaimRequest, *,
                    by: Actor | None = None) -> Return: ...


class Console:
    def __init__(self, office: BackOffice, verify: Callable[[str], dict[str, Any]],
                 sign_in: Callable[[str, str], SignedInTokens], session_key: Callable[[], bytes], log: Log,
                 returns: ConsoleReturns | None = None, invoices: InvoicePages | None = None):
        """verify: an ID token's verified claims (Unauthenticated otherwise); sign_in: a username and password to
        tokens (Unauthenticated when they do not sign in); session_key: the CSRF HMAC key (a cached secret);
        returns: deciding, receiving and inspecting returns (without it the order page shows them only)."""
        self.office, self.verify, self.sign_in, self.session_key, self.log = office, verify, sign_in, session_key, log
        self.returns = returns
        self.invoices = invoices  # the orders' tax invoices and credit notes (none listed without it)

    # --- the request's way through ----------------------------------------------------------------------------
    def handle(self, request: WebRequest) -> WebResponse:
        path = request.path.rstrip("/") or "/"
        if path.startswith(f"{ROOT}/static/") and request.method == "GET":
            return self._static(path.removeprefix(f"{ROOT}/static/"))
        view = View(request, self._formatter(request, None), None)
        try:
            if path in (f"{ROOT}/signin", ROOT + "/signout"):
                return self.signin(view) if path.endswith("signin") else self.signout(view)
            session = self._session(request)
            view = View(request, self._formatter(request, session), session)
            if request.method == "POST" and not same(session.csrf, request.field(CSRF_FIELD)):
                self.log.info("console refused a form", extra={"reason": "csrf", "path": _loggable(path)})
                return self._error(view, 403, view.t("error.csrf"))
            for method, pattern, name in ROUTES:
                match = pattern.match(path)
                if match and method == request.method:
                    handler: Handler = getattr(type(self), name)
                    return handler(self, view, match)
            return self._error(view, 404, view.t("error.not_found"))
        except Unauthenticated:
            return self._to_signin(view)
        except forms.FormInvalid as invalid:
            return self._error(view, 422, view.t("error.invalid"), invalid.problems)
        except DomainError as error:
            return self._domain_error(view, error)
        except Exception as error:  # noqa: BLE001 - any failure is a page, never a stack trace to the browser
            # Where it failed, not what it said: an exception's message can carry what a customer typed.
            frames = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                      for frame in traceback.extract_tb(error.__traceback__)[-6:]]
            self.log.info("console page failed", extra={"path": _loggable(path), "error": type(error).__name__,
                                                        "where": frames})
            return self._error(view, 500, view.t("error.internal"))

    def _session(self, request: WebRequest) -> Session:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthenticated("not signed in")
        claims = self.verify(token)
        actor = actor_from_claims(claims)
        if "custom:locale" not in claims and claims.get("locale") in ("ar", "en"):
            actor = actor.model_copy(update={"language": claims["locale"]})
        return Session(actor, claims, csrf_token(self.session_key(), claims))

    def _formatter(self, request: WebRequest, session: Session | None) -> Formatter:
        """The operator's own choice on this browser (a preferences cookie tagged with who chose it), else their
        account's language; before signing in, the browser's last choice or ?lang=."""
        tag, _, rest = request.cookies.get(PREFS_COOKIE, "").partition(".")
        language, _, digits = rest.partition(".")
        mine = session is None or tag == subject_tag(session.actor.user_id)
        default = session.actor.language if session else "en"
        chosen = request.arg("lang") if session is None and request.arg("lang") else (language if mine else None)
        return Formatter(language_or_default(chosen, language_or_default(default)),
                         digits_or_default(digits if mine else None))

    def _to_signin(self, view: View) -> WebResponse:
        request = view.request
        next_path = request.path if request.method == "GET" and not request.is_htmx else None
        target = view.url(f"{ROOT}/signin", next=next_path if next_path != f"{ROOT}/signin" else None)
        clear = [expired(SESSION_COOKIE)] if request.cookies.get(SESSION_COOKIE) else []
        if request.is_htmx:  # htmx follows HX-Redirect with a full page load
            return WebResponse(status=200, headers={"HX-Redirect": target}, cookies=clear)
        return redirect(target, clear)

    def _static(self, name: str) -> WebResponse:
        found = static_file(name)
        if found is None:
            return WebResponse(status=404, body="not found", content_type="text/plain; charset=utf-8")
        body, media_type = found
        # Text goes out as text: API Gateway passes a base64 body through undecoded unless its media type is one of
        # the API's binary media types, and the console's CSS and scripts need none.
        text: str | bytes = body.decode("utf-8") if "charset=utf-8" in media_type else body
        return WebResponse(status=200, body=text, content_type=media_type, cacheable=True,
                           headers={"Cache-Control": "public, max-age=31536000, immutable"})

    # --- rendering --------------------------------------------------------------------------------------------
    def page(self, view: View, template: str, status: int = 200, **context: Any) -> WebResponse:
        return WebResponse(status=status, body=render(template, self._context(view, context)))

    def _context(self, view: View, extra: dict[str, Any]) -> dict[str, Any]:
        session, f = view.session, view.formatter
        return {
            "t": view.t, "f": f, "lang": f.language, "dir": f.direction, "digits": f.digits,
            "actor": session.actor if session else None, "csrf": session.csrf if session else "",
            "P": Permission, "url": view.url, "root": ROOT, "path": view.request.path,
            "static": lambda name: view.url(f"{ROOT}/static/{name}", v=static_version(name)),
            "new_key": new_nonce, "CSRF_FIELD": CSRF_FIELD, "KEY_FIELD": KEY_FIELD,
            "nav": self._nav(view), "show": show, "error": None, "problems": [], "notice": None, **extra,
        }

    def _nav(self, view: View) -> list[tuple[str, str]]:
        if view.session is None:
            return []
        actor = view.actor
        items = [("orders", Permission.VIEW_ORDERS), ("reviews", Permission.REVIEW_RISK),
                 ("place_order", Permission.PLACE_ORDER),
                 ("stock", Permission.VIEW_STOCK), ("operations", Permission.VIEW_OPERATIONS),
                 ("cod", Permission.RECONCILE_COD), ("accounts", Permission.MANAGE_ACCOUNTS),
                 ("feeds", Permission.IMPORT_STOCK_FEEDS), ("replenishment", Permission.PLAN_REPLENISHMENT),
                 ("warehouse", Permission.PREPARE_SHIPMENTS), ("pickups", Permission.SERVE_PICKUPS),
                 ("audit", None)]
        return [(name, f"{ROOT}/{name.replace('_', '-')}") for name, permission in items
                if permission is None or actor.may(permission)]

    def _error(self, view: View, status: int, message: str, field_problems: list[tuple[str, str]] | None = None,
               ) -> WebResponse:
        return self.page(view, "error.html", status=status, error=message, problems=field_problems or [],
                         title=view.t(f"status.{status}") if view.t.has(f"status.{status}") else str(status))

    def _domain_error(self, view: View, error: DomainError) -> WebResponse:
        kind = problems.kind_of(error)
        self.log.info("console request refused", extra={"error": type(error).__name__, "status": kind.status})
        return self._error(view, kind.status, _problem_text(view, kind.code, error))

    # --- signing in and out -----------------------------------------------------------------------------------
    def signin(self, view: View) -> WebResponse:
        request = view.request
        key = self.session_key()
        if request.method == "POST":
            nonce = request.cookies.get(SIGNIN_COOKIE, "")
            if not nonce or not same(signin_token(key, nonce), request.field(CSRF_FIELD)):
                self.log.info("console refused a form", extra={"reason": "csrf", "path": "signin"})
                return self._signin_page(view, 403, view.t("error.csrf"))
            try:
                tokens = self.sign_in(request.field("username").strip(), request.field("password"))
                claims = self.verify(tokens.id_token)
            except Unauthenticated:
                self.log.info("console sign-in refused")
                return self._signin_page(view, 401, view.t("signin.refused"))
            self.log.info("console sign-in", extra={"operator": claims.get("sub")})
            cookies = [cookie(SESSION_COOKIE, tokens.id_token, tokens.expires_in), expired(SIGNIN_COOKIE)]
            language = request.field("lang")
            if language in ("ar", "en"):  # what they chose on the sign-in page carries on
                prefs = f"{subject_tag(str(claims.get('sub')))}.{language}.{view.formatter.digits}"
                cookies.append(cookie(PREFS_COOKIE, prefs, PREFERENCE_MAX_AGE_S))
            return redirect(_safe_next(view, request.field("next")), cookies)
        return self._signin_page(view, 200, None)

    def _signin_page(self, view: View, status: int, message: str | None) -> WebResponse:
        nonce = new_nonce()
        chosen = view.request.arg("lang") or view.request.field("lang")
        response = self.page(view, "signin.html", status=status, error=message, title=view.t("signin.title"),
                             signin_csrf=signin_token(self.session_key(), nonce),
                             next=view.request.arg("next") or view.request.field("next"),
                             chosen_lang=chosen if chosen in ("ar", "en") else "")
        response.cookies.append(cookie(SIGNIN_COOKIE, nonce, SIGNIN_MAX_AGE_S))
        if chosen in ("ar", "en"):
            response.cookies.append(cookie(PREFS_COOKIE, f"-.{chosen}.{view.formatter.digits}", PREFERENCE_MAX_AGE_S))
        return response

    def signout(self, view: View) -> WebResponse:
        if view.request.method != "POST":
            return redirect(view.url(f"{ROOT}/signin"))
        session = self._session(view.request)
        if not same(session.csrf, view.request.field(CSRF_FIELD)):
            return self._error(View(view.request, view.formatter, session), 403, view.t("error.csrf"))
        return redirect(view.url(f"{ROOT}/signin"), [expired(SESSION_COOKIE)])

    # --- pages ------------------------------------------------------------------------------------------------
    @route("GET", "")
    def home(self, view: View, _: re.Match[str]) -> WebResponse:
        actor = view.actor
        first = "orders" if actor.may(Permission.VIEW_ORDERS) else "audit"
        return redirect(view.url(f"{ROOT}/{first}"))

    @route("POST", "/settings")
    def settings(self, view: View, _: re.Match[str]) -> WebResponse:
        request, f = view.request, view.formatter
        language = language_or_default(request.field("lang") or f.language)
        digits = digits_or_default(request.field("digits") or f.digits)
        prefs = f"{subject_tag(view.actor.user_id)}.{language}.{digits}"
        return redirect(_safe_next(view, request.field("next")), [cookie(PREFS_COOKIE, prefs, PREFERENCE_MAX_AGE_S)])

    @route("GET", "/orders")
    def orders(self, view: View, _: re.Match[str]) -> WebResponse:
        request = view.request
        query = forms.order_query(request)
        cursor = request.arg("cursor") or None
        page = self.office.find_orders(view.actor, query, PAGE_SIZE, cursor)
        filters = {name: request.arg(name) for name in forms.SEARCH_FIELDS}
        context: dict[str, Any] = {"title": view.t("orders.title"), "orders": page.orders, "next_cursor": page.cursor,
                   "filters": filters, "statuses": [s.value for s in OrderStatus], "cursor": cursor,
                   "searched": any(filters.values())}
        if request.is_htmx and request.headers.get("hx-target") == "results":
            return self.page(view, "_order_results.html", **context)
        return self.page(view, "orders.html", **context)

    @route("GET", f"/orders/(?P<order_id>{ORDER_ID})")
    def order(self, view: View, match: re.Match[str]) -> WebResponse:
        return self._order_page(view, match["order_id"], notice=_notice(view))

    def _order_page(self, view: View, order_id: str, status: int = 200, **extra: Any) -> WebResponse:
        file = self.office.view_order(view.actor, order_id)
        return self.page(view, "order.html", status=status, title=view.t("order.title", ref=reference(order_id)),
                         file=file, order=file.order, can=_allowed(view.actor, file.order),
                         ref=reference(order_id), notes=[e for e in file.audit if e.action == "add_note"],
                         resendable=[e for e in file.timeline if e.kind in NOTIFIED_KINDS],
                         routing_reason=lambda detail: routing_reason(detail, view.t, view.formatter.language),
                         returns=_return_actions(view.actor, file.order, self.returns is not None),
                         outcomes=[o.value for o in InspectionOutcome],
                         claim_choices=self._claim_choices(view.actor, file.order),
                         claim_reasons=[r.value for r in ClaimReason], claim_remedies=[r.value for r in ClaimRemedy],
                         documents=document_rows(
                             file.order, view.formatter.language,
                             lambda number: view.url(f"{ROOT}/orders/{order_id}/invoices/{number}"), lambda _: "")
                         if self.invoices is not None else [], doc_words=invoice_words(view.formatter.language),
                         **extra)

    @route("GET", f"/orders/(?P<order_id>{ORDER_ID})/invoices/(?P<number>{INVOICE_NUMBER})")
    def invoice(self, view: View, match: re.Match[str]) -> WebResponse:
        """One of the order's invoices or credit notes, as the customer's page shows it (whoever reads the order
        may read it); printable."""
        order = self.office.view_order(view.actor, match["order_id"]).order
        if self.invoices is None or not any(ref.number == match["number"] for ref in order.documents):
            return self._error(view, 404, view.t("error.not_found"))
        context = self.invoices.page_context(order, match["number"], view.formatter.language, "")
        return self.page(view, "invoice.html", title=context["doc"].title,
                         back=view.url(f"{ROOT}/orders/{order.order_id}"), ref=reference(order.order_id), **context)

    @route("GET", f"/orders/(?P<order_id>{ORDER_ID})/shipments/(?P<shipment_id>{SHIPMENT_ID})/packing-slip")
    def packing_slip(self, view: View, match: re.Match[str]) -> WebResponse:
        """One shipment's packing slip, a printable page for whoever packs it: its lines and quantities, where it
        goes, and for a gift the message and recipient and no prices (whoever reads the order may print it)."""
        order = self.office.view_order(view.actor, match["order_id"]).order
        shipment = next((s for s in order.shipments if s.shipment_id == match["shipment_id"]), None)
        if shipment is None:
            return self._error(view, 404, view.t("error.not_found"))
        known = {line.sku: line for line in [*order.cancelled_lines, *order.lines]}
        rows = [{"sku": item.sku, "title": known[item.sku].title if item.sku in known else item.sku,
                 "quantity": item.quantity,
                 "unit_price": None if order.gift or item.sku not in known else known[item.sku].unit_price}
                for item in shipment.lines]
        return self.page(view, "packing_slip.html", title=view.t("packing.title", ref=reference(order.order_id)),
                         order=order, shipment=shipment, rows=rows, gift=order.gift)

    @property
    def _claims(self) -> ConsoleClaims | None:
        return self.returns if isinstance(self.returns, ConsoleClaims) else None

    def _claim_choices(self, actor: Actor, order: Order) -> ClaimChoices | None:
        """What an agent may report for the customer (who may settle claims may open one), offered as the
        customer's page offers it: a delivered unit within its claim window and in no return or claim."""
        claims = self._claims
        if claims is None or not actor.may(Permission.REFUND) or not order.can(OrderEvent.REQUEST_RETURN):
            return None
        if not any(s.delivered_at for s in order.shipments):
            return None
        choices = claims.claimable_lines(order.order_id)
        return choices if choices.open else None

    @route("POST", f"/orders/(?P<order_id>{ORDER_ID})/returns/(?P<return_id>{RETURN_ID})/(?P<action>[a-z-]+)")
    def return_act(self, view: View, match: re.Match[str]) -> WebResponse:
        """An agent approves or declines a request, or settles a claim (refund, reship, decline); the warehouse
        marks a store drop-off received or inspects."""
        actor, request, returns = view.actor, view.request, self.returns
        order_id, return_id, action = match["order_id"], match["return_id"], match["action"]
        key = request.field(KEY_FIELD)
        try:
            if returns is None or action not in RETURN_ACTIONS + CLAIM_ACTIONS:
                return self._error(view, 404, view.t("error.not_found"))
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            if action == "refund-claim":
                returns.decide_claim.refund(actor, order_id, return_id, key)
            elif action == "reship-claim":
                returns.decide_claim.reship(actor, order_id, return_id, key)
            elif action == "decline-claim":
                returns.decide_claim.decline(actor, order_id, return_id, key, forms.reason(request))
            elif action == "approve":
                returns.decide.approve(actor, order_id, return_id, key)
            elif action == "decline":
                returns.decide.decline(actor, order_id, return_id, key, forms.reason(request))
            elif action == "receive":
                authorize(actor, Permission.ADJUST_STOCK)  # the warehouse (or a manager) takes the parcel in
                returns.receive(order_id, return_id)
            else:
                returns.inspect(actor, order_id, return_id, key, _inspection(request),
                                write_off=[name.removeprefix("write_off.") for name in request.form
                                           if name.startswith("write_off.") and request.field(name)])
        except forms.FormInvalid as invalid:
            return self._order_page(view, order_id, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, f"{action}_return")
            if kind.status == 403:
                return self._domain_error(view, error)
            return self._order_page(view, order_id, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": f"{action}_return"})
        done = action.replace("-", "_") if action in CLAIM_ACTIONS else f"{action}_return"
        return redirect(view.url(f"{ROOT}/orders/{order_id}", done=done) + f"#return-{return_id}")

    @route("POST", f"/orders/(?P<order_id>{ORDER_ID})/claims")  # before `act`, whose pattern also matches it
    def open_claim(self, view: View, match: re.Match[str]) -> WebResponse:
        """An agent reports a claim for a customer on the phone: the customer's claim form, read the same way, and
        the customer's own claim made by the agent (audited; its policy may settle it at once). A double submit
        finds the claim its key made."""
        actor, request, order_id, claims = view.actor, view.request, match["order_id"], self._claims
        key = request.field(KEY_FIELD)
        if claims is None:
            return self._error(view, 404, view.t("error.not_found"))
        authorize(actor, Permission.REFUND)
        done = view.url(f"{ROOT}/orders/{order_id}", done="open_claim") + f"#return-{return_id_for(order_id, key)}"
        try:
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            order = self.office.view_order(actor, order_id).order
            if any(ret.return_id == return_id_for(order_id, key) for ret in order.returns):
                return redirect(done)
            asked = read_claim_form(request, claims.claimable_lines(order_id),
                                    lambda said: view.t(f"open_claim.problem.{said.rsplit('.', 1)[-1]}"))
            claims.start_claim(order_id, key, asked, by=actor)
        except forms.FormInvalid as invalid:
            return self._order_page(view, order_id, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, "open_claim")
            return self._order_page(view, order_id, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": "open_claim"})
        return redirect(done)

    @route("POST", f"/orders/(?P<order_id>{ORDER_ID})/(?P<action>[a-z-]+)")
    def act(self, view: View, match: re.Match[str]) -> WebResponse:
        actor, request, order_id, action = view.actor, view.request, match["order_id"], match["action"]
        key, actions = request.field(KEY_FIELD), self.office.actions
        if not 8 <= len(key) <= 128:
            return self._error(view, 422, view.t("error.invalid"), [(KEY_FIELD, "missing")])
        try:
            if action == "cancel":
                actions.cancel(actor, order_id, key, forms.reason(request))
            elif action == "cancel-line":
                actions.cancel_line(actor, order_id, key, request.field("sku"), forms.reason(request))
            elif action == "refund":
                currency = self.office.view_order(actor, order_id).order.currency
                asked = forms.refund(request, currency)
                actions.refund(actor, order_id, key, asked.amount, asked.reason)
            elif action == "change-address":
                country = self.office.view_order(actor, order_id).order.shipping_address.country
                change = forms.address_change(request, country)
                actions.change_address(actor, order_id, key, change.address, change.reason)
            elif action == "resend":
                actions.resend_message(actor, order_id, key, request.field("event_id"), forms.reason(request))
            elif action == "note":
                actions.add_note(actor, order_id, key, forms.note(request))
            elif action == "hold":
                actions.hold(actor, order_id, key, forms.reason(request))
            elif action == "release":
                actions.release(actor, order_id, key, forms.reason(request))
            elif action == "reject":
                actions.reject(actor, order_id, key, forms.reason(request))
            else:
                return self._error(view, 404, view.t("error.not_found"))
        except forms.FormInvalid as invalid:
            return self._order_page(view, order_id, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, action)
            return self._order_page(view, order_id, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": action})
        return redirect(view.url(f"{ROOT}/orders/{order_id}", done=action))

    def _refusal(self, error: DomainError, action: str) -> problems.Kind:
        """An order action's refusal, logged, as its problem kind; not signed in and no such order stay their own
        pages (raised again)."""
        if isinstance(error, Unauthenticated | OrderNotFound):
            raise error
        kind = problems.kind_of(error)
        self.log.info("console action refused", extra={"action": action, "error": type(error).__name__,
                                                        "status": kind.status})
        return kind

    @route("GET", "/reviews")
    def reviews(self, view: View, _: re.Match[str]) -> WebResponse:
        """The fraud review queue (orders held for review, oldest first, with the rules' reasons) and the checkouts
        the screening refused on a day (today by default)."""
        day = view.request.arg("day")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            day = datetime.now(UTC).date().isoformat()
        held = self.office.held_orders(view.actor, HoldKind.FRAUD_REVIEW)
        return self.page(view, "reviews.html", title=view.t("reviews.title"), held=held,
                         refusals=self.office.refusals(view.actor, day), day=day)

    @route("GET", "/place-order")
    def place_order_form(self, view: View, _: re.Match[str]) -> WebResponse:
        from dawra.domain.access import authorize

        authorize(view.actor, Permission.PLACE_ORDER)
        return self._place_order_page(view, 200)

    def _place_order_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        return self.page(view, "place_order.html", status=status, title=view.t("place.title"),
                         countries=[c.value for c in ServedCountry], rows=range(forms.ORDER_LINE_ROWS),
                         form=view.request.form, **extra)

    @route("POST", "/place-order")
    def place_order(self, view: View, _: re.Match[str]) -> WebResponse:
        key = view.request.field(KEY_FIELD)
        try:
            request = forms.agent_order(view.request)
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            placed = self.office.place_order(view.actor, key, request)
        except forms.FormInvalid as invalid:
            return self._place_order_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            if isinstance(error, Unauthenticated):
                raise
            kind = problems.kind_of(error)
            self.log.info("console action refused", extra={"action": "place_order", "status": kind.status})
            return self._place_order_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": "place_order"})
        return redirect(view.url(f"{ROOT}/orders/{placed.order.order_id}", done="place_order"))

    @route("GET", "/stock")
    def stock(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._stock_page(view, 200)

    def _stock_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        sku = view.request.arg("sku").upper() or None
        location = view.request.arg("location") or None
        levels = self.office.stock.levels(view.actor, sku=sku, location_id=location)
        known = sorted({level.location_id for level in levels.levels} | {t.to_location for t in levels.transfers})
        extra.setdefault("notice", _notice(view))
        return self.page(view, "stock.html", status=status, title=view.t("stock.title"), stock=levels,
                         locations=known, skus=sorted({level.sku for level in levels.levels}),
                         filters={"sku": sku or "", "location": location or ""}, **extra)

    @route("POST", "/stock/(?P<action>adjust|transfer|receive|write-off|release)")
    def stock_act(self, view: View, match: re.Match[str]) -> WebResponse:
        actor, request, action = view.actor, view.request, match["action"]
        key, stock = request.field(KEY_FIELD), self.office.stock
        try:
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            sku, reason = request.field("sku").strip().upper(), request.field("reason")
            if action == "adjust":
                stock.adjust(actor, key, sku, request.field("location").strip(), forms.count(request, "delta"), reason)
            elif action == "transfer":
                stock.transfer(actor, key, sku, request.field("from_location").strip(),
                               request.field("to_location").strip(), forms.count(request, "quantity"), reason)
            elif action in QUARANTINE_DONE:  # quarantined units: gone, or sellable after all
                if (quantity := forms.count(request, "quantity")) < 1:
                    raise forms.FormInvalid([("quantity", "at least one unit")])
                act = stock.write_off if action == "write-off" else stock.release
                act(actor, key, sku, request.field("location").strip(), quantity, reason)
            else:
                stock.receive(actor, key, request.field("transfer_id").strip(), reason or None)
        except forms.FormInvalid as invalid:
            return self._stock_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            if isinstance(error, Unauthenticated):
                raise
            kind = problems.kind_of(error)
            self.log.info("console action refused", extra={"action": f"stock_{action}", "status": kind.status})
            return self._stock_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": f"stock_{action}"})
        return redirect(view.url(f"{ROOT}/stock", done=QUARANTINE_DONE.get(action, action)))

    # --- pick and pack: a location's picking list in waves; work done, picked, packed (click or scan) --------------
    @route("GET", "/warehouse")
    def warehouse(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._warehouse_page(view, 200, notice=_notice(view))

    def _warehouse_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        location = view.request.arg("location").strip() or DEFAULT_PICKING_LOCATION
        if not LOCATION_ID.fullmatch(location):
            raise forms.FormInvalid([("location", "unknown")])
        picking = self._warehouse().picking_list(view.actor, location)
        return self.page(view, "warehouse.html", status=status, title=view.t("warehouse.title"), picking=picking,
                         **extra)

    @route("POST", "/warehouse/(?P<action>work|pick|pack|scan)")
    def warehouse_act(self, view: View, match: re.Match[str]) -> WebResponse:
        actor, request, action, warehouse = view.actor, view.request, match["action"], self._warehouse()
        key, location = request.field(KEY_FIELD), request.field("location").strip()
        try:
            if not 8 <= len(key) <= 128 or not LOCATION_ID.fullmatch(location):
                raise forms.FormInvalid([(KEY_FIELD if LOCATION_ID.fullmatch(location) else "location", "missing")])
            order_id, shipment_id = request.field("order_id"), request.field("shipment_id")
            if action == "scan":  # a barcode scanner types the shipment id (or the order's) and presses enter
                found = warehouse.picking_list(actor, location).find(request.field("code"))
                if found is None:
                    raise forms.FormInvalid([("code", "unknown")])
                order_id, shipment_id = found.order.order_id, found.shipment.shipment_id
                action = "pack" if found.shipment.status == ShipmentStatus.PICKED else "pick"
            if action == "work":
                warehouse.finish_work(actor, order_id, shipment_id, request.field("task_id"), key)
            else:
                (warehouse.pack if action == "pack" else warehouse.pick)(actor, order_id, shipment_id, key)
        except forms.FormInvalid as invalid:
            return self._warehouse_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, f"warehouse_{action}")
            if kind.status in (401, 403):
                raise
            return self._warehouse_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": f"warehouse_{action}"})
        return redirect(view.url(f"{ROOT}/warehouse", location=location, done=f"warehouse_{action}"))

    # --- store pickup: a store's desk; an order marked ready; handed over by the customer's code ----------------------
    @route("GET", "/pickups")
    def pickups(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._pickups_page(view, 200, notice=_notice(view))

    def _pickups_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        location = view.request.arg("location").strip() or view.request.field("location").strip() \
            or DEFAULT_PICKUP_DESK
        if not LOCATION_ID.fullmatch(location):
            raise forms.FormInvalid([("location", "unknown")])
        desk = self._store_pickups().desk(view.actor, location)
        return self.page(view, "pickups.html", status=status, title=view.t("pickups.title"), desk=desk,
                         ref=reference, **extra)

    @route("POST", "/pickups/(?P<action>ready|hand-over)")
    def pickups_act(self, view: View, match: re.Match[str]) -> WebResponse:
        request, action, pickups = view.request, match["action"], self._store_pickups()
        key, location = request.field(KEY_FIELD), request.field("location").strip()
        order_id, shipment_id = request.field("order_id"), request.field("shipment_id")
        try:
            if not 8 <= len(key) <= 128 or not LOCATION_ID.fullmatch(location):
                raise forms.FormInvalid([(KEY_FIELD if LOCATION_ID.fullmatch(location) else "location", "missing")])
            if action == "ready":
                pickups.mark_ready(view.actor, order_id, shipment_id, key)
            else:  # the code is never logged nor echoed back
                pickups.hand_over(view.actor, order_id, shipment_id, request.field("code")[:64], key)
        except forms.FormInvalid as invalid:
            return self._pickups_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, f"pickup_{action.replace('-', '_')}")
            if kind.status in (401, 403):
                raise
            text = _problem_text(view, kind.code, error)
            if isinstance(error, PickupCodeRefused) and view.t.has(f"problem.{kind.code}"):  # said in the operator's language, with when to try again
                text = view.t(f"problem.{kind.code}") + (
                    f": {view.t('pickups.locked_until', when=view.formatter.when(error.locked_until))}"
                    if error.locked_until else "")
            return self._pickups_page(view, kind.status, error=text)
        self.log.info("console action", extra={"action": f"pickup_{action.replace('-', '_')}"})
        return redirect(view.url(f"{ROOT}/pickups", location=location, done=f"pickup_{action.replace('-', '_')}"))

    def _store_pickups(self) -> StorePickups:
        if self.office.store_pickups is None:
            raise OrderNotFound("store pickup is not configured here")
        return self.office.store_pickups

    def _warehouse(self) -> Warehouse:
        if self.office.warehouse is None:
            raise OrderNotFound("pick and pack is not configured here")
        return self.office.warehouse

    # --- replenishment: reorder points and targets, what to order, suggested transfers ------------------------------
    @route("GET", "/replenishment")
    def replenishment(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._replenishment_page(view, 200, notice=_notice(view))

    def _replenishment_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        return self.page(view, "replenishment.html", status=status, title=view.t("replenishment.title"),
                         report=self._replenishment().report(view.actor), **extra)

    @route("POST", "/replenishment/(?P<action>plan|approve)")
    def replenishment_act(self, view: View, match: re.Match[str]) -> WebResponse:
        actor, request, action = view.actor, view.request, match["action"]
        key = request.field(KEY_FIELD)
        try:
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            sku = request.field("sku").strip().upper()
            if action == "plan":
                self.office.stock.set_plan(actor, key, sku, request.field("location").strip(),
                                           forms.level(request, "reorder_point"), forms.level(request, "target"),
                                           request.field("reason"))
            else:
                self._replenishment().approve(actor, key, sku, request.field("from_location").strip(),
                                              request.field("to_location").strip(), forms.count(request, "quantity"))
        except forms.FormInvalid as invalid:
            return self._replenishment_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, f"replenishment_{action}")
            if kind.status == 403:
                return self._domain_error(view, error)
            return self._replenishment_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": f"replenishment_{action}"})
        return redirect(view.url(f"{ROOT}/replenishment", done="set_plan" if action == "plan" else "approve_transfer"))

    def _replenishment(self) -> Replenishment:
        if self.office.replenishment is None:
            raise OrderNotFound("replenishment is not configured here")
        return self.office.replenishment

    @route("GET", "/operations")
    def operations(self, view: View, _: re.Match[str]) -> WebResponse:
        days = view.request.arg("days")
        window = int(days) if days.isdigit() and 1 <= int(days) <= 90 else 30
        figures = self.office.operations(view.actor, datetime.now(UTC), window)
        t, f = view.t, view.formatter
        longest = max((d.p95_s or 0 for d in figures.stage_durations), default=0)
        unit_name, unit = ("hours", 3600) if longest >= 7200 else ("minutes", 60) if longest >= 120 else ("seconds", 1)
        chart = {
            "rtl": f.direction == "rtl",
            "font": "Noto Sans Arabic" if f.language == "ar" else "Noto Sans",
            "digits": f.digits,
            "locale": "ar-SA-u-nu-" + f.digits if f.language == "ar" else "en-US",
            "status": {"label": t("ops.orders_by_status"),
                       "labels": [t(f"status.{s.value}") for s in figures.by_status],
                       "values": list(figures.by_status.values())},
            "stages": {"labels": [t(f"stage.{d.stage.value}") for d in figures.stage_durations],
                       "p50": [round((d.p50_s or 0) / unit, 2) for d in figures.stage_durations],
                       "p95": [round((d.p95_s or 0) / unit, 2) for d in figures.stage_durations],
                       "p50_label": t("ops.p50", unit=t(f"unit.{unit_name}")),
                       "p95_label": t("ops.p95", unit=t(f"unit.{unit_name}"))},
            "reasons": {"label": t("ops.by_reason"),
                        "labels": [t(f"return_reason.{reason.value}") for reason in figures.returns.by_reason],
                        "values": [round((rate.rate or 0) * 100, 1) for rate in figures.returns.by_reason.values()]},
        }
        return self.page(view, "operations.html", title=view.t("ops.title"), figures=figures, chart=chart,
                         days=window, placed=sum(figures.by_status.values()),
                         outbox=os.environ.get(LOCAL_OUTBOX_PATH))

    @route("GET", "/audit")
    def audit(self, view: View, _: re.Match[str]) -> WebResponse:
        actor = view.actor
        actor_id = view.request.arg("actor") or actor.user_id
        cursor = view.request.arg("cursor") or None
        entries, next_cursor = self.office.audit_trail.by_actor(actor, actor_id, 50, cursor)
        return self.page(view, "audit.html", title=view.t("audit.title"), entries=entries, next_cursor=next_cursor,
                         actor_id=actor_id, mine=actor_id == actor.user_id, cursor=cursor)

    # --- cash on delivery: couriers' remittances ----------------------------------------------------------------
    @route("GET", "/cod")
    def cod(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._cod_page(view, 200, notice=_notice(view))

    def _cod_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        remittances = self._remittances()
        overview = remittances.overview(view.actor, datetime.now(UTC))
        return self.page(view, "remittances.html", status=status, title=view.t("cod.title"), overview=overview,
                         form=view.request.form, **extra)

    @route("POST", "/cod/remittances")
    def import_remittance(self, view: View, _: re.Match[str]) -> WebResponse:
        """A courier's remittance file, pasted or read from a file into the form: reconciled, then its report."""
        request = view.request
        try:
            content = request.field("content")
            if not content.strip():
                raise forms.FormInvalid([("content", "paste the courier's CSV file")])
            report = self._remittances().import_file(view.actor, request.field("file_name").strip()[:200]
                                                     or "remittance.csv", content)
        except forms.FormInvalid as invalid:
            return self._cod_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, "import_remittance")
            if kind.status == 403:
                return self._domain_error(view, error)
            return self._cod_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": "import_remittance", "duplicate": report.duplicate})
        done = "remittance_duplicate" if report.duplicate else "remittance_imported"
        return redirect(view.url(f"{ROOT}/cod/remittances/{report.digest}", done=done))

    @route("GET", "/cod/remittances/(?P<digest>[0-9a-f]{32})")
    def remittance(self, view: View, match: re.Match[str]) -> WebResponse:
        report = self._remittances().report(view.actor, match["digest"])
        return self.page(view, "remittance.html", title=view.t("cod.report_title", name=report.file_name),
                         report=report, notice=_notice(view))

    # --- stock feeds: an ERP's or a 3PL's stock, uploaded ---------------------------------------------------------
    @route("GET", "/feeds")
    def feeds(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._feeds_page(view, 200, notice=_notice(view))

    def _feeds_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        return self.page(view, "stock_feeds.html", status=status, title=view.t("feeds.title"),
                         feeds=self._stock_feeds().recent(view.actor), form=view.request.form, **extra)

    @route("POST", "/feeds")
    def import_feed(self, view: View, _: re.Match[str]) -> WebResponse:
        """A stock feed, pasted or read from a file into the form: applied row by row, then its report."""
        from dawra.domain.stock_feeds import FeedFormat, format_of

        request = view.request
        try:
            feed_id, content = request.field("feed_id").strip(), request.field("content")
            file_name = request.field("file_name").strip()[:200] or "feed.csv"
            if not content.strip():
                raise forms.FormInvalid([("content", "paste the feed or choose its file")])
            fmt = format_of(file_name) or (FeedFormat.JSON if content.lstrip().startswith(("[", "{"))
                                           else FeedFormat.CSV)
            report = self._stock_feeds().upload(view.actor, feed_id, file_name, fmt, content)
        except forms.FormInvalid as invalid:
            return self._feeds_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, "import_feed")
            if kind.status == 403:
                return self._domain_error(view, error)
            return self._feeds_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": "import_feed", "duplicate": report.duplicate})
        done = "feed_duplicate" if report.duplicate else "feed_imported"
        return redirect(view.url(f"{ROOT}/feeds/{report.ref}", done=done))

    @route("GET", "/feeds/(?P<ref>[0-9a-f]{32})")
    def feed(self, view: View, match: re.Match[str]) -> WebResponse:
        report = self._stock_feeds().report(view.actor, match["ref"])
        return self.page(view, "stock_feed.html", title=view.t("feeds.report_title", name=report.file_name),
                         report=report, notice=_notice(view))

    def _stock_feeds(self) -> StockFeedImports:
        if self.office.stock_feeds is None:
            raise OrderNotFound("stock feeds are not configured here")
        return self.office.stock_feeds

    # --- business accounts: terms, payments received ----------------------------------------------------------------
    @route("GET", "/accounts")
    def accounts(self, view: View, _: re.Match[str]) -> WebResponse:
        return self._accounts_page(view, 200, notice=_notice(view))

    def _accounts_page(self, view: View, status: int, **extra: Any) -> WebResponse:
        business = self._business()
        authorize(view.actor, Permission.MANAGE_ACCOUNTS)
        customer = (view.request.arg("customer") or view.request.field("customer_id")).strip()[:64]
        account, history = None, []
        if re.fullmatch(CUSTOMER_ID, customer):
            with contextlib.suppress(AccountNotFound):  # none yet: the form opens one
                account, history = business.view(view.actor, customer), business.history(view.actor, customer)
        return self.page(view, "accounts.html", status=status, title=view.t("accounts.title"), customer=customer,
                         account=account, history=history, currencies=CURRENCIES, form=view.request.form, **extra)

    @route("POST", "/accounts/(?P<action>save|payment)")
    def account_act(self, view: View, match: re.Match[str]) -> WebResponse:
        """A manager opens or changes an account, or records a payment received against an order on account."""
        request, business, action = view.request, self._business(), match["action"]
        key = request.field(KEY_FIELD)
        try:
            if not 8 <= len(key) <= 128:
                raise forms.FormInvalid([(KEY_FIELD, "missing")])
            if action == "save":
                customer, asked = account_request(request)
                if not re.fullmatch(CUSTOMER_ID, customer):
                    raise forms.FormInvalid([("customer_id", "letters, digits, - and _ (up to 64)")])
                business.save(view.actor, key, customer, asked.details(), asked.reason)
                target = view.url(f"{ROOT}/accounts", customer=customer, done="account_saved")
            else:
                order_id = request.field("order_id").strip()
                if not re.fullmatch(ORDER_ID, order_id):
                    raise forms.FormInvalid([("order_id", "an order id: ord_ and 32 hex digits")])
                order = self.office.view_order(view.actor, order_id).order
                paid = payment_request(request, order.currency)
                business.record_payment(view.actor, order_id, key, paid.amount, paid.reference, paid.invoice_number)
                target = view.url(f"{ROOT}/orders/{order_id}", done="payment_recorded")
        except forms.FormInvalid as invalid:
            return self._accounts_page(view, 422, error=view.t("error.invalid"), problems=invalid.problems)
        except DomainError as error:
            kind = self._refusal(error, f"account_{action}")
            if kind.status == 403:
                return self._domain_error(view, error)
            return self._accounts_page(view, kind.status, error=_problem_text(view, kind.code, error))
        self.log.info("console action", extra={"action": f"account_{action}"})
        return redirect(target)

    def _business(self) -> BusinessAccounts:
        if self.office.accounts is None:
            raise OrderNotFound("business accounts are not configured here")
        return self.office.accounts

    def _remittances(self) -> Remittances:
        if self.office.remittances is None:
            raise OrderNotFound("remittances are not configured here")
        return self.office.remittances


def show(value: object) -> str:
    """An audit entry's before/after value as one line of text (an address's parts, a map of lines)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" if isinstance(v, int | dict) else str(v) for k, v in value.items()
                         if v not in (None, ""))
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return "—" if value is None else str(value)


def reference(order_id: str) -> str:
    """The short reference customers are given (dawra.rendering.order_reference)."""
    return "#" + order_id.removeprefix("ord_")[:8].upper()


@dataclass(frozen=True)
class Allowed:
    """Which action forms an order's page shows: the role allows it and the order's status does."""

    cancel: bool
    cancel_line: bool
    refund: bool
    change_address: bool
    resend: bool
    note: bool
    hold: bool
    release: bool
    refundable: int  # minor units still refundable
    reject: bool = False  # say no to a held order (a fraud review rejected): cancelled through compensation

    @property
    def any_action(self) -> bool:
        return any((self.cancel, self.refund, self.change_address, self.resend, self.note, self.hold, self.release,
                    self.reject))


def _allowed(actor: Actor, order: Order) -> Allowed:
    not_shipped = not order.shipped
    kind = order.held_as  # who decides a hold depends on its kind (dawra.domain.holds)
    decides = (actor.may(Permission.HOLD) and order.can(OrderEvent.RELEASE_HOLD)
               and (kind is None or actor.may(policy(kind).decided_by)))
    refundable = order.payment.captured.amount - order.payment.refunded.amount
    return Allowed(
        cancel=actor.may(Permission.CANCEL) and order.can(OrderEvent.REQUEST_CANCEL) and not_shipped
        and not order.cancellation_requested,
        cancel_line=actor.may(Permission.CANCEL) and order.can(OrderEvent.CANCEL_LINE) and len(order.lines) > 1,
        refund=actor.may(Permission.REFUND) and order.can(OrderEvent.REFUND) and refundable > 0,
        change_address=actor.may(Permission.CHANGE_ADDRESS) and order.can(OrderEvent.CHANGE_ADDRESS) and not_shipped,
        resend=actor.may(Permission.RESEND_MESSAGE) and order.can(OrderEvent.RESEND_MESSAGE),
        note=actor.may(Permission.ADD_NOTE) and order.can(OrderEvent.ADD_NOTE),
        hold=actor.may(Permission.HOLD) and order.can(OrderEvent.HOLD),
        release=decides and not order.cancellation_requested,
        reject=decides and not order.cancellation_requested and kind is not None and kind != HoldKind.OPERATOR,
        refundable=refundable)


@dataclass(frozen=True)
class ReturnActions:
    """One return on the order's page, and which of its forms the operator sees."""

    ret: Return
    decide: bool  # an agent's approval or decline (a request the policy sends to a person)
    receive: bool  # a store drop-off taken in
    inspect: bool  # the warehouse's verdict per line
    settle_claim: bool = False  # a claim its policy left to a person: refund, reship or decline


def _return_actions(actor: Actor, order: Order, enabled: bool) -> list[ReturnActions]:
    """The order's returns, newest first, with the forms the operator's role and each return's status allow."""
    newest = sorted(order.returns, key=lambda r: (r.requested_at, r.return_id), reverse=True)
    warehouse = enabled and actor.may(Permission.ADJUST_STOCK)
    return [ReturnActions(
        ret=ret,
        decide=enabled and actor.may(Permission.REFUND) and ret.status == ReturnStatus.REQUESTED and not ret.is_claim,
        settle_claim=enabled and actor.may(Permission.REFUND) and ret.status == ReturnStatus.REQUESTED
        and ret.is_claim,
        receive=warehouse and ret.method == ReturnMethod.STORE and ret.status == ReturnStatus.AWAITING_DROP_OFF,
        inspect=warehouse and ret.status == ReturnStatus.RECEIVED) for ret in newest]


def _inspection(request: WebRequest) -> dict[str, tuple[InspectionOutcome, str | None]]:
    """The inspection form: per line `outcome.<sku>` (sellable, damaged, ...) and `note.<sku>` (what was seen)."""
    found: dict[str, tuple[InspectionOutcome, str | None]] = {}
    wrong: list[tuple[str, str]] = []
    for name in sorted(request.form):
        if not name.startswith("outcome."):
            continue
        sku, outcome = name.removeprefix("outcome."), request.field(name)
        note = request.field(f"note.{sku}").strip()
        if outcome not in set(InspectionOutcome):
            wrong.append((f"outcome.{sku}", "choose what was found"))
        elif len(note) > 500:
            wrong.append((f"note.{sku}", "at most 500 characters"))
        else:
            found[sku] = (InspectionOutcome(outcome), note or None)
    if wrong or not found:
        raise forms.FormInvalid(wrong or [("outcome", "choose what was found for each line")])
    return found


def _notice(view: View) -> str | None:
    """What the action just done says (the page a POST redirected to names it: ?done=<action>)."""
    done = view.request.arg("done")
    return view.t(f"done.{done}") if done and view.t.has(f"done.{done}") else None


def _problem_text(view: View, code: str, error: DomainError) -> str:
    title = view.t(f"problem.{code}") if view.t.has(f"problem.{code}") else view.t("error.refused")
    return f"{title}: {error.message}"


def _safe_next(view: View, target: str) -> str:
    """Only a path of the console itself: never another site (an open redirect)."""
    if target.startswith(ROOT) and "//" not in target and "\\" not in target and "\n" not in target:
        return view.request.base + target
    return view.url(ROOT)


def _loggable(path: str) -> str:
    """A path without anything a customer or an operator typed in it (order ids are random, not personal)."""
    return path if re.fullmatch(r"[a-z0-9/_-]{0,200}", path) else "<path>"

