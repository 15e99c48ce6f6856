"""Admin API: stock feeds uploaded (an ERP's or a 3PL's stock, absolute or delta, CSV or JSON), their reports, and
the latest feeds. A manager's (IMPORT_STOCK_FEEDS); larger feeds go to the feeds bucket."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import caller, office

from dawra.app.stock_feeds import StockFeedImports
from dawra.contracts import inventory

router = APIGatewayRouter()
Ref = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def feeds() -> StockFeedImports:
    if office.stock_feeds is None:  # pragma: no cover - bootstrap always builds it
        raise RuntimeError("stock feeds are not configured")
    return office.stock_feeds


@router.post("/admin/api/stock/feeds", summary="Import a stock feed (absolute or delta, CSV or JSON)",
             status_code=201)
def upload(body: Annotated[inventory.StockFeedUpload, Body()]) -> Response[inventory.StockFeedReportView]:
    fmt, text = body.text()
    report = feeds().upload(caller(router), body.feed_id, body.file_name, fmt, text)
    return Response(status_code=200 if report.duplicate else 201, content_type="application/json",
                    body=inventory.feed_view(report).model_dump(mode="json"))


@router.get("/admin/api/stock/feeds/<ref>", summary="A stock feed's report, row by row")
def report(ref: Ref) -> inventory.StockFeedReportView:
    return inventory.feed_view(feeds().report(caller(router), ref))


@router.get("/admin/api/stock/feeds", summary="The latest stock feeds")
def recent() -> inventory.StockFeedList:
    return inventory.StockFeedList(feeds=[inventory.feed_view(r) for r in feeds().recent(caller(router))])
