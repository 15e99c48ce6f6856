"""Adapters classify AWS's answers, checked against the exact responses botocore's Stubber returns: transaction
cancellations by their CancellationReasons, throttling and 5xx as transient everywhere, used task tokens as
"no longer waiting"."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.adapters.messaging import AwsMessenger
from dawra.adapters.stepfunctions import StepFunctionsWorkflow
from dawra.domain.errors import ConcurrentChange, TransientError
from dawra.domain.inventory import Reservation, hold
from dawra.ports import IdempotencyRecord


def client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def cancelled(*codes):
    return {"service_error_code": "TransactionCanceledException", "service_message": "Transaction cancelled",
            "http_status_code": 400,
            "response_meta": {}, "modeled_fields": {"CancellationReasons": [{"Code": c} for c in codes]}}


def uow(ddb):
    return DynamoUnitOfWork("orders", "inventory", client=ddb, sleep=lambda s: None)


MOVE = hold(Reservation(order_id="ord_1", shipment_id="shp_1", sku="MUG", location_id="riyadh", quantity=1))


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                                    "RequestLimitExceeded"])
def test_a_transient_cancellation_is_retried_until_it_goes_through(reason):
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("transact_write_items", **cancelled(reason, "None"))
        stub.add_client_error("transact_write_items", **cancelled("None", reason))
        stub.add_response("transact_write_items", {})
        uow(ddb).commit(stock=[MOVE])
        stub.assert_no_pending_responses()


def test_a_cancellation_that_stays_transient_surfaces_as_transient_error():
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        for _ in range(4):
            stub.add_client_error("transact_write_items", **cancelled("TransactionConflict", "None"))
        with pytest.raises(TransientError, match="TransactWriteItems"):
            uow(ddb).commit(stock=[MOVE])


def test_a_failed_condition_is_the_domain_outcome_naming_what_refused():
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("transact_write_items", **cancelled("ConditionalCheckFailed", "None", "None"))
        with pytest.raises(ConcurrentChange) as refused:
            uow(ddb).commit(stock=[MOVE], markers=[IdempotencyRecord(key_hash="k", order_id="o", fingerprint="f")])
        assert refused.value.parts == {"stock"}
        stub.assert_no_pending_responses()  # not retried


def test_a_throttled_transaction_request_is_retried():
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("transact_write_items", "ThrottlingException", http_status_code=400)
        stub.add_client_error("transact_write_items", "InternalServerError", http_status_code=500)
        stub.add_response("transact_write_items", {})
        uow(ddb).commit(stock=[MOVE])


RECORD = IdempotencyRecord(key_hash="k", order_id="o", fingerprint="f")


def test_a_change_of_one_item_is_a_conditional_put_not_a_transaction():
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("put_item", "ThrottlingException", http_status_code=400)
        stub.add_response("put_item", {})  # retried; no transact_write_items is stubbed, so none may be made
        uow(ddb).commit(markers=[RECORD])
        stub.assert_no_pending_responses()


def test_a_single_put_refused_by_another_item_is_a_race_and_by_its_own_item_is_done():
    ddb = client("dynamodb")
    ours = uow(ddb)._marker_item(RECORD)[1]["Put"]["Item"]  # what the put sends
    with Stubber(ddb) as stub:
        stub.add_client_error("put_item", "ConditionalCheckFailedException", http_status_code=400,
                              modeled_fields={"Item": {**ours, "fingerprint": {"S": "another"}}})
        with pytest.raises(ConcurrentChange) as refused:
            uow(ddb).commit(markers=[RECORD])
        assert refused.value.parts == {"marker"}
        stub.assert_no_pending_responses()  # not retried
    with Stubber(ddb) as stub:  # the first answer was lost (a 500); the retry finds the very item it sent
        stub.add_client_error("put_item", "InternalServerError", http_status_code=500)
        stub.add_client_error("put_item", "ConditionalCheckFailedException", http_status_code=400,
                              modeled_fields={"Item": ours})
        uow(ddb).commit(markers=[RECORD])
        stub.assert_no_pending_responses()


def test_a_validation_error_is_a_bug_not_a_retry():
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("transact_write_items", **cancelled("ValidationError"))
        with pytest.raises(Exception) as error:
            uow(ddb).commit(stock=[MOVE])
        assert not isinstance(error.value, (TransientError, ConcurrentChange))


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalServerError", 500),
                                              ("ProvisionedThroughputExceededException", 400)])
def test_throttling_and_5xx_on_any_read_are_transient(code, status):
    ddb = client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_client_error("query", code, http_status_code=status)
        with pytest.raises(TransientError):
            DynamoOrders("orders", client=ddb).get("ord_1")


def test_claims_distinguish_taken_sent_and_held():
    ddb = client("dynamodb")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Stubber(ddb) as stub:
        stub.add_client_error("put_item", "ConditionalCheckFailedException")
        stub.add_response("get_item", {"Item": {"pk": {"S": "p"}, "sk": {"S": "s"}, "state": {"S": "sent"}}})
        stub.add_client_error("put_item", "ThrottlingException")
        orders = DynamoOrders("orders", client=ddb)
        assert orders.claim("ord_1", "e#email", "me", now, now).value == "sent"
        with pytest.raises(TransientError):
            orders.claim("ord_1", "e#email", "me", now, now)


def test_step_functions_answers():
    sfn = client("stepfunctions")
    workflow = StepFunctionsWorkflow("arn:aws:states:us-east-1:123456789012:stateMachine:m", client=sfn)
    with Stubber(sfn) as stub:
        stub.add_client_error("start_execution", "ExecutionAlreadyExists")
        stub.add_client_error("start_execution", "ThrottlingException")
        stub.add_client_error("send_task_success", "TaskTimedOut")
        stub.add_client_error("send_task_success", "InvalidToken")
        stub.add_response("send_task_success", {})
        workflow.start("ord_1")  # started before: fine
        with pytest.raises(TransientError):
            workflow.start("ord_1")
        assert workflow.resume("t", {}) is False
        assert workflow.resume("t", {}) is False
        assert workflow.resume("t", {}) is True


def test_a_throttled_message_send_is_transient():
    ses = client("ses")
    with Stubber(ses) as stub:
        stub.add_client_error("send_email", "Throttling", http_status_code=400)
        with pytest.raises(TransientError):
            AwsMessenger("shop@example.com", ses=ses).send_email("a@example.com", "s", "<p>h</p>", "t")
