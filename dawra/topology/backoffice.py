"""Back office: the operators' user pool (agent, warehouse, manager, store), the admin API and the console.

The admin API (``/admin/api/...``) sits behind API Gateway's Cognito user pools authorizer: a request without a valid
ID token of the pool never reaches the function, and the function reads the verified claims from
``requestContext.authorizer.claims``. The console (``/admin``, ``/admin/...``) is a browser's pages: a browser does
not send a bearer token on a link or a form, so its routes have no authorizer and the console verifies its own
session cookie (the ID token it was issued at sign-in) with the same checks (dawra/adapters/identity.py), and its
forms with CSRF tokens signed with the console's session key. Both run as the same code folder with the same grants.
"""

from __future__ import annotations

from dawra.contracts import env as E

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN, LIFECYCLE
from .model import Function, Grant, Parameter, Ref, Route, Secret, UserGroup, UserPool, arn
from .operations import COD_REMITTANCE, OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .risk import READ_RISK_KEY, RISK_KEY

OPERATORS = UserPool(
    id="operators",
    name="dawra-operators",
    groups=(
        UserGroup(name="agent", description="Customer-facing actions: find orders, cancel, change an address, "
                                            "resend messages, notes, holds, refunds up to the agent limit."),
        UserGroup(name="warehouse", description="Stock: levels, adjustments and transfers; pick/pack and inspection."),
        UserGroup(name="manager", description="Everything, including refunds above the agent limit and reports."),
        UserGroup(name="store", description="A store's staff: its pickup desk (mark ready, hand over by code)."),
    ),
    client_name="dawra-backoffice",
    custom_attributes=("locale",),  # "ar" or "en": the console's language for this operator
    client_read_attributes=("email", "email_verified", "custom:locale"),
    purpose="The people who run the shop (operators), their roles as groups; the admin API's authorizer and the "
            "console's sign-in.",
)
USER_POOLS = (OPERATORS,)

SECRETS = (
    Secret(id="console-session-key", name="dawra/console/session-key",
           purpose="HMAC key for console CSRF tokens."),
)

PICKUP_HOURS = Parameter(
    id="pickup-hours",
    local_value="",
    purpose="Store pickup: hours after an order is ready at a store before its customer is reminded, and before it "
            "is cancelled if nobody collected it, for every store, e.g. 'remind=48,collect=120'; empty: each store's "
            "own pickup desk days (3 and 7 by default).",
)
PARAMETERS = (PICKUP_HOURS,)
OPERATORS_POOL = {
    E.USER_POOL_ID: Ref(kind="user_pool", id="operators", attr="id"),
    E.USER_POOL_CLIENT_ID: Ref(kind="user_pool", id="operators", attr="client_id"),
}
ENVIRONMENT: dict[str, Ref | str] = {**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE, **LIFECYCLE, **OPS_ALERTS,
                                     **OPERATORS_POOL, **COD_REMITTANCE, **RISK_KEY,
                                     E.PICKUP_HOURS: Ref(kind="parameter", id="pickup-hours", attr="value")}
# READ_RISK_KEY: an agent's order for a customer is screened as a storefront's is (dawra/app/risk.py).
# An agent's order for a customer starts its lifecycle from its commit, as a storefront's does (decision 114).
GRANTS = (READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, ANSWER_TASK_TOKEN, PUBLISH_OPS_ALERT,
          READ_RISK_KEY)
READ_SESSION_KEY = Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", "console-session-key"),))

FUNCTIONS = (
    Function(
        id="admin-api",
        name="dawra-admin-api",
        code="functions/backoffice",
        handler="api.handler",
        memory_mb=512,
        timeout_s=10,
        environment=ENVIRONMENT,
        grants=GRANTS,
        purpose="Back-office API for operators (Cognito ID token): find and work orders, stock, the audit trail.",
    ),
    Function(
        id="console",
        name="dawra-console",
        code="functions/backoffice",
        handler="console.handler",
        memory_mb=512,
        timeout_s=10,
        environment={**ENVIRONMENT,
                     E.CONSOLE_SESSION_KEY_SECRET: Ref(kind="secret", id="console-session-key")},
        grants=(*GRANTS, READ_SESSION_KEY),
        purpose="Back-office console pages: signs operators in, verifies its session cookie itself, CSRF-checked "
                "forms.",
    ),
)

ADMIN_API_PURPOSE = "The admin API (a Powertools resolver): the gateway verifies the caller's Cognito ID token first."
CONSOLE_PURPOSE = "The console's pages and forms (its own session cookie and CSRF tokens, verified by the console)."
ROUTES = (
    *(Route(method=method, path="/admin/api/{proxy+}", target_kind="function", target="admin-api",
            authorization="cognito", purpose=ADMIN_API_PURPOSE) for method in ("GET", "POST")),
    Route(method="GET", path="/admin", target_kind="function", target="console", authorization="none",
          purpose="The console's home page (its own session cookie, verified by the console)."),
    *(Route(method=method, path="/admin/{proxy+}", target_kind="function", target="console", authorization="none",
            purpose=CONSOLE_PURPOSE) for method in ("GET", "POST")),
)
