"""The export stage: the warehouse's analyst tables and views as files analysts open directly.

`ofsted-ratings.xlsx` (sheets Summary, History, Changes, Publications, Visits, Improvements,
England over time, Activity, About), and one CSV and one Parquet file per dataset, named after its table or
view. Every dataset is read in one snapshot, every file is written whole
(etl.landing.write_atomic) to a folder or any fsspec URL.
CSV and xlsx cells that a spreadsheet would run as a formula are neutralised (in a CSV, under any
common separator); a workbook cell longer than Excel holds is cut at a whole item, the CSV keeps it.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable

from etl.config import Settings
from etl.freshness import freshness
from etl.grades import HEADLINE_AREAS, STYLES
from etl.links import safe_link
from etl.warehouse import Warehouse, connect

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "parquet")
WORKBOOK = "ofsted-ratings.xlsx"

# dataset (table or view) -> ORDER BY; each becomes <name>.csv and <name>.parquet
DATASETS = {
    "latest_inspections": "local_authority, urn",
    "current_ratings": "local_authority, urn, area",
    "rating_history": "urn, area, valid_from",
    "rating_changes": "published, local_authority, area, urn",
    "neighbour_ratings": "local_authority, urn, neighbour_rank",
    "council_lineage": "urn, area, valid_from, source_urn",
    "publications": "urn, published, url",
    "visits": "urn, inspection_end, url",
    "improvements": "local_authority, urn, published, report_id, position",
    "ref_councils": "name",
    "grade_distribution": "area, group_name <> 'England', group_name, as_at",
}
# datasets computed by the query layer, not read with one SELECT: (snapshot) -> (columns, rows)
COMPUTED = {"inspection_activity": lambda wh: _two_years_activity(wh)}
SHEETS = {"Summary": "latest_inspections", "History": "rating_history", "Changes": "rating_changes",
          "Publications": "publications", "Visits": "visits", "Improvements": "improvements",
          "England over time": "grade_distribution", "Activity": "inspection_activity"}
# a sheet headed for people: these of its dataset's columns, in this order, under these headings
SHEET_HEADINGS = {"Improvements": {"local_authority": "Council", "urn": "URN", "kind": "Kind",
                                   "framework": "Framework", "inspection_end": "Inspection ended",
                                   "published": "Published", "position": "Point",
                                   "text": "What needs to improve", "url": "Report"}}


def _columns(ds: "Dataset", names) -> "Dataset":
    at = [ds.columns.index(n) for n in names]
    return Dataset(ds.name, list(names), [tuple(r[i] for i in at) for r in ds.rows])


# a sheet showing part of its dataset: England over time at quarter ends (the files: every month end)
SHEET_ROWS = {"England over time": lambda ds: Dataset(ds.name, ds.columns, [
    r for r in ds.rows if r[ds.columns.index("as_at")].month in (3, 6, 9, 12)]),
    "Improvements": lambda ds: _columns(ds, SHEET_HEADINGS["Improvements"])}
WRAP_COLUMNS = {"text"}   # long text, wrapped in a wide column

ABOUT = {
    "Summary": "One row per council the Ofsted site lists: its latest graded inspection, the grade in each "
               "headline area, the grade before it and the direction, and its latest ungraded visit "
               "(view latest_inspections).",
    "History": "Every council's grade in every tracked area over time, one row per period a grade was held "
               "(table rating_history, a type-2 slowly changing dimension).",
    "Changes": "Every change of grade between a council's consecutive graded inspections (view rating_changes).",
    "Publications": "Every publication listed on the councils' pages, graded or not (table publications).",
    "Visits": "Every letter read (focused and monitoring visits, joint targeted area inspections): the visit's "
              "dates, what it looked at and how many areas for priority action it set out (view visits).",
    "Improvements": "What every current report and letter says must improve, point by point in its order: the "
                    "council, the document's kind, framework and dates, and a link to it (view improvements; "
                    "current_improvements in the warehouse: each council's latest graded inspection's).",
    "England over time": "Councils by grade at each quarter end since 2012, in England and each region, for overall "
                         "effectiveness and every tracked area: each council's most recent inspection ended by "
                         "then, as Ofsted's official statistics count (table grade_distribution: every month end).",
    "Activity": "Every inspection and letter that ended in the previous and the current reporting year (1 April "
                "to 31 March; year), in date order: council, region, dates, kind, framework and type, the "
                "judgements as Ofsted prints them, a letter's areas and areas for priority action, a JTAI's theme "
                "(Ofsted's in-year activity; `ofsted query activity`).",
}
SOURCES = [
    ("Inspection reports", "Ofsted, reports.ofsted.gov.uk. Crown copyright; Open Government Licence v3.0."),
    ("Council codes, regions, statistical neighbours, population 0-25",
     "data-to-insight / JT-39 ofsted-ilacs-scrape-tool lookup (MIT licence, copyright 2019 its authors), "
     "compiled from DfE and ONS publications (Open Government Licence v3.0); corrections listed in "
     "etl/reference/README.md."),
    ("Reorganisations", "Structural changes orders (Open Government Licence v3.0)."),
    ("Warehouse schema and column meanings", "docs/warehouse.md in the ofsted-ratings repository."),
]
COLUMN_NOTES = {
    "urn": "Ofsted's unique reference number of the council's children's services",
    "local_authority": "the council's name on Ofsted's site",
    "la_code": "DfE three-digit local authority code",
    "ons_code": "ONS GSS area code",
    "region": "ONS region name",
    "framework": "inspection framework: lac, sif, ilacs_2018, ilacs_2023, ilacs_2026",
    "area": "tracked judgement area (docs/warehouse.md: how areas line up across frameworks)",
    "grade": "outstanding, good, adequate (2012-13), requires_improvement, inadequate; not_judged where the "
             "framework does not judge the area",
    "previous_grade": "the grade at the council's previous graded inspection",
    "direction": "improved, declined or unchanged",
    "valid_from": "inspection end date of the report that set the grade",
    "valid_to": "end of the period (exclusive); empty while current",
    "days_since_inspection": "days from the latest inspection's end to the extraction date",
    "report_url": "the report file on files.ofsted.gov.uk",
    "area_send_outcome": "the latest area SEND inspection's outcome (since 2023): positive, inconsistent or "
                         "systemic_failings; its own scale, never compared with the grades",
    "area_send_date": "end of the area SEND inspection that set the outcome",
    "areas": "what a letter says the visit looked at: help_and_protection, in_care, care_leavers, "
             "impact_of_leaders (sorted, comma-separated; empty where the letter states no focus that could be read)",
    "priority_actions": "the number of areas for priority action the letter sets out (0: none)",
    "latest_visit_date, latest_visit_areas, latest_visit_priority_actions":
        "the latest focused or monitoring visit's end date, what it looked at, its areas for priority action",
    "position, text": "an improvement point's place in its document's list (1 first) and its words, on one line",
    "group_name, as_at": "England over time: England or a region, as at this date",
    "year": "Activity: the reporting year (1 April to 31 March) in which the inspection or visit ended, e.g. 2025-26",
    "inspection_type": "an ILACS inspection's type, short or standard (blank where not recorded)",
    "visit_areas, jtai_theme": "Activity: what a letter says the visit looked at; a JTAI's theme",
    "councils ... not_judged": "councils graded in the area (adequate counted as requires improvement), by grade; "
                               "not_judged: councils whose latest inspection does not judge the area (ILACS 2026: "
                               "overall effectiveness), out of the percentage",
}
# values written as links in the workbook
LINK_COLUMNS = {"report_url", "latest_visit_url", "url"}
XLSX_MAX_URL = 2079  # longer links Excel cannot hold: written as text
# leading characters that make a spreadsheet evaluate a cell (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Dataset:
    name: str
    columns: list[str]
    rows: list[tuple]


def read_datasets(wh: Warehouse, names: Iterable[str] = (*DATASETS, *COMPUTED)) -> dict[str, Dataset]:
    """The datasets `names` (default: every one) from one consistent snapshot of the warehouse."""
    out = {}
    with wh.transaction():
        if wh.engine == "postgresql":
            wh.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for name in names:
            columns, rows = COMPUTED[name](wh) if name in COMPUTED else wh.query(
                f"SELECT * FROM {name} ORDER BY {DATASETS[name]}")
            out[name] = Dataset(name, columns, rows)
    return out


def _two_years_activity(wh: Warehouse) -> tuple[list[str], list[tuple]]:
    """Ofsted's in-year activity for the previous and the current reporting year (etl.outcomes)."""
    from etl import outcomes

    return outcomes.activity(wh, *outcomes.two_years(date.today()))


# a formula start after a separator inside a field: a spreadsheet opening the file with that
# separator (";" is the continental default, tab when pasted) starts a cell, a formula, there
_EMBEDDED_FORMULA = re.compile(r"([,;\t]\s*)(?=[=+\-@])")
XLSX_MAX_CELL = 32767  # characters Excel holds in a cell
CUT_NOTE = "(cut: full text in the CSV)"


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_field(value):
    """A CSV field that starts no formula under any common separator (comma, semicolon, tab):
    an apostrophe at its start and after each separator in it that a formula would follow."""
    if not isinstance(value, str):
        return value
    return neutralise(_EMBEDDED_FORMULA.sub(r"\1'", value))


def fit_cell(text: str, limit: int = XLSX_MAX_CELL) -> str:
    """Text as a workbook cell holds it: whole when it fits, else cut at a whole item (a JSON
    array's element, else a word) and marked CUT_NOTE, never mid-structure."""
    if len(text) <= limit:
        return text
    room = limit - len(CUT_NOTE) - 4
    try:
        items = json.loads(text)
    except ValueError:
        items = None
    if isinstance(items, list):
        kept, used = [], 2
        for item in items:
            used += len(json.dumps(item, ensure_ascii=False)) + 2
            if used > room:
                break
            kept.append(item)
        return json.dumps(kept, ensure_ascii=False) + CUT_NOTE
    return text[:room].rsplit(" ", 1)[0] + " … " + CUT_NOTE


# -- CSV and Parquet -------------------------------------------------------------------
def csv_text(columns: list[str], rows: Iterable[tuple]) -> str:
    """The one CSV writer (exports, the view's /councils.csv, `ofsted query --format csv`):
    dates as ISO, None as empty, formula-like cells neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralise_field(c) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, (date, datetime)) else neutralise_field(v)
                         for v in row])
    return buf.getvalue()


def to_csv(ds: Dataset) -> bytes:
    return csv_text(ds.columns, ds.rows).encode("utf-8")


def to_parquet(ds: Dataset) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*ds.rows)) if ds.rows else [() for _ in ds.columns]
    table = pa.table({name: pa.array(list(values), type=None if values else pa.string())
                      for name, values in zip(ds.columns, columns)})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# -- the workbook ----------------------------------------------------------------------
def workbook(datasets: dict[str, Dataset], engine: str, *, allowed_hosts=None, freshness: str = "") -> bytes:
    """The analysts' workbook (SHEETS and About) from datasets read by read_datasets, which
    must hold at least SHEETS' datasets. Links are hyperlinks only where the link rule allows
    (etl.links, to `allowed_hosts`: default, the settings'); others are text. `freshness`:
    etl.freshness's line ("Checked 10:02 today · last new report 23 July 2024")."""
    from etl.parse import PARSER_VERSION

    extracted = datetime.now(timezone.utc).replace(microsecond=0)
    about = [*([("Freshness", freshness)] if freshness else []),
             ("Extracted", extracted.isoformat()), ("Parser version", PARSER_VERSION),
             ("Warehouse", engine), ("Councils", str(len(datasets["latest_inspections"].rows)))]
    if allowed_hosts is None:
        allowed_hosts = Settings.from_env().allowed_hosts
    return to_xlsx(datasets, about, allowed_hosts)


def to_xlsx(datasets: dict[str, Dataset], about: list[tuple[str, str]], allowed_hosts=()) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "default_date_format": "yyyy-mm-dd"})
    formats = _formats(book)
    for sheet, name in SHEETS.items():
        _write_sheet(book.add_worksheet(sheet), sheet_rows(sheet, datasets[name]), formats, tuple(allowed_hosts),
                     SHEET_HEADINGS.get(sheet, {}))
    _write_about(book.add_worksheet("About"), datasets, about, formats)
    book.close()
    return buf.getvalue()


def sheet_rows(sheet: str, ds: Dataset) -> Dataset:
    return SHEET_ROWS[sheet](ds) if sheet in SHEET_ROWS else ds


def _formats(book) -> dict:
    formats = {grade: book.add_format({"bg_color": s.fill, "font_color": s.text, "border": 1, "border_color": "#FFFFFF"})
               for grade, s in STYLES.items()}
    formats["header"] = book.add_format({"bold": True, "bg_color": "#0B0C0C", "font_color": "#FFFFFF",
                                         "text_wrap": True, "valign": "top"})
    formats["date"] = book.add_format({"num_format": "yyyy-mm-dd"})
    formats["datetime"] = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    formats["link"] = book.add_format({"font_color": "#1D70B8", "underline": 1})
    formats["title"] = book.add_format({"bold": True, "font_size": 14})
    formats["bold"] = book.add_format({"bold": True, "valign": "top"})
    formats["wrap"] = book.add_format({"text_wrap": True, "valign": "top"})
    return formats


def _is_grade_column(name: str) -> bool:
    return (name in ("grade", "previous_grade", "area_send_outcome")
            or name.removeprefix("previous_") in HEADLINE_AREAS)


def _write_sheet(ws, ds: Dataset, formats: dict, allowed_hosts: tuple[str, ...] = (),
                 headings: dict[str, str] | None = None) -> None:
    """Header = the dataset's column names (or their `headings`); frozen, filtered; grades
    coloured; links clickable; long text wrapped."""
    header = [(headings or {}).get(c, c) for c in ds.columns]
    ws.write_row(0, 0, header, formats["header"])
    kinds = [("grade" if _is_grade_column(c) else "link" if c in LINK_COLUMNS else "wrap" if c in WRAP_COLUMNS
              else None) for c in ds.columns]
    widths = [80 if kind == "wrap" else max(len(h), 8) for kind, h in zip(kinds, header)]
    for r, row in enumerate(ds.rows, 1):
        for c, value in enumerate(row):
            if value is not None:
                _write_cell(ws, r, c, value, kinds[c], formats, allowed_hosts)
                widths[c] = max(widths[c], min(len(str(value)), 60))
    for c, width in enumerate(widths):
        ws.set_column(c, c, width + 2)
    ws.freeze_panes(1, 2 if ds.columns[:2] == ["urn", "local_authority"] else 1)
    ws.autofilter(0, 0, max(len(ds.rows), 1), len(ds.columns) - 1)


def _write_cell(ws, r: int, c: int, value, kind: str | None, formats: dict, allowed_hosts=()) -> None:
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, formats["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(r, c, value, formats["date"])
    elif kind == "link" and safe_link(value, allowed_hosts) and len(value) <= XLSX_MAX_URL:
        ws.write_url(r, c, value, formats["link"], string=value)
    elif isinstance(value, str):  # never write(): it would turn "=..." into a formula
        look = formats.get(value) if kind == "grade" else formats["wrap"] if kind == "wrap" else None
        ws.write_string(r, c, fit_cell(neutralise(value)), look)
    else:
        ws.write(r, c, value)


def _write_about(ws, datasets: dict[str, Dataset], about: list[tuple[str, str]], formats: dict) -> None:
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 110)
    ws.write(0, 0, "Ofsted ratings of English councils' children's services", formats["title"])
    r = 2
    for key, value in about:
        ws.write(r, 0, key, formats["bold"])
        ws.write_string(r, 1, value, formats["wrap"])
        r += 1
    r += 1
    ws.write_row(r, 0, ["Sheet", "What it holds"], formats["header"])
    for sheet, name in SHEETS.items():
        r += 1
        ws.write(r, 0, sheet, formats["bold"])
        ws.write_string(r, 1, f"{ABOUT[sheet]} {len(sheet_rows(sheet, datasets[name]).rows)} rows; also {name}.csv and "
                              f"{name}.parquet.", formats["wrap"])
    r += 2
    ws.write_row(r, 0, ["Source", "Licence"], formats["header"])
    for source, licence in SOURCES:
        r += 1
        ws.write(r, 0, source, formats["wrap"])
        ws.write_string(r, 1, licence, formats["wrap"])
    r += 2
    ws.write_row(r, 0, ["Column", "Meaning"], formats["header"])
    for column, meaning in COLUMN_NOTES.items():
        r += 1
        ws.write(r, 0, column, formats["bold"])
        ws.write_string(r, 1, meaning, formats["wrap"])
    r += 1
    ws.write(r, 0, "previous_<area>, <area>_direction", formats["bold"])
    ws.write_string(r, 1, "the grade held the day before the latest inspection, and improved / declined / "
                          "unchanged since", formats["wrap"])
    r += 2
    ws.write_row(r, 0, ["Grade", "Colour"], formats["header"])
    for grade, style in STYLES.items():
        r += 1
        ws.write_string(r, 0, grade, formats[grade])
        ws.write_string(r, 1, style.label)


# -- the stage -------------------------------------------------------------------------
@dataclass
class ExportResult:
    location: str
    files: list[str]
    rows: dict[str, int]


def export(settings: Settings, to: str | None = None, formats: tuple[str, ...] = FORMATS) -> ExportResult:
    """Read the warehouse once and write every requested format under `to` (default
    settings.export_url): a folder or an fsspec URL."""
    import fsspec

    from etl.landing import write_atomic

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}: choose from {', '.join(FORMATS)}")
    location = str(to or settings.export_url)
    with connect(settings.warehouse_url) as wh:
        datasets = read_datasets(wh)
        engine, fresh = wh.engine, freshness(wh).line()
    files: dict[str, bytes] = {}
    if "xlsx" in formats:
        files[WORKBOOK] = workbook(datasets, engine, allowed_hosts=settings.allowed_hosts, freshness=fresh)
    for name, ds in datasets.items():
        if "csv" in formats:
            files[f"{name}.csv"] = to_csv(ds)
        if "parquet" in formats:
            files[f"{name}.parquet"] = to_parquet(ds)
    fs, root = fsspec.core.url_to_fs(location)
    root = root.rstrip("/")
    for filename, data in files.items():
        write_atomic(fs, f"{root}/{filename}", data)
    log.info("export: %d files written to %s", len(files), location)
    return ExportResult(location, sorted(files), {n: len(d.rows) for n, d in datasets.items()})


def export_command(args, settings: Settings) -> int:
    """`ofsted export [--to DIR_OR_URL] [--format xlsx,csv,parquet]`."""
    formats = tuple(f.strip() for f in (args.format or ",".join(FORMATS)).split(",") if f.strip())
    try:
        result = export(settings, args.to, formats)
    except ValueError as exc:
        print(f"ofsted export: {exc}", file=sys.stderr)
        return 2
    print(f"exported {len(result.files)} files to {result.location} "
          f"({result.rows['latest_inspections']} councils, {result.rows['rating_history']} history rows)")
    return 0
