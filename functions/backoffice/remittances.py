"""Admin API: couriers' cash-on-delivery remittance files (import, a file's reconciliation) and the parcels whose
cash is still owed. A manager's (RECONCILE_COD)."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import caller, office

from dawra.app.remittances import Remittances
from dawra.contracts import admin

router = APIGatewayRouter()
Digest = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def remittances() -> Remittances:
    if office.remittances is None:  # pragma: no cover - bootstrap always builds it
        raise RuntimeError("remittances are not configured")
    return office.remittances


@router.post("/admin/api/cod/remittances", summary="Import a courier's remittance file and reconcile it",
             status_code=201)
def import_file(upload: Annotated[admin.RemittanceUpload, Body()]) -> Response[admin.RemittanceReportView]:
    report = remittances().import_file(caller(router), upload.file_name, upload.content)
    return Response(status_code=200 if report.duplicate else 201, content_type="application/json",
                    body=admin.remittance_view(report))


@router.get("/admin/api/cod/remittances/<digest>", summary="A remittance file's reconciliation")
def report(digest: Digest) -> admin.RemittanceReportView:
    return admin.RemittanceReportView.model_validate(admin.remittance_view(remittances().report(caller(router),
                                                                                              digest)))


@router.get("/admin/api/cod/remittances", summary="Parcels whose cash is still owed, and the latest files")
def overview() -> admin.RemittanceOverviewView:
    seen = remittances().overview(caller(router), datetime.now(UTC))
    return admin.RemittanceOverviewView.model_validate({
        "days": seen.days, "truncated": seen.truncated, "imports": [admin.remittance_view(r) for r in seen.imports],
        "owed": [vars(parcel) for parcel in seen.owed]})
