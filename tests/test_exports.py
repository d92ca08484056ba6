"""The downloads (dashboard/charts/exports.py): the .xlsx read back by openpyxl (a reader
that is not the writer), CSV injection neutralised in every export path, numbers left
alone. Expected values are written by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.charts import contact_table as ct
from dashboard.charts import exports
from dashboard.charts import tables
from dashboard.cli import kpis as kpis_cli
from dashboard.core.access import ALL_ROWS, Scope, pseudonym

# One payload per character a spreadsheet starts a formula with (OWASP's list).
PAYLOADS = ["=1+1", "+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tTAB", "\rCR"]
NATIONAL = Scope("national")


def _sheet(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.worksheets) == 1
    return book.worksheets[0]


def _csv_rows(text: str, delimiter: str = ",") -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


@pytest.fixture
def deferred(monkeypatch):
    """File name → builder of the files the download buttons register (Streamlit builds
    them on click)."""
    made: dict = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


# ------------------------------------------------------------------------ the workbook


def test_the_workbook_types_each_kind_and_freezes_its_french_header():
    table = exports.Table(pl.DataFrame({
        "Jour": [dt.date(2015, 3, 29), dt.date(2015, 3, 30)],
        "File": ["=HYPERLINK(\"http://x\",\"y\")", "particuliers"],
        "Attente moyenne": [23.5, None],
        "Taux de décroché": [0.8731, 1.0],
        "Appels reçus": [1234, 0],
        "Écart d'effectif": [-3.0, 0.5],
    }), {"Attente moyenne": "seconds", "Taux de décroché": "rate",
         "Écart d'effectif": "decimal"})
    sheet = _sheet(exports.xlsx_bytes(table, "Sites"))
    assert sheet.title == "Sites"
    assert [c.value for c in sheet[1]] == ["Jour", "File", "Attente moyenne",
                                           "Taux de décroché", "Appels reçus",
                                           "Écart d'effectif"]
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 3

    day = sheet["A2"]
    assert day.is_date and day.value == dt.datetime(2015, 3, 29)
    assert day.number_format == "dd/mm/yyyy"
    text = sheet["B2"]
    assert text.data_type == "s" and text.value == "=HYPERLINK(\"http://x\",\"y\")"
    seconds = sheet["C2"]
    assert seconds.data_type == "n" and seconds.value == 23.5
    assert sheet["C3"].value is None  # a missing value is an empty cell
    rate = sheet["D2"]
    assert rate.data_type == "n" and rate.value == pytest.approx(0.8731)
    assert rate.number_format == "0.0%"
    assert sheet["D3"].value == 1 and sheet["D3"].number_format == "0.0%"
    assert sheet["E2"].value == 1234 and sheet["E2"].number_format == "#,##0"
    assert sheet["F2"].value == -3 and sheet["F2"].data_type == "n"


def test_the_workbook_stores_every_formula_lookalike_as_text():
    frame = pl.DataFrame({"Agent": PAYLOADS + ["http://example.org", "0123", "-3"]})
    sheet = _sheet(exports.xlsx_bytes(frame))
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * 9  # not "f", nor a number
    # openpyxl reads "\r" back as "\n" (XML line-end normalisation); the rest exactly.
    assert [c.value for c in cells[:5]] == PAYLOADS[:5]
    assert [c.value for c in cells[6:]] == ["http://example.org", "0123", "-3"]
    assert not sheet._hyperlinks


def test_datetime_columns_and_frame_kinds_by_type():
    frame = pl.DataFrame({"Début": [dt.datetime(2015, 4, 7, 10, 5)], "Lues": [8],
                          "Part": [0.25], "Message": [None]},
                         schema={"Début": pl.Datetime("us"), "Lues": pl.Int64,
                                 "Part": pl.Float64, "Message": pl.String})
    sheet = _sheet(exports.xlsx_bytes(frame))
    assert sheet["A2"].value == dt.datetime(2015, 4, 7, 10, 5)
    assert sheet["A2"].number_format == "dd/mm/yyyy hh:mm"
    assert sheet["B2"].value == 8 and sheet["B2"].number_format == "#,##0"
    assert sheet["C2"].value == 0.25 and sheet["C2"].number_format == "#,##0.0"
    assert sheet["D2"].value is None
    assert exports.csv_text(frame) == "\ufeffDébut,Lues,Part,Message\n07/04/2015 10:05,8,0.25,\n"


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown column kind 'money'"):
        exports.xlsx_bytes(exports.Table(pl.DataFrame({"x": [1]}), {"x": "money"}))


def test_names():
    assert exports.xlsx_name("bilan-sites.csv") == "bilan-sites.xlsx"
    assert exports.xlsx_name("x.rejected.CSV") == "x.rejected.xlsx"
    assert _sheet(exports.xlsx_bytes(pl.DataFrame({"a": [1]}), "Lignes [rejetées]/2015")
                  ).title == "Lignes  rejetées  2015"


# ------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_prefixes_each_formula_start(payload):
    text = exports.csv_text(pl.DataFrame({"File": [payload], "Appels": [-3]}))
    rows = _csv_rows(text)
    assert rows == [["File", "Appels"], ["'" + payload, "-3"]]


def test_csv_leaves_plain_text_and_numbers_alone():
    frame = pl.DataFrame({"File": ["particuliers", "-3", "+33", "-1.5", "a=b", "", None],
                          "Écart": [-3.5, -3, 0, 0.25, None, 2, 1],
                          "Jour": [dt.date(2015, 3, 29)] * 7})
    rows = _csv_rows(exports.csv_text(frame))
    assert rows[1:] == [
        ["particuliers", "-3.5", "29/03/2015"], ["-3", "-3.0", "29/03/2015"],
        ["+33", "0.0", "29/03/2015"], ["-1.5", "0.25", "29/03/2015"],
        ["a=b", "", "29/03/2015"], ["", "2.0", "29/03/2015"], ["", "1.0", "29/03/2015"]]
    assert exports.neutralise("-3") == "-3"
    assert exports.neutralise("-3+2") == "'-3+2"
    assert exports.neutralise("Anne-Marie") == "Anne-Marie"


def test_the_cli_csv_neutralises_text_keys_but_not_numbers():
    frame = pl.DataFrame({"queue": ["=cmd", "particuliers"], "staffing_gap": [-3.5, 1.0],
                          "answered": [-3, 4]})
    assert kpis_cli.to_csv(frame) == ("queue,staffing_gap,answered\n"
                                      "'=cmd,-3.5,-3\nparticuliers,1.0,4\n")


# ---------------------------------------------------------------- the rejected rows


RAW = ("\ufeffline;reason;contact_id;queue;wait_seconds\n"
       "3;wait_seconds is negative;c-3;=HYPERLINK(\"http://x\");-3\n"
       "4;unknown site;@c4;\"+a;b\";\n"
       "5;bad;-c5;\tq;12\n").encode()


def test_the_rejected_rows_csv_is_neutralised_with_its_delimiter():
    out = exports.neutralise_csv(RAW).decode("utf-8")
    rows = _csv_rows(out, ";")
    assert rows == [
        ["line", "reason", "contact_id", "queue", "wait_seconds"],
        ["3", "wait_seconds is negative", "c-3", "'=HYPERLINK(\"http://x\")", "-3"],
        ["4", "unknown site", "'@c4", "'+a;b", ""],
        ["5", "bad", "'-c5", "'\tq", "12"],
    ]


def test_the_rejected_rows_workbook_keeps_text_as_text():
    table = exports.csv_lines_table(RAW)
    sheet = _sheet(exports.xlsx_bytes(table, "Lignes rejetées"))
    assert [c.value for c in sheet[1]] == ["line", "reason", "contact_id", "queue",
                                           "wait_seconds"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == 3 and sheet["A2"].data_type == "n"
    assert sheet["D2"].value == "=HYPERLINK(\"http://x\")" and sheet["D2"].data_type == "s"
    assert sheet["E2"].value == "-3" and sheet["E2"].data_type == "s"  # as read
    assert sheet["C3"].value == "@c4" and sheet["D3"].value == "+a;b"
    assert sheet["E3"].value is None


def test_a_ragged_or_empty_rejected_file_still_exports():
    table = exports.csv_lines_table(b"line,reason\n1,x,extra\n")
    assert table.frame.columns == ["line", "reason", "colonne 3"]
    assert table.frame.row(0) == (1, "x", "extra")
    assert exports.neutralise_csv(b"") == "\ufeff".encode()
    assert exports.csv_lines_table(b"").frame.width == 0
    assert _sheet(exports.xlsx_bytes(exports.csv_lines_table(b""))).max_row == 1


# ------------------------------------------------------------ tables from the registry


def test_metric_table_takes_kinds_from_the_registry_and_labels_from_the_screen():
    frame = pl.DataFrame({"day": ["2015-03-29", "2015-03-30"], "agent": ["r1", None],
                          "received": [10, 0], "answer_rate": [0.875, None],
                          "asa_seconds": [12.5, None], "staffing_gap": [-3.0, None]})
    by, metrics = ("day", "agent"), ("received", "answer_rate", "asa_seconds", "staffing_gap")
    shown = tables.display_table(frame, by, metrics, scope=NATIONAL)
    table = exports.metric_table(frame, by, metrics, shown)
    assert table.frame.columns == ["Jour", "Agent", "Appels reçus", "Taux de décroché",
                                   "Attente moyenne", "Écart d'effectif"]
    assert [table.kind(c) for c in table.frame.columns] == [
        "date", "text", "count", "rate", "seconds", "decimal"]
    assert table.frame["Agent"].to_list() == [pseudonym("r1"), "non attribué"]
    sheet = _sheet(exports.xlsx_bytes(table))
    assert sheet["A2"].value == dt.datetime(2015, 3, 29)
    assert sheet["B2"].value == pseudonym("r1")
    assert sheet["C2"].value == 10
    assert sheet["D2"].value == 0.875 and sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].value == 12.5 and sheet["F2"].value == -3
    assert sheet["D3"].value is None
    rows = _csv_rows(exports.csv_text(table))
    assert rows[1] == ["29/03/2015", pseudonym("r1"), "10", "0.875", "12.5", "-3.0"]


def test_contact_rows_downloads_neutralise_imported_text():
    rows = pl.DataFrame([{
        "received_local": dt.datetime(2015, 5, 11, 9, 10), "channel": "phone",
        "outcome": "answered", "wait_seconds": 40, "talk_seconds": 300, "wrap_seconds": 30,
        "agent_id": "r1", "site": "rouen", "department": "60", "queue": "@SUM(1)",
        "online_service_promoted": True, "contact_id": "=cmd",
    }])
    table = ct.display_rows(rows, ALL_ROWS, agent_names={"r1": "-Aline"}, with_date=True)
    csv_rows = _csv_rows(ct.csv_text(table))
    assert csv_rows[1] == ["11/05/2015", "09:10:00", "Téléphone", "Décroché", "40", "300",
                           "30", "'-Aline", "60", "'@SUM(1)", "rouen", "oui", "'=cmd"]
    sheet = _sheet(exports.xlsx_bytes(ct.export_table(table), "Contacts"))
    assert sheet["A2"].value == dt.datetime(2015, 5, 11)
    assert sheet["D2"].value == "Décroché"
    assert sheet["E2"].value == 40 and sheet["E2"].data_type == "n"
    assert [sheet[c].value for c in ("H2", "J2", "M2")] == ["-Aline", "@SUM(1)", "=cmd"]
    assert {sheet[c].data_type for c in ("H2", "J2", "M2")} == {"s"}


# -------------------------------------------------------------- the buttons (AppTest)


def _buttons_app():
    import polars as pl

    from dashboard.charts import exports
    from dashboard.ui import widgets

    shown = pl.DataFrame({"File": ["=1+1"], "Taux de décroché": ["87,5 %"]})
    typed = exports.Table(pl.DataFrame({"File": ["=1+1"], "Taux de décroché": [0.875]}),
                          {"Taux de décroché": "rate"})
    widgets.download_csv(shown, "files.csv", key="dl-files", export=typed)
    widgets.download_lines(b"line,reason,queue\n2,bad,+x\n", "f.rejected.csv", key="dl-raw",
                           label="Télécharger les lignes rejetées")


def test_every_table_download_offers_csv_and_excel(deferred):
    at = AppTest.from_function(_buttons_app).run()
    assert not at.exception
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Télécharger (CSV)", "Télécharger (Excel)",
        "Télécharger les lignes rejetées (CSV)", "Télécharger les lignes rejetées (Excel)"]
    # Nothing is written before a click.
    assert list(deferred) == ["files.csv", "files.xlsx", "f.rejected.csv", "f.rejected.xlsx"]
    table_csv, table_xlsx, raw_csv, raw_xlsx = (make() for make in deferred.values())
    assert table_csv == "\ufeffFile,Taux de décroché\n'=1+1,0.875\n"
    sheet = _sheet(table_xlsx)
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=1+1"
    assert sheet["B2"].value == 0.875 and sheet["B2"].number_format == "0.0%"
    assert raw_csv == "\ufeffline,reason,queue\n2,bad,'+x\n".encode()
    assert _sheet(raw_xlsx)["C2"].value == "+x"


def test_bilan_downloads_the_figures_shown_as_numbers(monkeypatch, demo_db_url, deferred):
    from tests.apptest import open_page

    at = open_page(monkeypatch, demo_db_url, "pages/bilan.py", "directeur")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:5] == ["Télécharger le rapport de bilan (HTML)", "Télécharger (CSV)",
                          "Télécharger (Excel)", "Télécharger (CSV)", "Télécharger (Excel)"]
    # The sites side by side, French text (after the tools' tables).
    shown = next(d.value for d in at.dataframe if "Taux de décroché" in d.value.columns)
    sites_csv, sites_xlsx = deferred["bilan-sites.csv"](), deferred["bilan-sites.xlsx"]()
    sheet = _sheet(sites_xlsx)
    header = [c.value for c in sheet[1]]
    assert header == list(shown.columns)
    assert sheet.freeze_panes == "A2"
    rate = header.index("Taux de décroché")
    aht = header.index("Durée moyenne de traitement")
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == list(shown["Site"])
    for row, on_screen in zip(rows, shown.to_dict("records")):
        cell = row[rate]
        assert cell.data_type == "n" and cell.number_format == "0.0%"
        assert 0 < cell.value <= 1
        # The same figure as on screen, once formatted as the screen does ("87,3 %").
        percent = f"{cell.value * 100:.1f}".replace(".", ",")
        assert on_screen["Taux de décroché"] == f"{percent}\u202f%"
        assert row[aht].data_type == "n" and row[aht].value > 0
    # The CSV carries the fractions too, not the French text.
    csv_rows = _csv_rows(sites_csv)
    assert csv_rows[0] == header
    assert [float(r[rate]) for r in csv_rows[1:]] == pytest.approx([r[rate].value for r in rows])
