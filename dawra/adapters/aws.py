"""AWS clients, created once per cold start (lazily, on first use) and replaceable in tests."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
_clients: dict[str, object] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The boto3 client for `service`: Any, as boto3 ships no type hints for its clients."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            _clients[service] = boto3.client(service, config=_CONFIG)
        return _clients[service]


def reset_clients() -> None:
    """Forget cached clients (the embedded cloud calls this when it starts a fresh mock)."""
    with _lock:
        _clients.clear()
