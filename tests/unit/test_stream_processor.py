"""The notifier's stream processor: records in order, and nothing after the first failure is touched (Lambda
retries a stream batch from its first failed record, so whatever comes after it is delivered again anyway)."""

from aws_lambda_powertools.utilities.batch import process_partial_response

from dawra.streams import InOrderStreamProcessor


def stream_record(seq: int) -> dict:
    return {"eventID": f"e{seq}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"SequenceNumber": str(seq), "Keys": {"pk": {"S": f"k{seq}"}}}}


def run(failing: set[int], batch: list[int]) -> tuple[list[int], dict]:
    handled: list[int] = []

    def handler(record) -> None:  # Powertools passes it by this name
        seq = int(record.dynamodb.sequence_number)
        handled.append(seq)
        if seq in failing:
            raise RuntimeError(f"record {seq} failed")

    response = process_partial_response(event={"Records": [stream_record(s) for s in batch]}, record_handler=handler,
                                         processor=InOrderStreamProcessor(), context=None)
    return handled, response


def test_records_after_a_failure_are_left_for_the_retry_and_reported_failed():
    handled, response = run(failing={2}, batch=[1, 2, 3, 4])
    assert handled == [1, 2]
    assert response == {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"},
                                              {"itemIdentifier": "4"}]}


def test_a_batch_without_failures_is_processed_whole():
    handled, response = run(failing=set(), batch=[1, 2, 3])
    assert handled == [1, 2, 3] and response == {"batchItemFailures": []}


def test_the_next_batch_starts_clean_after_a_failed_one():
    processor = InOrderStreamProcessor()
    seen: list[str] = []

    def handler(record) -> None:
        seen.append(record.dynamodb.sequence_number)
        if record.dynamodb.sequence_number == "1":
            raise RuntimeError("first fails")

    first = process_partial_response(event={"Records": [stream_record(1), stream_record(2)]}, record_handler=handler,
                                     processor=processor, context=None)
    second = process_partial_response(event={"Records": [stream_record(3), stream_record(4)]}, record_handler=handler,
                                      processor=processor, context=None)
    assert first["batchItemFailures"] == [{"itemIdentifier": "1"}, {"itemIdentifier": "2"}]
    assert second == {"batchItemFailures": []} and seen == ["1", "3", "4"]
