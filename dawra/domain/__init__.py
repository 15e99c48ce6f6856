"""The language of orders, in pure Python: no I/O, no boto3. Everything else depends on this; it depends on nothing."""
