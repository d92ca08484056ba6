"""Map the Technion "Anonymous Bank" call log to the dashboard's contacts import format.

    python examples/anonymous_bank.py IN.tsv OUT.csv [--no-caller-id]
    DASHBOARD_CALLER_KEY_SECRET=... python -m dashboard ingest contacts OUT.csv \\
        --timezone Asia/Jerusalem --source anonymous-bank-1999-02

IN is the tab-separated file described in ../shared/data/README.md (one row per call that
reached the bank's call centre, February 1999). The rules, and why (examples/README.md
gives the figures they lead to):

- PHANTOM rows are skipped: the data set's own documentation says to ignore them (calls
  the switch logged that nobody placed). Every other row becomes one phone contact.
- site `bank`, département `99` (the prefix INSEE gives places abroad; no French
  département has it, and it passes the contract's `^\\d{2}$`), queue = `type`
  (PS, PE, IN, NE, NW, TT).
- contact_id = `<date>-<vru+line>-<call_id>`: call_id alone repeats across VRU lines
  (17,828 repeats in the month), the pair does not, and the date keeps months apart.
- outcome: AGENT → answered, HANG → abandoned.
- received_at = `date` + `q_start` when the call queued, else + `vru_exit` (it went
  straight from the voice menu to an agent, or hung up in the menu). Times are local
  clock times, written naive: the import's `--timezone Asia/Jerusalem` places them.
- Midnight: a clock time more than 12 hours *earlier* than the call's `vru_entry` belongs
  to the next day (23:59:56 → 0:00:02 is six seconds, not minus a day). A time earlier
  by less than that is the log's own error and is kept as written (25 rows have
  `vru_exit` up to 71 s before `vru_entry`: a negative `vru_time`, a field not imported).
- wait_seconds = `q_time`, talk_seconds = `ser_time`, as logged. No answered_at or
  ended_at: `ser_start`/`ser_exit` come from the agents' switch, whose clock runs a
  second or two apart from the queue's (ser_start precedes q_exit in about 9,900 calls),
  so mixing the two clocks would invent negative waits; the durations are consistent.
- agent_id = `server` unless NO_SERVER (491 answered calls have no agent: they count in
  every total, as "non attribué" in agent tables).
- caller_id = `customer_id` unless 0 (unidentified); the importer keeps only its keyed
  hash. Twenty-one ids were mangled by a spreadsheet into `6.02701E+11`; they are passed
  as written, so the customers behind one mangled id share one caller_key.
- Nothing else is fixed: rows whose fields contradict their outcome (a HANG with a
  service time) are left for the importer to reject with their line number.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

SITE = "bank"
DEPARTMENT = "99"
TIMEZONE = "Asia/Jerusalem"
NONE_TIME = "0:00:00"
OUTCOMES = {"AGENT": "answered", "HANG": "abandoned"}
COLUMNS = ("contact_id", "channel", "site", "department", "queue", "received_at", "outcome",
           "wait_seconds", "talk_seconds", "agent_id", "caller_id")
HALF_DAY = 12 * 3600


def clock_seconds(text: str) -> int:
    """Seconds since midnight of an unpadded H:MM:SS clock time."""
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def call_date(yymmdd: str) -> dt.date:
    """The call's date; the data set is from 1999, two-digit years are 19xx."""
    return dt.date(1900 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))


def timestamp(day: dt.date, entry: str, clock: str) -> dt.datetime:
    """Naive local datetime of CLOCK on the call that entered the VRU at ENTRY on DAY."""
    seconds = clock_seconds(clock)
    if seconds < clock_seconds(entry) - HALF_DAY:
        day += dt.timedelta(days=1)  # the clock passed midnight during the call
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


def map_row(row: dict[str, str], with_caller_id: bool = True) -> dict[str, str] | None:
    """One contacts row for one call, or None for a PHANTOM call."""
    outcome = OUTCOMES.get(row["outcome"])
    if outcome is None:
        return None
    day = call_date(row["date"])
    queued = row["q_start"] != NONE_TIME
    received = timestamp(day, row["vru_entry"], row["q_start"] if queued else row["vru_exit"])
    server = row["server"].strip()
    customer = row["customer_id"].strip()
    return {
        "contact_id": f"{row['date']}-{row['vru+line']}-{row['call_id']}",
        "channel": "phone",
        "site": SITE,
        "department": DEPARTMENT,
        "queue": row["type"].strip(),
        "received_at": received.isoformat(),
        "outcome": outcome,
        "wait_seconds": row["q_time"].strip(),
        "talk_seconds": row["ser_time"].strip(),
        "agent_id": "" if server == "NO_SERVER" else server,
        "caller_id": customer if with_caller_id and customer != "0" else "",
    }


def convert(source: Path, target: Path, with_caller_id: bool = True) -> Counter:
    """Write TARGET from SOURCE; returns counts of calls written and skipped."""
    counts: Counter = Counter()
    with source.open(encoding="utf-8", newline="") as fin, \
            target.open("w", encoding="utf-8", newline="") as fout:
        reader = csv.DictReader(fin, delimiter="\t")
        columns = COLUMNS if with_caller_id else COLUMNS[:-1]
        writer = csv.DictWriter(fout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in reader:
            mapped = map_row(row, with_caller_id)
            if mapped is None:
                counts[f"skipped {row['outcome']}"] += 1
                continue
            writer.writerow(mapped)
            counts["written"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line: IN.tsv OUT.csv [--no-caller-id]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="anonymous-bank TSV file")
    parser.add_argument("target", type=Path, help="contacts CSV to write")
    parser.add_argument("--no-caller-id", action="store_true",
                        help="leave caller_id out (then no secret is needed to import)")
    args = parser.parse_args(argv)
    try:
        counts = convert(args.source, args.target, not args.no_caller_id)
    except (OSError, KeyError, ValueError) as exc:
        print(f"error: {args.source}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
    print(f"{args.target}: {summary}; import with --timezone {TIMEZONE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
