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
- `GET /my-order/<token>/return`, `POST /my-order/<token>/return`: a return (dawra/web/customer_returns.py): the
  form (what may go back, or why not), the review with the refund estimate (`step=review`), and the confirmation
  (`step=confirm`, once per request key), which redirects to the order page's section for the return.
- `GET /my-order/<token>/returns/<return_id>/label.pdf`: the printable return label (dawra/web/return_label.py), for
  a return of that order whose label can be used; 404 for anything else. The page's link points at the same path on
  the return label's own HTTP API (`label_base`; `label_download` in the return-label function, decision 78), which
  answers the PDF's bytes to a browser where the REST API would answer base64 text.
- `GET|POST /my-order/<token>/returns/<return_id>/pickup`: another day for a return's courier (the carrier's days;
  checked as the other forms, CSRF purpose `pickup`, once per form key), then the return's section of the page.
- `GET /my-order/<gift token>/gift-receipt`: a gift's receipt for its recipient (what is in the parcel, no prices),
  under a token of its own scope (dawra.domain.order_link): it opens the receipt only, so the buyer may pass it on.
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from markupsafe import Markup
from pydantic import ValidationError

from dawra.app.customer import CustomerActions, CustomerOutcome
from dawra.app.feedback import GiveFeedback
from dawra.app.order_page import GIFT_RECEIPT_SUFFIX, NO_SUCH_ORDER, OpenOrderLink, OrderLinks, SendOrderLink
from dawra.contracts import problems
from dawra.contracts.customer import Stage, customer_view, label_available, stage_of, visible
from dawra.domain import order_link
from dawra.domain.cod import confirmation_code
from dawra.domain.customer import Address
from dawra.domain.errors import DomainError, IdempotencyKeyReused, OrderNotFound
from dawra.domain.feedback import Feedback
from dawra.domain.holds import HoldKind
from dawra.domain.order import Order, OrderEvent, OrderStatus
from dawra.domain.return_lines import stores
from dawra.domain.returns import ClaimReason, ClaimRemedy, PickupSlot, Return, ReturnReason, pickup_fixed
from dawra.domain.timeline import TimelineEvent, TimelineKind
from dawra.ports import ReturnBooking
from dawra.rendering import order_reference
from dawra.web.customer_claims import CLAIM_FORM, CustomerClaims, read_claim_form
from dawra.web.customer_returns import (
    CustomerPickups,
    CustomerReturns,
    Locations,
    masked_iban,
    read_return_form,
)
from dawra.web.formatting import Formatter, language_or_default
from dawra.web.forms import ADDRESS_FIELDS, FormInvalid
from dawra.web.http import WebRequest, WebResponse, redirect, with_query
from dawra.web.i18n import Translator
from dawra.web.invoice_view import words as invoice_words
from dawra.web.invoices import NUMBER, InvoicePages, document_rows, pdf_name
from dawra.web.render import render, static_file, static_version
from dawra.web.return_label import (
    LabelParty,
    ReturnLabel,
    destination_of,
    label_lines,
    party_of,
    render_return_label,
)
from dawra.web.security import CSRF_FIELD, KEY_FIELD, cookie, new_nonce

PAGE = "/my-order"
STATIC = "/customer/static/"
STATIC_FILES = ("customer.css",)
LOOKUP_COOKIE = "__Host-dawra-lookup"
LOOKUP_COOKIE_MAX_AGE_S = 30 * 60
BOOK = "customer"
LINK_IN_PATH = r"[A-Za-z0-9_-]{1,100}"  # what may be a link token; read() decides if it is one
FORMS = ("cancel", "address", "contact", "feedback", "confirm")  # confirm: cash on delivery, before it ships
RETURN_FORM = "return"  # its own way through: a form, a review, a confirmation (see return_form)
RETURN_ID = r"ret_[0-9a-f]{20}"
PICKUP_FORM = "pickup"  # another day for a return's courier (see pickup_form)
LABEL_PATH = rf"{PAGE}/(?P<token>{LINK_IN_PATH})/returns/(?P<ret>{RETURN_ID})/label\.pdf"
# A tax invoice or credit note of the order (decision 87): its page, and its PDF (served, like the label, by the
# label's HTTP API on AWS: the REST API would answer a browser base64 text).
INVOICE_PATH = rf"{PAGE}/(?P<token>{LINK_IN_PATH})/invoices/(?P<number>{NUMBER})"
INVOICE_PDF_PATH = rf"{INVOICE_PATH}/pdf"
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
    def __init__(self, open_link: OpenOrderLink, send_link: SendOrderLink | None, links: OrderLinks,
                 actions: CustomerActions | None, log: Log, give_feedback: GiveFeedback | None = None,
                 returns: CustomerReturns | None = None, locations: Locations | None = None, label_base: str = "",
                 invoices: InvoicePages | None = None):
        """send_link None: no guest lookup (the return-label function's site). label_base: the return label's HTTP
        API URL the page's label (and invoice PDF) links start with ("": this site's own paths). invoices None: the
        order's tax documents are neither listed nor served."""
        self.open_link, self.send_link, self.links, self.actions, self.log = open_link, send_link, links, actions, log
        self.give_feedback, self.returns, self.locations = give_feedback, returns, locations or (lambda: [])
        self.label_base = label_base.rstrip("/")
        self.invoices = invoices

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
            label = re.fullmatch(LABEL_PATH, path)
            if label and request.method == "GET":
                return self.return_label(request, label["token"], label["ret"])
            invoice = re.fullmatch(INVOICE_PATH, path) or re.fullmatch(INVOICE_PDF_PATH, path)
            if invoice and request.method == "GET":
                return self.invoice(request, invoice["token"], invoice["number"], path.endswith("/pdf"))
            moving = re.fullmatch(rf"{PAGE}/(?P<token>{LINK_IN_PATH})/returns/(?P<ret>{RETURN_ID})/pickup", path)
            if moving and request.method in ("GET", "POST"):
                return self.pickup_form(request, moving["token"], moving["ret"])
            gift = re.fullmatch(rf"{PAGE}/(?P<token>{LINK_IN_PATH}){GIFT_RECEIPT_SUFFIX}", path)
            if gift and request.method == "GET":
                return self.gift_receipt(request, gift["token"])
            match = re.fullmatch(rf"{PAGE}/(?P<token>{LINK_IN_PATH})(?:/(?P<form>[a-z]+))?", path)
            if match and request.method == "GET" and not match["form"]:
                return self.order_page(request, match["token"])
            if match and match["form"] == RETURN_FORM and request.method in ("GET", "POST"):
                return self.return_form(request, match["token"])
            if match and match["form"] == CLAIM_FORM and request.method in ("GET", "POST"):
                return self.claim_form(request, match["token"])
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
        receipt = self.links.gift_receipt_url(order) if _has_gift_receipt(order) else None
        return customer_view(order, timeline, self._offers(order), gift_receipt_url=receipt).model_dump(mode="json")

    def _offers(self, order: Order) -> frozenset[str]:
        offered = self.actions.offers(order) if self.actions is not None else frozenset()
        offered = offered | {RETURN_FORM} if self._can_return(order) else offered
        return offered | {CLAIM_FORM} if self._can_claim(order) else offered

    @property
    def _claims(self) -> CustomerClaims | None:
        return self.returns if isinstance(self.returns, CustomerClaims) else None

    def _can_claim(self, order: Order) -> bool:
        """A delivered unit is within its claim window and in no return or claim yet (asked only once a parcel
        has arrived)."""
        claims = self._claims
        if claims is None or not order.can(OrderEvent.REQUEST_RETURN):
            return False
        if not any(s.delivered_at for s in order.shipments):
            return False
        return claims.claimable_lines(order.order_id).open

    def _can_return(self, order: Order) -> bool:
        """Something of the order can be returned now (read only once the order's status allows a return and a
        parcel has arrived: most pages never ask)."""
        if self.returns is None or not order.can(OrderEvent.REQUEST_RETURN):
            return False
        if not any(s.delivered_at for s in order.shipments):
            return False
        return any(line.quantity for line in self.returns.returnable_lines(order.order_id).lines)

    def order_page(self, request: WebRequest, token: str, status: int = 200, **extra: Any) -> WebResponse:
        order, timeline = self.open_link(token)
        reader = Reader(request, request.arg("lang") or request.field("lang") or order.contact.language)
        return self._render_order(reader, token, order, timeline, status, **extra)

    def _render_order(self, reader: Reader, token: str, order: Order, timeline: list[TimelineEvent],
                      status: int = 200, **extra: Any) -> WebResponse:
        offers = self._offers(order)
        receipt = reader.url(self._gift_receipt_path(order)) if _has_gift_receipt(order) else None
        view = customer_view(order, timeline, offers, reader.f.language, gift_receipt_url=receipt)
        done = reader.request.arg("done")
        notice = reader.t(f"done.{done}") if done and reader.t.has(f"done.{done}") else None
        forms = {purpose: order_link.form_token(self.key, token, purpose) for purpose in FORMS}
        unshipped = [s for s in order.active_shipments if not s.has_shipped]
        titles = {line.sku: line.title_in(reader.f.language) for line in [*order.cancelled_lines, *order.lines]}
        extra.setdefault("form", {})
        extra.setdefault("quote", None)
        # The reference isolated left-to-right (U+2066..U+2069), so "#1A2B3C4D" keeps its # in front in Arabic.
        title = reader.t("order.title", ref=f"\u2066{view.reference}\u2069")
        places = {place.location_id: place for place in self.locations()} if order.returns else {}
        return self.page(reader, "order.html", status=status, title=title,
                         order=order, view=view, offers=offers, events=visible(timeline), stage=stage_of(order),
                         Stage=Stage, forms=forms, token=token, unshipped=unshipped, titles=titles,
                         action_url=lambda form: reader.url(f"{PAGE}/{token}/{form}"),
                         return_events=_by_return(visible(timeline)), places=places,
                         label_url=lambda ret: self._label_url(reader, token, ret),
                         pickup_url=lambda ret: reader.url(f"{PAGE}/{token}/returns/{ret}/{PICKUP_FORM}")
                         if self._pickups is not None else None,
                         documents=document_rows(order, reader.f.language,
                                                 lambda number: reader.url(f"{PAGE}/{token}/invoices/{number}"),
                                                 lambda number: self._invoice_pdf_url(reader, token, number))
                         if self.invoices is not None else [], doc_words=invoice_words(reader.f.language),
                         pickup_qr=_pickup_qr(order),
                         cod_code=confirmation_code(order.order_id)
                         if order.held_as == HoldKind.COD_CONFIRMATION and self.actions is not None else None,
                         notice=extra.pop("notice", notice), **extra)

    # --- a gift's receipt -------------------------------------------------------------------------------------
    def _gift_receipt_path(self, order: Order) -> str:
        token = order_link.issue_for(self.key, order.order_id, order.link_version, self.links.clock.now(),
                                     scope="gift_receipt")
        return f"{PAGE}/{token}{GIFT_RECEIPT_SUFFIX}"

    def gift_receipt(self, request: WebRequest, token: str) -> WebResponse:
        """What is in a gift's parcel, never what it cost, for its recipient: opened only by the receipt's own link
        (an order link opens no receipt, a receipt's link no order page); anything else is the one 404."""
        order = self.open_link.order(token, scope="gift_receipt")
        if not _has_gift_receipt(order) or order.gift is None:
            raise OrderNotFound(NO_SUCH_ORDER)
        reader = Reader(request, request.arg("lang") or order.contact.language)
        language = reader.f.language
        lines = [{"sku": line.sku, "title": line.title_in(language), "quantity": line.quantity}
                 for line in order.lines]  # no price reaches the template
        return self.page(reader, "gift_receipt.html", title=reader.t("receipt.title"), gift=order.gift,
                         lines=lines, reference=order_reference(order.order_id), placed_at=order.placed_at)

    def act(self, request: WebRequest, token: str, form: str) -> WebResponse:
        reader = Reader(request, request.field("lang") or "en")
        if cross_site(request):
            self.log.info("customer form refused", extra={"reason": "cross-site", "form": form})
            return self._refused(reader, 403, "error.csrf")
        order = self.open_link.order(token)  # a link that opens no order: 404, before anything else
        reader = Reader(request, request.field("lang") or order.contact.language)
        if refused := self._csrf_refused(reader, token, form):
            return refused
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
                                  problems=_labelled(reader, field_problems or []),
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
        if form == "confirm":  # cash on delivery, confirmed by the customer before anything ships
            return actions.confirm_cash_on_delivery(order.order_id, key)
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

    # --- the return, claim and pickup forms' common steps --------------------------------------------------------
    def _open_form(self, request: WebRequest, token: str, form: str) -> tuple[Reader, Order] | WebResponse:
        """A form's first step: a POST from another site refused (403), then the order the link opens (404 when
        none), read in the language asked for or the customer's."""
        reader = Reader(request, request.field("lang") or request.arg("lang") or "en")
        if request.method == "POST" and cross_site(request):
            self.log.info("customer form refused", extra={"reason": "cross-site", "form": form})
            return self._refused(reader, 403, "error.csrf")
        order = self.open_link.order(token)
        return Reader(request, request.field("lang") or request.arg("lang") or order.contact.language), order

    def _csrf_refused(self, reader: Reader, token: str, form: str) -> WebResponse | None:
        """403 when the form's CSRF token is not this link's for this form; None when it is."""
        if order_link.form_token_matches(self.key, token, form, reader.request.field(CSRF_FIELD)):
            return None
        self.log.info("customer form refused", extra={"reason": "csrf", "form": form})
        return self._refused(reader, 403, "error.csrf")

    def _refusal(self, error: DomainError, message: str) -> problems.Kind:
        """A use case's refusal, logged, as its problem kind; a link that opens no order stays the 404 page."""
        if isinstance(error, OrderNotFound):
            raise error
        kind = problems.kind_of(error)
        self.log.info(message, extra={"error": type(error).__name__, "status": kind.status})
        return kind

    def _done(self, reader: Reader, token: str, form: str, outcome: str, return_id: str) -> WebResponse:
        """Done: logged, and back to the order page at the return's (or claim's) section, saying what was done."""
        self.log.info("customer action", extra={"form": form, "outcome": outcome})
        page = reader.url(f"{PAGE}/{token}", done=outcome, lang=reader.request.field("lang") or None)
        return redirect(f"{page}#return-{return_id}")

    # --- returns ----------------------------------------------------------------------------------------------
    def return_form(self, request: WebRequest, token: str) -> WebResponse:
        """GET: the form. POST: checked as the order's other forms are (cross-site, the link, the CSRF token), then
        `step=review` shows the estimate, `step=confirm` asks for the return (once per request key) and
        `step=edit` goes back to the form with the choice kept."""
        opened = self._open_form(request, token, RETURN_FORM)
        if isinstance(opened, WebResponse):
            return opened
        reader, order = opened
        if self.returns is None or not self._can_return(order):
            return self._return_page(reader, token, order, 409 if request.method == "POST" else 200)
        if request.method == "GET" or request.field("step") == "edit":
            return self._return_page(reader, token, order, form=request.form if request.method == "POST" else {})
        if refused := self._csrf_refused(reader, token, RETURN_FORM):
            return refused
        return self._return_step(reader, token, order)

    def _return_step(self, reader: Reader, token: str, order: Order) -> WebResponse:
        returns, request = self.returns, reader.request
        assert returns is not None  # noqa: S101 - return_form answers before, when the shop takes no returns
        choices = returns.returnable_lines(order.order_id)
        try:
            chosen = read_return_form(request, order, choices, self.locations(), reader.t)
            if request.field("step") != "confirm":
                estimate = returns.estimate(order.order_id, chosen.request)
                return self._return_page(reader, token, order, review=chosen, estimate=estimate,
                                         form=request.form, choices=choices)
            ret = returns.start(order.order_id, _form_key(reader), chosen.request)
        except FormInvalid as invalid:
            return self._return_page(reader, token, order, 422, choices=choices, form=request.form,
                                     error=reader.t("error.invalid"),
                                     problems=_labelled(reader, invalid.problems))
        except DomainError as error:
            kind = self._refusal(error, "customer return refused")
            said = [] if isinstance(error, IdempotencyKeyReused) or not error.field else [
                (_field_label(reader, error.field), error.message)]
            return self._return_page(reader, token, order, kind.status, choices=choices, form=request.form,
                                     error=_problem_text(reader, kind.code), problems=said)
        return self._done(reader, token, RETURN_FORM, "return_requested", ret.return_id)

    def _return_page(self, reader: Reader, token: str, order: Order, status: int = 200, **extra: Any) -> WebResponse:
        """The return form (or its review), with what may go back and why not."""
        if "choices" not in extra:
            extra["choices"] = self.returns.returnable_lines(order.order_id) if self.returns and order.can(
                OrderEvent.REQUEST_RETURN) else None
        titles = {line.sku: line.title_in(reader.f.language) for line in order.lines}
        form, review, choices = extra.setdefault("form", {}), extra.setdefault("review", None), extra["choices"]
        chosen = set(review.quantities) if review else set()
        needs_approval = bool(choices) and any(line.policy.approval_required for line in choices.lines
                                               if line.sku in chosen)
        carried = [(name, values[-1]) for name, values in form.items() if values and _carried(name)]
        exchange_titles = {item.sku: item.title_in(reader.f.language)
                           for items in (choices.exchanges.values() if choices else []) for item in items}
        places = stores(self.locations())
        title = reader.t("return.title", ref=f"\u2066{order_reference(order.order_id)}\u2069")
        return self.page(reader, "return.html", status=status, title=title, order=order, titles=titles,
                         stores=places, store_names={p.location_id: p.name for p in places},
                         csrf=order_link.form_token(self.key, token, RETURN_FORM), carried=carried,
                         reasons=[reason.value for reason in ReturnReason], needs_approval=needs_approval,
                         action=reader.url(f"{PAGE}/{token}/{RETURN_FORM}"), back=reader.url(f"{PAGE}/{token}"),
                         masked_iban=masked_iban, exchange_titles=exchange_titles, **extra)

    # --- claims without a return -------------------------------------------------------------------------------
    def claim_form(self, request: WebRequest, token: str) -> WebResponse:
        """GET: "Report a problem with your parcel". POST: checked as the order's other forms are (cross-site, the
        link, the CSRF token with purpose `claim`), then the claim asked for once per form key; the order page's
        section for it follows."""
        opened = self._open_form(request, token, CLAIM_FORM)
        if isinstance(opened, WebResponse):
            return opened
        reader, order = opened
        claims = self._claims
        if claims is None or not self._can_claim(order):
            return self._claim_page(reader, token, order, None, 409 if request.method == "POST" else 200)
        choices = claims.claimable_lines(order.order_id)
        if request.method == "GET":
            return self._claim_page(reader, token, order, choices)
        if refused := self._csrf_refused(reader, token, CLAIM_FORM):
            return refused
        try:
            asked = read_claim_form(request, choices, reader.t)
            ret = claims.start_claim(order.order_id, _form_key(reader), asked)
        except FormInvalid as invalid:
            return self._claim_page(reader, token, order, choices, 422, form=request.form,
                                    error=reader.t("error.invalid"),
                                    problems=_labelled(reader, invalid.problems))
        except DomainError as error:
            kind = self._refusal(error, "customer claim refused")
            return self._claim_page(reader, token, order, choices, kind.status, form=request.form,
                                    error=_problem_text(reader, kind.code))
        return self._done(reader, token, CLAIM_FORM, "claim_opened", ret.return_id)

    def _claim_page(self, reader: Reader, token: str, order: Order, choices: Any, status: int = 200,
                    **extra: Any) -> WebResponse:
        titles = {line.sku: line.title_in(reader.f.language) for line in order.lines}
        title = reader.t("claim.title", ref=f"\u2066{order_reference(order.order_id)}\u2069")
        extra.setdefault("form", {})
        return self.page(reader, "claim.html", status=status, title=title, order=order, titles=titles,
                         choices=choices, csrf=order_link.form_token(self.key, token, CLAIM_FORM),
                         reasons=[r.value for r in ClaimReason], remedies=[r.value for r in ClaimRemedy],
                         action=reader.url(f"{PAGE}/{token}/{CLAIM_FORM}"), back=reader.url(f"{PAGE}/{token}"),
                         **extra)

    # --- a courier pickup moved --------------------------------------------------------------------------------
    @property
    def _pickups(self) -> Any:
        """ChangePickupDay, when the shop's returns offer it (None: the page offers no other day)."""
        return self.returns.change_pickup if isinstance(self.returns, CustomerPickups) else None

    def pickup_form(self, request: WebRequest, token: str, return_id: str) -> WebResponse:
        """GET: the days the carrier offers for this return's courier (or why it cannot be moved). POST: checked as
        the order's other forms are (cross-site, the link, the CSRF token with purpose `pickup`), then the courier
        moved once per form key; the return's section of the page follows."""
        opened = self._open_form(request, token, PICKUP_FORM)
        if isinstance(opened, WebResponse):
            return opened
        reader, order = opened
        ret = next((r for r in order.returns if r.return_id == return_id), None)
        changer = self._pickups
        if ret is None or changer is None:
            raise OrderNotFound(NO_SUCH_ORDER)
        if pickup_fixed(ret) is not None:
            return self._pickup_page(reader, token, order, ret, (), 409 if request.method == "POST" else 200)
        offered = changer.offered(order.order_id, return_id)
        if request.method == "GET":
            return self._pickup_page(reader, token, order, ret, offered)
        if refused := self._csrf_refused(reader, token, PICKUP_FORM):
            return refused
        try:
            slot = PickupSlot.parse(request.field("pickup"))
            if slot is None or slot not in offered:
                raise FormInvalid([("pickup", reader.t("return.problem.pickup"))])
            changer(order.order_id, return_id, _form_key(reader), slot)
        except FormInvalid as invalid:
            return self._pickup_page(reader, token, order, ret, offered, 422, form=request.form,
                                     error=reader.t("error.invalid"),
                                     problems=_labelled(reader, invalid.problems))
        except DomainError as error:
            kind = self._refusal(error, "customer pickup refused")
            now = self.open_link.order(token).return_of(return_id)  # moved on meanwhile: say why
            return self._pickup_page(reader, token, order, now, offered, kind.status, form=request.form,
                                     error=_problem_text(reader, kind.code))
        return self._done(reader, token, PICKUP_FORM, "pickup_changed", return_id)

    def _pickup_page(self, reader: Reader, token: str, order: Order, ret: Return, offered: tuple[PickupSlot, ...],
                     status: int = 200, **extra: Any) -> WebResponse:
        extra.setdefault("form", {})
        title = reader.t("pickup.title", ref=f"\u2066{order_reference(order.order_id)}\u2069")
        return self.page(reader, "pickup.html", status=status, title=title, ret=ret, offered=offered,
                         why_not=pickup_fixed(ret),
                         missed=ret.pickup_on is not None and ret.pickup_missed_on == ret.pickup_on,
                         csrf=order_link.form_token(self.key, token, PICKUP_FORM),
                         action=reader.url(f"{PAGE}/{token}/returns/{ret.return_id}/{PICKUP_FORM}"),
                         back=reader.url(f"{PAGE}/{token}") + f"#return-{ret.return_id}", **extra)

    def return_label(self, request: WebRequest, token: str, return_id: str) -> WebResponse:
        """The label of one of this link's order's returns, as PDF; 404 for any other return, or one without a
        label that can still be used."""
        order = self.open_link.order(token)
        ret = next((r for r in order.returns if r.return_id == return_id), None)
        if ret is None or not label_available(ret):
            raise OrderNotFound(NO_SUCH_ORDER)
        language = language_or_default(request.arg("lang") or order.contact.language)
        pdf = render_return_label(self._label(order, ret, language))
        self.log.info("customer return label", extra={"bytes": len(pdf)})
        return WebResponse(status=200, body=pdf, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="return-{ret.return_id}.pdf"'})

    def invoice(self, request: WebRequest, token: str, number: str, as_pdf: bool) -> WebResponse:
        """One of the order's invoices or credit notes: its page, or its PDF (in the page's language, else the
        customer's); 404 for any document the order does not list."""
        if self.invoices is None:
            raise OrderNotFound(NO_SUCH_ORDER)
        order = self.open_link.order(token)
        reader = Reader(request, request.arg("lang") or order.contact.language)
        language = reader.f.language
        if as_pdf:
            pdf = self.invoices.pdf(order, number, language)
            self.log.info("customer tax document", extra={"bytes": len(pdf)})
            return WebResponse(status=200, body=pdf, content_type="application/pdf", headers={
                "Content-Disposition": f'attachment; filename="{pdf_name(number, language)}"'})
        context = self.invoices.page_context(order, number, language,
                                             with_query(self._invoice_pdf_url(reader, token, number), lang=language))
        title = reader.t("order.title", ref=f"\u2066{order_reference(order.order_id)}\u2069")
        return self.page(reader, "invoice.html", title=title, back=reader.url(f"{PAGE}/{token}"), **context)

    def _invoice_pdf_url(self, reader: Reader, token: str, number: str) -> str:
        path = f"{PAGE}/{token}/invoices/{number}/pdf"
        return self.label_base + path if self.label_base else reader.url(path)

    def _label_url(self, reader: Reader, token: str, return_id: str) -> str:
        path = f"{PAGE}/{token}/returns/{return_id}/label.pdf"
        return self.label_base + path if self.label_base else reader.url(path)

    def label_download(self, request: WebRequest) -> WebResponse:
        """The return-label function's one answer (decision 78): `return_label` for the label path, the same 404 for
        any other path, link or return. Errors are problem+json, not the site's pages: that origin serves no
        stylesheet or other page."""
        label = re.fullmatch(LABEL_PATH, request.path.rstrip("/"))
        invoice = re.fullmatch(INVOICE_PDF_PATH, request.path.rstrip("/"))
        try:
            if invoice is not None and request.method == "GET":
                return self.invoice(request, invoice["token"], invoice["number"], as_pdf=True)
            if label is None or request.method != "GET":
                raise OrderNotFound(NO_SUCH_ORDER)
            return self.return_label(request, label["token"], label["ret"])
        except OrderNotFound:
            return problem_response(problems.HTTP[OrderNotFound], NO_SUCH_ORDER)
        except DomainError as error:
            return problem_response(problems.kind_of(error), error.message)

    def _label(self, order: Order, ret: Return, language: str) -> ReturnLabel:
        place = next((p for p in self.locations() if p.location_id == ret.location_id), None)
        destination = destination_of(place) if place else LabelParty(name=ret.location_id)
        booking = ReturnBooking(carrier=ret.carrier or "", service=service_name(ret.carrier or ""),
                                tracking_number=ret.tracking_number or "", expires_at=ret.label_expires_at or "",
                                pickup_on=ret.pickup_on, pickup_window=ret.pickup_window)
        return ReturnLabel(return_id=ret.return_id, order_id=order.order_id, booking=booking,
                           sender=party_of(order.shipping_address), destination=destination,
                           destination_code=ret.location_id, language=language_or_default(language),
                           lines=label_lines(order, {line.sku: line.quantity for line in ret.lines}, language),
                           merchant=self.links.shop.name)

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
            if self.send_link is None:
                raise OrderNotFound(NO_SUCH_ORDER)
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


def _has_gift_receipt(order: Order) -> bool:
    """A gift that is still coming (a cancelled order's receipt would describe nothing)."""
    return order.gift is not None and order.status != OrderStatus.CANCELLED


def _address(request: WebRequest, country: str) -> Address:
    data: dict[str, Any] = {name: request.field(name).strip() or None for name in ADDRESS_FIELDS}
    try:
        return Address.model_validate({**data, "country": country})
    except ValidationError as error:
        raise FormInvalid([(".".join(str(p) for p in item["loc"]) or "form", item["msg"])
                           for item in error.errors(include_url=False, include_input=False)]) from None


def _by_return(events: list[TimelineEvent]) -> dict[str, list[TimelineEvent]]:
    """Each return's own events (oldest first), for its section of the page."""
    found: dict[str, list[TimelineEvent]] = {}
    steps = list(TimelineKind)  # the return_* kinds are declared in the order a return lives them
    for event in sorted(events, key=lambda e: (e.at, steps.index(e.kind))):  # approved with its request: after it
        if event.detail.get("return_id"):
            found.setdefault(event.detail["return_id"], []).append(event)
    return found


def _carried(name: str) -> bool:
    """A field of the return form the review hands on to the confirmation (the rest is set by the page itself)."""
    return name in ("method", "refund_method", "store", "iban", "pickup") or name.startswith(
        ("qty.", "reason.", "comment.", "exchange."))


def service_name(carrier: str) -> str:
    """What the label calls the carrier's return service (a return does not keep the booking's own name)."""
    return f"{carrier.replace('_', ' ').title()} Returns" if carrier else "Returns"


def _form_key(reader: Reader) -> str:
    """The form's request key (one per form shown: a resubmit is the same request), or why the form is refused."""
    key = reader.request.field(KEY_FIELD)
    if not 8 <= len(key) <= 128:
        raise FormInvalid([(KEY_FIELD, reader.t("error.csrf"))])
    return key


def _labelled(reader: Reader, field_problems: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(_field_label(reader, f), m) for f, m in field_problems]


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


def _pickup_qr(order: Order) -> dict[str, Markup]:
    """Each pickup shipment on its store's desk: its code as a QR (inline SVG, for the desk's scanner)."""
    from dawra.domain.shipment import ShipmentStatus
    from dawra.web.invoice_view import qr_svg

    return {s.shipment_id: Markup(qr_svg(s.pickup.code))  # noqa: S704 - segno's SVG of our own code
            for s in order.shipments
            if s.pickup is not None and s.pickup.code and s.status == ShipmentStatus.READY_FOR_PICKUP}
