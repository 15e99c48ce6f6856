"""python -m dawra.local {demo|up|openapi}"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message="No application metrics to publish")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dawra.local")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="seed, place orders, deliver them over HTTP, print timelines and the outbox")
    up = commands.add_parser("up", help="run the local stack until interrupted")
    up.add_argument("--port", type=int, default=8080, help="HTTP gateway port (127.0.0.1)")
    up.add_argument("--aws-port", type=int, default=4566, help="moto's AWS endpoint port (127.0.0.1)")
    up.add_argument("--no-seed", action="store_true", help="start with empty catalog and stock")
    up.add_argument("--faults", default="", metavar="JSON|@FILE",
                    help='fault plan (local only), e.g. \'{"dynamodb": {"throttle": 0.2, "ambiguous": 0.05}, '
                         '"seed": 7}\' or @plan.json; see dawra/local/faults.py')
    openapi = commands.add_parser("openapi", help="write the storefront, admin and customer APIs' OpenAPI documents")
    openapi.add_argument("--out", default="docs/api/openapi.json")
    openapi.add_argument("--admin-out", default="docs/api/admin-openapi.json")
    openapi.add_argument("--customer-out", default="docs/api/customer-openapi.json")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from dawra.local.demo import run_demo

        return run_demo()
    if args.command == "openapi":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n")
        from dawra.local.openapi import admin_document

        Path(args.admin_out).write_text(json.dumps(admin_document(), indent=2, ensure_ascii=False) + "\n")
        from dawra.local.openapi import customer_document

        Path(args.customer_out).write_text(json.dumps(customer_document(), indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}, {args.admin_out} and {args.customer_out}")
        return 0
    if args.faults:
        from dawra.local.faults import FaultPlan

        try:
            FaultPlan.load(args.faults)
        except (ValueError, OSError) as error:
            parser.error(f"--faults: {error}")
    return run_up(args.port, args.aws_port, seed_data=not args.no_seed, faults=args.faults or None)


def openapi_document() -> dict[str, Any]:
    from dawra.local.openapi import document

    return document()


def run_up(port: int, aws_port: int, seed_data: bool, faults: str | None = None) -> int:
    """faults: a fault plan as JSON text or @path (dawra/local/faults.py); None or empty: no faults."""
    from dawra.adapters.dynamo.inventory import DynamoInventory as InventoryStore
    from dawra.local.faults import FaultPlan
    from dawra.local.scenario import seed_backoffice
    from dawra.local.seed import seed, seed_operators
    from dawra.local.stack import LocalStack

    plan = FaultPlan.load(faults) if faults else None
    stack = LocalStack(gateway_port=port, aws_port=aws_port, fault_plan=plan).start()
    if seed_data:
        seed(InventoryStore(stack.cloud.resolve_ref("table", "inventory", "name")))
    secret_name = stack.cloud.resolve_ref("secret", "carrier-sandbox-webhook", "name")
    if seed_data:
        by_name, scenario = seed_backoffice(stack)
        operators = list(by_name.values())
        orders = (f"{scenario.placed} ({', '.join(f'{n} {s}' for s, n in scenario.expected_counts.items())}; "
                  f"the agent's held order for {scenario.agent_customer} is {scenario.on_hold})")
    else:
        operators, orders = seed_operators(stack.cloud), "none (--no-seed)"
    print(f"""Dawra local stack is up.
  Storefront API   {stack.gateway_url}   (POST /orders, GET /orders/{{order_id}})
  Carrier webhooks {stack.gateway_url}/webhooks/carriers/sandbox
  Return labels    {" ".join(server.url for server in stack.http_apis.values())}   (the HTTP API the order page's label links open)
  AWS endpoint     {stack.aws_endpoint}   (aws --endpoint-url {stack.aws_endpoint} --region us-east-1 ...;
                   credentials: any, e.g. AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing)
  Sandbox carrier webhook secret: {stack.cloud.carrier_secrets["carrier-sandbox-webhook"]}
                   (random for this run; also {secret_name} in Secrets Manager)
  Sandbox payments webhook secret: {stack.cloud.carrier_secrets["payments-sandbox-webhook"]}
                   (POST /payments/webhooks/sandbox, header X-Payment-Signature; dawra/adapters/payments/sandbox.py)
  API documentation {stack.gateway_url}/docs   Emails and SMS sent: {stack.gateway_url}/_local/outbox
  Catalog and stock: {'seeded (dawra/local/seed.py)' if seed_data else 'empty'}
  Orders for the back office: {orders}
{back_office(stack, operators)}
Press Ctrl-C to stop.""", flush=True)
    if plan is not None:
        print(f"Fault injection is ON (handlers, webhook -> SQS, pollers): {plan.describe()}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    stack.stop()
    if plan is not None:
        print(stack.cloud.faults.summary())
    print("stopped")
    return 0


def back_office(stack: Any, operators: list[Any]) -> str:
    """How to sign in to the back office: the console, one operator per role, and an ID token with curl."""
    pool = stack.cloud.topology.operators_pool
    pool_id = stack.cloud.resolve_ref("user_pool", pool.id, "id")
    client_id = stack.cloud.resolve_ref("user_pool", pool.id, "client_id")
    accounts = "\n".join(f"    {o.role:<10} username {o.username:<10} password {o.password}   ({o.email})"
                         for o in operators)
    agent = operators[0]
    initiate_auth = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                                "AuthParameters": {"USERNAME": agent.username, "PASSWORD": agent.password}})
    return f"""  Back office      console {stack.gateway_url}/admin   admin API {stack.gateway_url}/admin/api/...
                   (Cognito ID token; user pool {pool.name} = {pool_id}, app client {client_id})
  Operators, one per role (passwords random for this run):
{accounts}
  An agent's ID token from the local Cognito, then the admin API with it:
    TOKEN=$(curl -s -X POST {stack.aws_endpoint}/ -H 'Content-Type: application/x-amz-json-1.1' \\
      -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \\
      -d '{initiate_auth}' \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["AuthenticationResult"]["IdToken"])')
    curl -s {stack.gateway_url}/admin/api/me -H "Authorization: Bearer $TOKEN\""""


if __name__ == "__main__":
    sys.exit(main())
