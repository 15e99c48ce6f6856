"""Every business metric a function emits is on the dashboard, and the dashboard shows nothing nobody emits."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dawra.contracts import metrics as M
from infra.capabilities.observability import BUSINESS_METRICS


def test_emitted_metrics_are_the_dashboard_metrics():
    emitted = set()
    for source in (ROOT / "functions").rglob("*.py"):
        for name in re.findall(r"add_metric\(name=M\.([A-Z_]+)", source.read_text()):
            value = getattr(M, name)
            emitted |= set(value.values()) if isinstance(value, dict) else {value}
    assert emitted == set(BUSINESS_METRICS) == set(M.ALL)
