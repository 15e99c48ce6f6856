"""Section 4's rounds run in an interpreter of their own (bench/throughput.py, decision 116): the figures of a round
come back from the child whole, and a child that fails makes the bench fail rather than report a round it never
measured."""

from __future__ import annotations

import pytest

from bench import throughput

MIX = {"dynamodb:PutItem": 2, "dynamodb:Query": 1, "sqs:SendMessage": 1}


def test_a_round_in_a_fresh_process_carries_its_orders_and_replays_the_mix():
    figures = throughput.in_fresh_process(1, 2, MIX)

    assert figures["orders"] == 2 and figures["failed"] == 0 and figures["first_error"] is None
    assert figures["floor_requests_per_order"] == 4  # the mix, replayed as given
    assert figures["orders_per_s"] > 0 and figures["floor_orders_per_s"] > 0
    assert figures["ratio"] == round(figures["orders_per_s"] / figures["floor_orders_per_s"], 3)


def test_a_child_that_fails_fails_the_bench():
    with pytest.raises(RuntimeError, match="throughput round failed"):
        throughput.in_fresh_process(0, 1, MIX)  # no worker: the child's pool refuses to start
