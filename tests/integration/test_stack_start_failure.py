"""A local stack that fails to start stops what it started: the embedded cloud is one per process, and a stack left
half-started made every later test module in the run fail with "an embedded cloud is already running"."""

import socket

import pytest

from dawra.local import stack as stack_module
from dawra.local.stack import LocalStack

# moto's server thread dies on the bind (that is the point): pytest would report its exception as a warning.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def test_a_moto_endpoint_that_cannot_start_fails_the_start_and_leaves_nothing_running(monkeypatch):
    monkeypatch.setattr(stack_module, "MOTO_SERVER_START_S", 2.0)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="did not start"):
            LocalStack(aws_port=port).start()  # its server's thread dies on the bind; start() would wait for ever

    started = LocalStack(aws_port=None).start()  # nothing of the failed one is left running
    try:
        assert started.cloud.client("dynamodb").list_tables()["TableNames"]
    finally:
        started.stop()
