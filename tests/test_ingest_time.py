"""Timestamps on import: offsets, naive local times, DST changes, sites in other time zones.

Every expected UTC instant, local date and slot is worked out here with zoneinfo, not
with the importer's Polars code: a naive time is `datetime(..., tzinfo=zone)` with fold=0
(first occurrence of a repeated hour; a time in the spring gap takes the offset in force
before the gap), which is the house rule of dashboard/localtime.py.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from dashboard.store import schema

UTC = dt.timezone.utc
HEADER = "contact_id,channel,site,department,received_at,outcome,wait_seconds"


def expected(text: str, zone: str, site_zone: str | None = None):
    """(naive UTC, local date, local slot) of an ISO timestamp, computed with zoneinfo."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))  # fold=0: the house rule
    utc = value.astimezone(UTC)
    local = utc.astimezone(ZoneInfo(site_zone or zone))
    return utc.replace(tzinfo=None), local.date(), local.hour * 2 + local.minute // 30


def load(url, tmp_path, stamps, site="rouen", department="60", **options):
    """Import one answered call per timestamp; returns contacts by contact_id."""
    lines = [HEADER] + [f"t{i},phone,{site},{department},{s},answered,5"
                        for i, s in enumerate(stamps)]
    path = tmp_path / f"{site}-{len(stamps)}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_file(url, "contacts", path, **options)
    assert report.exit_code == 0, report.error or report.rejected_by_reason
    with dbmod.get_engine(url).connect() as conn:
        rows = conn.execute(select(schema.contacts).where(
            schema.contacts.c.source == path.stem)).mappings().all()
    return report, {r["contact_id"]: r for r in rows}


def stored(row):
    return row["received_at"], row["local_date"], row["local_slot"]


PARIS_STAMPS = [
    "2015-03-28T23:30:00Z",        # midnight UTC → Paris 2015-03-29 00:30
    "2015-03-28T23:59:59",         # naive, still the 28th in Paris
    "2015-03-29T00:30:00",
    "2015-03-29T02:30:00",         # spring gap 2015 → 03:30 CEST, 01:30 UTC, slot 7
    "2014-03-30T02:30:00",         # spring gap 2014
    "2014-03-30T03:00:00",         # first minute of summer time 2014
    "2014-10-26T02:30:00",         # repeated hour 2014 → first occurrence, 00:30 UTC
    "2015-10-25T02:30:00",         # repeated hour 2015
    "2015-10-25T02:30:00+01:00",   # the second occurrence, given exactly
    "2015-10-25T01:59:59",
    "2015-10-25T03:00:00",
    "2015-03-29T09:12:00+02:00",
    "2015-03-29T09:12:00.250+0200",
    "2015-06-30 23:45",            # space separator, no seconds
    "2015-06-30T22:00:00z",
]


def test_paris_times_and_both_dst_changes(db_url, tmp_path):
    _, got = load(db_url, tmp_path, PARIS_STAMPS)
    for i, text in enumerate(PARIS_STAMPS):
        assert stored(got[f"t{i}"]) == expected(text, "Europe/Paris"), text


def test_hand_checked_anchors(db_url, tmp_path):
    """A few values written out by hand, as a check on the helper above."""
    _, got = load(db_url, tmp_path, ["2015-03-28T23:30:00Z", "2015-03-29T02:30:00",
                                     "2014-10-26T02:30:00", "2015-10-25T02:30:00+01:00"])
    assert stored(got["t0"]) == (dt.datetime(2015, 3, 28, 23, 30), dt.date(2015, 3, 29), 1)
    assert stored(got["t1"]) == (dt.datetime(2015, 3, 29, 1, 30), dt.date(2015, 3, 29), 7)
    assert stored(got["t2"]) == (dt.datetime(2014, 10, 26, 0, 30), dt.date(2014, 10, 26), 5)
    assert stored(got["t3"]) == (dt.datetime(2015, 10, 25, 1, 30), dt.date(2015, 10, 25), 5)


@pytest.mark.parametrize("zone, site, department", [
    ("Indian/Reunion", "saint-denis", "974"),
    ("America/Cayenne", "cayenne", "973"),
])
def test_a_site_in_another_time_zone(db_url, tmp_path, zone, site, department):
    stamps = ["2015-03-29T02:30:00", "2015-03-28T21:30:00", "2015-10-25T02:30:00",
              "2015-03-29T09:12:00+02:00"]
    report, got = load(db_url, tmp_path, stamps, site=site, department=department,
                       timezone=zone)
    assert report.warnings == [f"unknown site '{site}' created with time zone {zone}",
                               f"département(s) not in the reference data: {department}"]
    with dbmod.get_engine(db_url).connect() as conn:
        assert conn.execute(select(schema.sites.c.timezone).where(
            schema.sites.c.code == site)).scalar_one() == zone
    for i, text in enumerate(stamps):
        assert stored(got[f"t{i}"]) == expected(text, zone), text
        assert got[f"t{i}"]["department"] == department

    # Later files for that site need no --timezone: the site's own zone applies.
    later = ["2015-04-01T08:00:00"]
    report, got = load(db_url, tmp_path, later, site=site, department=department)
    assert not any("created" in w for w in report.warnings)
    assert stored(got["t0"]) == expected(later[0], zone)


def test_timezone_option_reads_naive_times_but_days_stay_the_sites(db_url, tmp_path):
    """--timezone says how the file's clock reads; local days remain the site's (Paris)."""
    stamps = ["2015-03-28T20:30:00"]
    _, got = load(db_url, tmp_path, stamps, timezone="America/Cayenne")
    assert stored(got["t0"]) == expected(stamps[0], "America/Cayenne", "Europe/Paris")
    assert got["t0"]["received_at"] == dt.datetime(2015, 3, 28, 23, 30)
    assert (got["t0"]["local_date"], got["t0"]["local_slot"]) == (dt.date(2015, 3, 29), 1)


# -- the one-step parse of plain timestamps is the general parse --------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dashboard.ingest import timestamps as ts  # noqa: E402

_plain = st.builds(
    lambda y, mo, d, sep, h, mi, s: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}",
    st.sampled_from([1899, 1900, 2014, 2015, 2100, 2101]), st.integers(0, 13),
    st.integers(0, 32), st.sampled_from(["T", " "]), st.integers(0, 25), st.integers(0, 60),
    st.integers(0, 60))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.none() | _plain | st.sampled_from(
    ["2015-03-29T02:30:00", "2015-10-25T02:30:00", "2015-03-29 02:00:00"]), min_size=1,
    max_size=20), zone=st.sampled_from(["Europe/Paris", "America/Cayenne", "UTC"]))
def test_plain_timestamps_parse_as_the_general_path_does(values, zone):
    import polars as pl

    frame = pl.DataFrame({"t": values}, schema={"t": pl.String})
    fast = ts._parse_in_zone(frame, ["t"], zone)
    general = ts._parse_in_zone(frame, ["t"], zone, fast=False)
    assert fast.equals(general)
