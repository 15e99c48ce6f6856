"""StartLifecycle (decision 114): the order's lifecycle is started from its commit's record; a redelivered record
starts nothing twice; a throttled start raises, so the stream retries the record, and the retry starts it."""

import pytest
from fakes import FakeWorkflow

from dawra.app.lifecycle import StartLifecycle
from dawra.domain.errors import TransientError


def test_the_order_is_started_once_however_often_its_record_comes():
    workflow = FakeWorkflow()
    start = StartLifecycle(workflow)
    start("ord_" + "a" * 32)
    start("ord_" + "a" * 32)  # the record delivered again
    assert workflow.started == ["ord_" + "a" * 32]


def test_a_throttled_start_raises_for_the_record_to_be_retried_and_the_retry_starts_it():
    workflow = FakeWorkflow()
    workflow.faults = ["throttled"]
    start = StartLifecycle(workflow)
    with pytest.raises(TransientError):
        start("ord_" + "b" * 32)
    assert workflow.started == []
    start("ord_" + "b" * 32)
    assert workflow.started == ["ord_" + "b" * 32]
