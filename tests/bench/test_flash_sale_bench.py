"""The flash sale's part of the bench: `--only flash_sale` merges its figures into results.json and RESULTS.md shows
them as section 6 (the sale itself runs in tests/integration/test_flash_sale_concurrency.py)."""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

FIGURES = {
    "orders_attempted": 1000, "workers": 32, "stock": 137, "reorder_point": 25, "units_sold": 137, "orders_reserved": 125,
    "orders_refused": 875, "orders_failed": 0, "first_error": None, "transactions": 146, "conflicts": 21,
    "conflicts_by_reason": {"ConditionalCheckFailed": 21}, "conflict_rate": 0.1438, "orders_that_retried": 16, "sold_out_s": 4.1,
    "retries_per_order_p50": 0, "retries_per_order_p99": 1, "retries_per_order_max": 2, "wall_s": 23.68,
    "reservations_per_s": 5.3, "orders_decided_per_s": 42.2, "low_stock_alerts": 1, "left_available": 0,
}


def test_only_flash_sale_merges_its_figures_and_renders_section_6(tmp_path, monkeypatch):
    from bench import __main__ as main_module

    results = json.loads((REPO_ROOT / "bench" / "results.json").read_text())
    results.pop("flash_sale", None)
    (tmp_path / "results.json").write_text(json.dumps(results))
    asked = {}

    def measure(orders, stock, workers):
        asked.update(orders=orders, stock=stock, workers=workers)
        return dict(FIGURES)

    monkeypatch.setattr(main_module.flash_sale, "measure", measure)

    assert main_module.main(["--only", "flash_sale", "--output", str(tmp_path)]) == 0

    assert asked == {"orders": 1000, "stock": 137, "workers": 32}  # the defaults: the 1,000 orders
    merged = json.loads((tmp_path / "results.json").read_text())
    assert merged["checkout"] == results["checkout"]  # the other parts kept as they were
    assert merged["flash_sale"]["units_sold"] == 137 and merged["arguments"]["flash_workers"] == 32
    rendered = (tmp_path / "RESULTS.md").read_text()
    assert "## 6. A flash sale on one stock item" in rendered
    assert f"(`python -m bench --only flash_sale`) on {merged['flash_sale']['generated_at']}" in rendered
    assert "(137 units, every tenth order for 2, a reorder point of 25)" in rendered
    assert "| Conflict rate (conflicts / transactions) | 14.4% |" in rendered
    assert "| Retries per order p50 / p99 / max | 0 / 1 / 2 |" in rendered
    assert "TransactionConflict" in rendered and "500 holds a second" in rendered
