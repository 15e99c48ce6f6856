"""The local stack: the embedded cloud, its event source pollers, the HTTP gateway, a server per HTTP API
(dawra/local/http_api.py) and moto's own HTTP endpoint."""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING, Self

from dawra.local.cloud import EmbeddedCloud, OutboxMessage, read_outbox
from dawra.local.faults import FaultPlan
from dawra.local.gateway import Gateway
from dawra.local.http_api import HttpApiServer
from dawra.local.pollers import Pollers
from dawra.topology.customer import SITE_URL

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

__all__ = ["LocalStack", "OutboxMessage", "read_outbox"]
MOTO_SERVER_START_S = 30.0  # the outbox lives in cloud.py; importable here too


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LocalStack:
    def __init__(self, gateway_port: int = 0, aws_port: int | None = 0, background_pollers: bool = True,
                 fault_plan: FaultPlan | None = None, time_scale: float = 1.0):
        """fault_plan and time_scale go to the EmbeddedCloud (local-only knobs; see dawra/local/faults.py)."""
        self.cloud = EmbeddedCloud(fault_plan=fault_plan, time_scale=time_scale)
        self.gateway_port = gateway_port
        self.aws_port = aws_port
        self.background_pollers = background_pollers
        self.gateway: Gateway | None = None
        self.pollers: Pollers | None = None
        self._moto_server: ThreadedMotoServer | None = None
        self.http_apis: dict[str, HttpApiServer] = {}  # by HTTP API id, once started

    def start(self) -> LocalStack:
        """Everything or nothing: a part that fails to start stops the parts already started (the embedded cloud is
        one per process, so a stack left half-started would refuse every later one)."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the demo's output
        # Known before the cloud starts: the order links in customer messages start with the gateway's URL.
        self.gateway_port = self.gateway_port or _free_port()
        self.cloud.parameter_values[SITE_URL.id] = f"http://127.0.0.1:{self.gateway_port}"
        # The same for each HTTP API (the order page's label link starts with the return label's HTTP API's URL).
        api_ports = {api.id: _free_port() for api in self.cloud.topology.http_apis}
        self.cloud.http_api_urls = {id: f"http://127.0.0.1:{port}" for id, port in api_ports.items()}
        if self.aws_port is not None:  # known before the cloud starts: functions fetch the pool's JWKS there
            self.aws_port = self.aws_port or _free_port()
            self.cloud.aws_endpoint = f"http://127.0.0.1:{self.aws_port}"
        self.cloud.start()
        self.pollers = Pollers(self.cloud)
        if self.background_pollers:
            self.pollers.run_in_background()
        self.gateway = Gateway(self.cloud, port=self.gateway_port).start()
        self.http_apis = {id: HttpApiServer(self.cloud, self.cloud.topology.http_api(id), port).start()
                          for id, port in api_ports.items()}
        if self.aws_port is not None:
            from moto.server import ThreadedMotoServer

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
            # Its start() waits for ever if the server's thread dies before serving: waited on here, for a while.
            starter = threading.Thread(target=server.start, name="dawra-moto-server-start", daemon=True)
            starter.start()
            starter.join(MOTO_SERVER_START_S)
            if starter.is_alive():
                raise RuntimeError(f"moto's HTTP endpoint did not start on port {self.aws_port} within "
                                   f"{MOTO_SERVER_START_S:.0f} s (its thread's error is above)")
            self._moto_server = server
        return self

    def stop(self) -> None:
        if self.pollers:
            self.pollers.stop()
        if self.gateway:
            self.gateway.stop()
        for server in self.http_apis.values():
            server.stop()
        if self._moto_server:
            self._moto_server.stop()
        self.cloud.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def gateway_url(self) -> str:
        """The HTTP gateway's base URL, once the stack is started."""
        if self.gateway is None:
            raise RuntimeError("the local stack is not started")
        return self.gateway.url

    @property
    def aws_endpoint(self) -> str | None:
        return f"http://127.0.0.1:{self.aws_port}" if self._moto_server else None

    def outbox(self) -> list[OutboxMessage]:
        return self.cloud.outbox()
