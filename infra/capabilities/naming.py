"""Construct ids derived from topology ids, so logical ids stay stable and readable (``orders`` -> ``Orders``)."""

from __future__ import annotations


def pascal(topology_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in topology_id.replace("_", "-").split("-") if part)
