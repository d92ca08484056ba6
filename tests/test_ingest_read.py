"""The streaming reader sees exactly what Python's csv module sees, wherever blocks end.

The reader parses blocks with Polars and falls back to the csv module for blocks Polars
would read differently. Whatever the block size, the records, their first line and the
"too many fields" errors must be those of one csv.reader pass over the whole file, which
is the oracle here (written again in the test, not taken from the reader).
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.ingest import read
from dashboard.ingest.read import LINE, READ_ERROR, ReadError, open_table

HEADER = ["a", "b", "c"]


def oracle(text: str, delimiter: str) -> list[tuple[int, list[str | None], str | None]]:
    """(first line, values padded/truncated to the header, read error) per record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next(reader)
    out = []
    last = 1
    for record in reader:
        start, last = last + 1, reader.line_num
        if not record or record == [""]:
            continue
        error = None
        if len(record) > len(HEADER):
            error = f"too many fields: {len(record)} fields, header has {len(HEADER)}"
        values = (record + [""] * len(HEADER))[: len(HEADER)]
        out.append((start, [v if v != "" else None for v in values], error))
    return out


def read_all(path: Path, batch_rows: int) -> list[tuple[int, list[str | None], str | None]]:
    with open_table(path) as reader:
        frame = pl.concat(list(reader.batches(batch_rows)) or [read._empty(HEADER)])
    return [(row[LINE], [row[c] if row[c] != "" else None for c in HEADER], row[READ_ERROR])
            for row in frame.iter_rows(named=True)]


values = st.text(alphabet='ab,;\t"\n\r é', max_size=6)
records = st.lists(
    st.tuples(st.lists(values, min_size=1, max_size=5),  # 1..5 fields: short and ragged
              st.booleans()),  # a blank line after it
    max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=records, delimiter=st.sampled_from([",", ";", "\t"]),
       newline=st.sampled_from(["\n", "\r\n"]), trailing=st.booleans(),
       block=st.integers(8, 200), batch=st.integers(1, 7))
def test_blocks_read_as_the_csv_module_reads(rows, delimiter, newline, trailing, block,
                                             batch):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    for fields, blank in rows:
        writer.writerow(fields)
        if blank:
            buf.write(newline)
    text = buf.getvalue()
    if not trailing:
        text = text.rstrip("\r\n") if text.count(newline) > 1 else text
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(text.encode("utf-8"))
        try:
            expected = oracle(text, delimiter)
        except csv.Error:
            return  # a file the csv module refuses is refused by the reader too (below)
        old = read.BLOCK_BYTES
        read.BLOCK_BYTES = block
        try:
            assert read_all(path, batch) == expected
        finally:
            read.BLOCK_BYTES = old


def test_a_stray_quote_hands_the_rest_to_the_csv_module(tmp_path, monkeypatch):
    # A literal quote inside a field never balances: blocks can't be cut at a line end
    # outside quotes, so past MAX_CARRY_BYTES the csv module reads the rest.
    monkeypatch.setattr(read, "BLOCK_BYTES", 16)
    monkeypatch.setattr(read, "MAX_CARRY_BYTES", 64)
    lines = ["a,b,c"] + [f"{i},5\" screen,x" for i in range(40)]
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read_all(path, 1000)
    assert got == oracle("\n".join(lines) + "\n", ",")
    assert [g[0] for g in got] == list(range(2, 42))


def test_bom_cp1252_and_errors(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("a;b;c\r\n1;dégrèvement;12,5\r\n".encode("cp1252"))
    with open_table(path, "cp1252") as reader:
        (frame,) = list(reader.batches())
    assert reader.delimiter == ";"
    assert frame.row(0) == ("1", "dégrèvement", "12,5", 2, None)
    with pytest.raises(ReadError, match=r"not valid utf-8: byte 0xe9 .*try --encoding cp1252"):
        with open_table(path) as reader:
            list(reader.batches())

    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b,c\n1,2,3\n")
    with open_table(bom) as reader:
        assert reader.columns == HEADER
        assert list(reader.batches())[0].row(0)[:3] == ("1", "2", "3")
    with pytest.raises(ReadError, match="byte-order mark"):
        open_table(bom, "cp1252")


def test_an_invalid_byte_far_in_the_file_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "BLOCK_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_bytes(b"a,b,c\n" + b"1,2,3\n" * 100 + b"4,\xe9,6\n")
    with pytest.raises(ReadError, match="not valid utf-8: byte 0xe9"):
        with open_table(path) as reader:
            list(reader.batches())


def test_unnamed_columns_get_a_stand_in_name(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("a,,c,\n1,2,3,4\n", encoding="utf-8")
    with open_table(path) as reader:
        assert reader.columns == ["a", "(column 2)", "c", "(column 4)"]
        assert list(reader.batches())[0].row(0)[:4] == ("1", "2", "3", "4")
