"""Dawra's AWS deployment: a CDK app built from :mod:`dawra.topology` (see docs/deploy.md)."""
