"""The demo's cash on delivery: the courier's remittance file for the demo's COD order (short by 5.00, with a row
for a parcel nobody shipped), reconciled by the back office's own use case on the local tables, and the
reconciliation written to tmp/demo/ as JSON and as the console's report page (English and Arabic, styles inlined so
the file opens on its own; docs/screenshots/cod-remittance-*.png are these pages in Chromium)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dawra.domain.access import Actor, Role
from dawra.domain.cod import RemittanceReport, from_minor

MANAGER = Actor(user_id="demo-manager", username="maha", roles=frozenset({Role.MANAGER}))
COURIER_FEE = 1200  # the courier keeps 12.00 per parcel
SHORT_BY = 500  # and remits 5.00 less than the customer paid


def remittance_file(parcels: list[tuple[str, int]], currency: str = "SAR") -> str:
    """The courier's CSV: one row per (tracking number, amount due) delivered, the first short by SHORT_BY, and a
    row for a tracking number no parcel has."""
    today = datetime.now(UTC).date().isoformat()
    rows = ["tracking_number,amount_collected,courier_fee,remittance_reference,remittance_date"]
    for index, (number, due) in enumerate(parcels):
        collected = due - (SHORT_BY if index == 0 else 0)
        rows.append(f"{number},{from_minor(collected, currency)},{from_minor(COURIER_FEE, currency)},"
                    f"SBX-REM-{today.replace('-', '')},{today}")
    rows.append(f"SBX0000000000FF,{from_minor(5000, currency)},{from_minor(COURIER_FEE, currency)},"
                f"SBX-REM-{today.replace('-', '')},{today}")
    return "\n".join(rows) + "\n"


def reconcile(stack: Any, parcels: list[tuple[str, int]], output: Path) -> RemittanceReport:
    """Import the courier's file for `parcels` on the stack's tables; write the file, the report (JSON) and the
    console's report page (en, ar) under `output`."""
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.adapters.dynamo.remittances import DynamoRemittanceImports
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.app.common import SystemClock
    from dawra.app.remittances import Remittances

    cloud = stack.cloud
    orders_table, inventory_table = (cloud.resolve_ref("table", t, "name") for t in ("orders", "inventory"))
    remittances = Remittances(DynamoOrders(orders_table), DynamoUnitOfWork(orders_table, inventory_table),
                              DynamoRemittanceImports(orders_table),
                              SnsOpsAlerts(cloud.resolve_ref("topic", "ops-alerts", "arn")), SystemClock())
    text = remittance_file(parcels)
    output.mkdir(parents=True, exist_ok=True)
    (output / "remittance.csv").write_text(text, encoding="utf-8")
    report = remittances.import_file(MANAGER, "sandbox-courier-remittance.csv", text)
    (output / "remittance-report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    for language in ("en", "ar"):
        (output / f"remittance-report-{language}.html").write_text(report_page(remittances, report, language),
                                                                   encoding="utf-8")
    return report


def report_page(remittances: Any, report: RemittanceReport, language: str) -> str:
    """The console's report page as a manager reading `language` sees it, its stylesheet inlined."""
    from dawra.web.console import Console
    from dawra.web.http import WebRequest
    from dawra.web.render import static_file
    from dawra.web.security import SESSION_COOKIE

    @dataclass(frozen=True)
    class Office:
        remittances: Any

    claims = {"sub": MANAGER.user_id, "cognito:username": MANAGER.username, "cognito:groups": "manager", "iat": 1,
              "custom:locale": language}
    console = Console(Office(remittances), lambda _token: claims, lambda *_: None,  # type: ignore[arg-type]
                      lambda: b"demo-console-key", _Quiet())
    page = console.handle(WebRequest("GET", f"/admin/cod/remittances/{report.digest}",
                                     cookies={SESSION_COOKIE: "demo"}))
    if page.status != 200:
        raise RuntimeError(f"the report page answered {page.status}")
    found = static_file("console.css")
    css = found[0].decode() if found else ""
    html = re.sub(r'<link rel="stylesheet" href="[^"]*">', lambda _m: f"<style>{css}</style>", str(page.body))
    return re.sub(r'<script src="[^"]*" defer></script>', "", html)


class _Quiet:
    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        return None

    exception = info


def summary(report: RemittanceReport) -> list[str]:
    counts = report.counts
    lines = [f"Remittance file {report.file_name} ({report.digest}): "
             + ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in counts if counts[name])]
    for row in report.rows:
        lines.append(f"   line {row.line}: {row.tracking_number} {row.outcome.value}"
                     + (f" ({row.message})" if row.message else ""))
    lines.append(f"   remitted {from_minor(report.total('remitted').amount, report.currency)} {report.currency} "
                 f"after {from_minor(report.total('fee').amount, report.currency)} of fees; short by "
                 f"{from_minor(report.short_by.amount, report.currency)}")
    return lines
