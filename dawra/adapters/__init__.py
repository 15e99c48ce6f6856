"""Adapters: the only code that talks to AWS. Everything else receives these objects."""
