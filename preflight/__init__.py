"""`python -m preflight`: read-only checks of the account and a stack's settings before `pulumi up`.

docs/architecture.md, Preflight. Pure verdicts (`verdicts.py`) over plain facts that a thin layer reads
from AWS (`aws.py`) and Datadog (`datadog.py`); `run.py` wires them; it never writes. No Pulumi SDK.
"""
