"""EU AI Act evidence: a compliance report per model, its HTML page, and its verification.

:func:`compliance_report` maps what sktraceprop recorded (runs, sources, ops, feature
lineage, and the store's hash-chained audit events: predictions, explanations,
removals) to the articles of Regulation (EU) 2024/1689 a deployer answers for, and says
per article what the record proves and what it cannot. :func:`verify` checks a report
file: its JSON Schema, its SHA-256, its events, its Ed25519 signature, and its store.
A report holds no integer beyond 2**53 as a JSON number (JavaScript would read row ids
as their neighbours): such integers are decimal strings, and an event payload holding
one is also kept exactly, as the hash chain covers it (``payload_json``). Requires
``jsonschema`` (``pip install 'sktraceprop[compliance]'``).
"""

from .._row_hash import hash_rows
from ._categories import ANNEX_III, annex_iii_category
from ._compliance_report import compliance_report
from ._find import find_predictions, logged_outputs
from ._report import ComplianceReport
from ._schema import report_schema
from ._verify import verify_report as verify

__all__ = [
    "ANNEX_III",
    "ComplianceReport",
    "annex_iii_category",
    "compliance_report",
    "find_predictions",
    "hash_rows",
    "logged_outputs",
    "report_schema",
    "verify",
]
