"""Dawra: everything after the buy button."""
