"""Use cases: one module per capability, each taking ports, each reading as the business sentence it implements.
No boto3 here (a test refuses it); adapters do the talking."""
