"""A large file streams in bounded memory: the import's peak RSS stays far below what
reading the file whole takes, and does not follow the file's size.

The file (about 400 MB, generated in pieces into a temporary directory, never kept) has
200,000 calls with a long comment column the import ignores: big in bytes, quick to
load. Peak RSS is measured in a child process: its VmHWM on Linux, because
`resource.getrusage(RUSAGE_SELF).ru_maxrss` of a child started from pytest keeps the
high-water mark of the forked pytest process (hundreds of MB late in a run); elsewhere
ru_maxrss, which is then the best there is.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = 200_000
COMMENT = 2_000  # characters per row
BUDGET_MB = 250  # what the import may add to a process that has loaded its libraries

PEAK = """
import resource
def peak_mb():
    try:
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
"""

IMPORT = PEAK + """
import sys
from dashboard.store import database as dbmod, reference
from dashboard.ingest import ingest_file
url, path = sys.argv[1], sys.argv[2]
dbmod.upgrade(url)
reference.load_reference(dbmod.get_engine(url))
base = peak_mb()
report = ingest_file(url, "contacts", path)
assert report.inserted == int(sys.argv[3]), report.summary()
print(base, peak_mb())
"""

WHOLE = PEAK + """
import sys
import polars as pl
frame = pl.read_csv(sys.argv[1], infer_schema=False)
print(frame.height, peak_mb())
"""


def _generate(path: Path) -> None:
    chunk = 20_000
    with path.open("wb") as fh:
        for k, start in enumerate(range(0, ROWS, chunk)):
            i = pl.int_range(start, min(ROWS, start + chunk), eager=True)
            pl.DataFrame({"i": i}).with_columns(
                ("n" + pl.col("i").cast(pl.String)).alias("contact_id"),
                pl.lit("phone").alias("channel"), pl.lit("rouen").alias("site"),
                pl.lit("60").alias("department"),
                (pl.lit(dt.datetime(2015, 3, 2)) + pl.duration(seconds=pl.col("i") * 3))
                .dt.to_string("%Y-%m-%dT%H:%M:%S").alias("received_at"),
                pl.lit("answered").alias("outcome"),
                (pl.col("i") % 60).alias("wait_seconds"),
                (pl.lit("x" * COMMENT) + pl.col("i").cast(pl.String)).alias("commentaire"),
            ).drop("i").write_csv(fh, include_header=k == 0)


def _run(code: str, *args: str) -> list[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return [int(v) for v in done.stdout.split()]


@pytest.mark.slow
def test_a_large_file_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "large.csv"
    _generate(path)
    size_mb = path.stat().st_size // 2**20
    assert size_mb > 350

    rows, whole_mb = _run(WHOLE, str(path))
    assert rows == ROWS
    base_mb, peak_mb = _run(IMPORT, f"sqlite:///{tmp_path / 'db.sqlite'}", str(path), str(ROWS))
    print(f"file {size_mb} MB; read whole: peak {whole_mb} MB; import: {base_mb} MB after "
          f"imports, peak {peak_mb} MB")
    assert peak_mb - base_mb < BUDGET_MB < size_mb
    assert peak_mb < whole_mb / 2
