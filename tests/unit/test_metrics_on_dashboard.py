"""Every business metric a function emits is on the dashboard, and the dashboard shows nothing nobody emits."""

import re
from pathlib import Path

from infra.capabilities.observability import BUSINESS_METRICS

ROOT = Path(__file__).resolve().parents[2]


def test_emitted_metrics_are_the_dashboard_metrics():
    emitted = set()
    for source in (ROOT / "functions").rglob("*.py"):
        emitted |= set(re.findall(r'add_metric\(name="([A-Za-z]+)"', source.read_text()))
    assert emitted == set(BUSINESS_METRICS)
