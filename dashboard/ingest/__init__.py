"""The importer: read → validate → quarantine → upsert (one transaction) → record the import.

`ingest_file(url_or_engine, kind, path, ...)` imports one CSV or Parquet file of kind
contacts, acts, agents or agent-sessions (spec/data-contract.md) and returns an
IngestReport; bad input never raises, it sets `error` and `exit_code`.
"""

from dashboard.ingest.core import IngestReport, ingest_file
from dashboard.ingest.kinds import KINDS

__all__ = ["IngestReport", "KINDS", "ingest_file"]
