"""The importer: stream → map → validate → quarantine → stage → merge (one transaction).

`ingest_file(url_or_engine, kind, path, ...)` imports one CSV or Parquet file of kind
contacts, acts, agents or agent-sessions (spec/data-contract.md), or local-reception,
surveys, staff-surveys, incidents or training (spec/review-data.md; kinds.py declares each
kind) and returns an IngestReport; bad input never raises, it sets `error` and
`exit_code`. A mapping file (`mapping=`, dashboard/ingest/mapping.py) brings a vendor
export to the import format.

Modules, in the order a file goes through them:
- read.py: the file as batches of text columns with line numbers, in bounded memory;
- mapping.py: renames, constants, value maps, formats, sentinels, skipped rows;
- validate.py: the contract's rules, one reason per rejected row; typed good rows;
- caller.py: caller ids → keyed hashes (never stored, logged or quarantined as given);
- quarantine.py: the rejected rows with their line and reason, one file per import;
- load.py: staging table, duplicate ids, the import lock, classification, upsert;
- core.py: the whole road, the report, the imports journal, the rollup refresh.
"""

from dashboard.ingest.core import IngestReport, Progress, ingest_file
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.mapping import MappingError, load_mapping

__all__ = ["IngestReport", "KINDS", "MappingError", "Progress", "ingest_file", "load_mapping"]
