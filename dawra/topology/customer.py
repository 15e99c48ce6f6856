"""Customer: the order page a customer opens from any message (a signed link, no account), its forms, the same as JSON
for a storefront, and the guest lookup that sends the link again.

The routes have no authorizer: a customer has no AWS credentials and no Cognito session. The function itself
verifies the link token on every request (HMAC with the order-link secret, expiry, the order's link version) and a
CSRF token on every form; a bad token of any kind is the same 404. The secret is read by the notifier too, which
signs the link every message carries. The link's base URL, the shop's name and its support contact are deploy
parameters (on the local stack, the base URL is the local gateway's)."""

from __future__ import annotations

from dawra.contracts import env as E

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN, LIFECYCLE
from .model import Bucket, Function, Grant, HttpApi, HttpRoute, Parameter, Ref, Route, Secret, arn
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .returns import RETURN_LIFECYCLE, START_RETURN_LIFECYCLE

SECRETS = (
    Secret(id="order-link-key", name="dawra/customer/order-link-key",
           purpose="HMAC key for customers' order links and the CSRF tokens of the order page's forms."),
)
READ_LINK_KEY = Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", "order-link-key"),))

SITE_URL = Parameter(
    id="customer-site-url",
    # Replaced on the local stack by its gateway's URL (dawra/local/stack.py), so a link from the outbox opens.
    local_value="http://127.0.0.1:8080",
    purpose="Public base URL of the order page links in customer messages: the API's stage URL (stack output ApiUrl, "
            "without the trailing slash) or a custom domain.",
)
SHOP_NAME = Parameter(id="shop-name", local_value="Dawra Demo Shop",
                      purpose="The shop's name, in every customer message and on the order page.")
SUPPORT_CONTACT = Parameter(id="support-contact", local_value="help@shop.dawra.example",
                            purpose="How customers reach support (an email address or a phone number), in every "
                                    "message and on the order page.")
PARAMETERS = (SITE_URL, SHOP_NAME, SUPPORT_CONTACT)

# What the notifier and the order page both need to sign links and to name the shop.
LINKS: dict[str, Ref | str] = {
    E.ORDER_LINK_KEY_SECRET: Ref(kind="secret", id="order-link-key"),
    E.CUSTOMER_SITE_URL: Ref(kind="parameter", id="customer-site-url", attr="value"),
    E.SHOP_NAME: Ref(kind="parameter", id="shop-name", attr="value"),
    E.SUPPORT_CONTACT: Ref(kind="parameter", id="support-contact", attr="value"),
}

# The order's tax invoices' and credit notes' PDFs, drawn on their first download and kept (decision 87).
DOCUMENTS = Bucket(id="documents", name="dawra-documents",
                   purpose="Rendered tax invoices and credit notes (PDF), drawn once on first download and answered "
                           "from here after; the documents themselves are items of the orders table.")
BUCKETS = (DOCUMENTS,)
KEEP_DOCUMENTS = Grant(actions=("s3:GetObject", "s3:PutObject"),
                       resources=(arn("bucket", DOCUMENTS.id, "/tax-documents/*"),))

# The return label's own origin (decision 78): the REST API answers a proxy result as binary only when the request's
# first Accept type is a binary media type, which a link's navigation (text/html first) never is; an HTTP API answers
# the PDF's bytes whatever the browser asks for. (Not a Lambda function URL: there are none in me-central-1.)
RETURN_LABEL = Function(
    id="return-label",
    name="dawra-return-label",
    code="functions/return_label",
    handler="app.handler",
    # Drawing the PDF (fpdf2, HarfBuzz) is CPU-bound; Lambda's CPU share grows with memory (docs/deploy.md, Sizing).
    memory_mb=1024,
    timeout_s=10,
    # Only what the label reads: the order and its returns, the location the parcel goes back to, the link's key, the
    # shop's name printed on it; and the order's tax documents, whose PDFs it keeps in the documents bucket.
    environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE,
                 E.ORDER_LINK_KEY_SECRET: Ref(kind="secret", id="order-link-key"),
                 E.SHOP_NAME: Ref(kind="parameter", id="shop-name", attr="value"),
                 E.DOCUMENTS_BUCKET: Ref(kind="bucket", id=DOCUMENTS.id)},
    grants=(READ_ORDERS, READ_INVENTORY, READ_LINK_KEY, KEEP_DOCUMENTS),
    purpose="A return's printable label (PDF), and the order's tax invoices and credit notes (PDF), behind its own "
            "HTTP API, for the order the link opens.",
)

LABEL_API = HttpApi(
    id="return-label-api",
    name="dawra-return-label",
    routes=(HttpRoute(method="GET", path="/my-order/{token}/returns/{return_id}/label.pdf", function=RETURN_LABEL.id,
                      purpose="A return's label (PDF), the order page's \"Download the label\" link."),
            HttpRoute(method="GET", path="/my-order/{token}/invoices/{number}/pdf", function=RETURN_LABEL.id,
                      purpose="A tax invoice or credit note of the order (PDF), the order page's and the invoice "
                              "page's PDF links.")),
    open_reason="The return label and the order's tax documents are downloaded from links on the customer's order "
                "page by someone with no account: the order link's token in the path is the credential, which the "
                "function verifies (HMAC, expiry, the order's link version) through the order page's own code; it "
                "writes only a rendered PDF to the documents bucket and answers 404 for any other link, return or "
                "document.",
    purpose="The return label's own origin: answers the PDF's bytes to a browser, whatever its Accept header.",
)
HTTP_APIS = (LABEL_API,)

FUNCTIONS = (
    Function(
        id="customer",
        name="dawra-customer",
        code="functions/customer",
        handler="app.handler",
        memory_mb=512,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **LIFECYCLE, **RETURN_LIFECYCLE, **OPS_ALERTS,
                     **LINKS, E.LABEL_URL_BASE: Ref(kind="http_api", id=LABEL_API.id, attr="url")},
        # The customer's own actions (cancel, address, contact) change the order, its stock and its parked
        # shipments as an operator's do; the lookup counts requests and records the link request in the orders table;
        # a return request starts the return's workflow.
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, ANSWER_TASK_TOKEN, PUBLISH_OPS_ALERT,
                READ_LINK_KEY, START_RETURN_LIFECYCLE),
        purpose="The customer's order page (signed link), its forms, the same as JSON, and the guest lookup.",
    ),
    RETURN_LABEL,
)

PAGE_PURPOSE = "The customer's order page and its forms (the function verifies the signed link and CSRF tokens)."
ROUTES = (
    Route(method="GET", path="/my-order", target_kind="function", target="customer", authorization="none",
          purpose="Guest lookup form: an order reference and the email or phone it was placed with."),
    Route(method="POST", path="/my-order/lookup", target_kind="function", target="customer", authorization="none",
          purpose="Guest lookup: sends the order's link to the order's contact; the answer never says if it matched."),
    Route(method="GET", path="/my-order/{token}", target_kind="function", target="customer", authorization="none",
          purpose=PAGE_PURPOSE),
    Route(method="POST", path="/my-order/{token}/{action}", target_kind="function", target="customer",
          authorization="none", purpose=PAGE_PURPOSE),
    Route(method="GET", path="/my-order/{token}/{action}", target_kind="function", target="customer",
          authorization="none", purpose="The return form of the order (what may go back, or why not)."),
    Route(method="GET", path="/my-order/{token}/returns/{return_id}/{file}", target_kind="function",
          target="customer", authorization="none",
          purpose="A return's printable label (PDF), or the days its courier may be moved to (`pickup`), for a "
                  "return of the order the link opens."),
    Route(method="POST", path="/my-order/{token}/returns/{return_id}/{file}", target_kind="function",
          target="customer", authorization="none",
          purpose="Another day for a return's courier (`pickup`; CSRF token and form key), for a return of the "
                  "order the link opens."),
    Route(method="GET", path="/my-order/{token}/invoices/{number}", target_kind="function", target="customer",
          authorization="none", purpose="A tax invoice or credit note of the order the link opens, as a page."),
    Route(method="GET", path="/customer/order", target_kind="function", target="customer", authorization="none",
          purpose="The order page as JSON for a storefront (the link token as a bearer token)."),
    Route(method="POST", path="/customer/order-link", target_kind="function", target="customer",
          authorization="none", purpose="Guest lookup as JSON (202 whether or not anything matched)."),
    Route(method="GET", path="/customer/static/{name}", target_kind="function", target="customer",
          authorization="none", purpose="The order page's stylesheet (no data)."),
)
