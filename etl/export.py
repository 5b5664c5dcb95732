"""The export stage: the warehouse's analyst tables and views as files analysts open directly.

`ofsted-ratings.xlsx` (sheets Summary, History, Changes, Publications, Visits, Improvements,
England over time, Activity, About), in words for people (headings, grades as Ofsted prints them, lists as
lines), and one CSV and one Parquet file per dataset, named after its table or view, with the
warehouse's keys for machines. Every dataset is read in one snapshot, every file is written whole
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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from etl import grades
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
SHEETS = {
    "Summary": "latest_inspections",
    "History": "rating_history",
    "Changes": "rating_changes",
    "Publications": "publications",
    "Visits": "visits",
    "Improvements": "improvements",
    "England over time": "grade_distribution",
    "Activity": "inspection_activity",
}
# a sheet headed for people: these of its dataset's columns, in this order, under these headings
SHEET_HEADINGS = {
    "Improvements": {
        "local_authority": "Council",
        "urn": "URN",
        "kind": "Kind",
        "framework": "Framework",
        "inspection_end": "Inspection ended",
        "published": "Published",
        "position": "Point",
        "text": "What needs to improve",
        "url": "Report",
    }
}


def _columns(ds: Dataset, names) -> Dataset:
    at = [ds.columns.index(n) for n in names]
    return Dataset(ds.name, list(names), [tuple(r[i] for i in at) for r in ds.rows])


def _england_quarters(ds: Dataset) -> Dataset:
    """England over time at quarter ends that count anyone (the files: every month end),
    overall effectiveness first, then the other headline areas, then the retired ones."""
    at = {c: ds.columns.index(c) for c in ("as_at", "area", "group_name", "councils", "not_judged")}
    order = {a: i for i, a in enumerate(HEADLINE_AREAS)}
    rows = [r for r in ds.rows if r[at["as_at"]].month in (3, 6, 9, 12) and (r[at["councils"]] or r[at["not_judged"]])]
    rows.sort(
        key=lambda r: (
            order.get(r[at["area"]], len(order)),
            r[at["area"]],
            r[at["group_name"]] != "England",
            r[at["group_name"]],
            r[at["as_at"]],
        )
    )
    return Dataset(ds.name, ds.columns, rows)


# a sheet showing part of its dataset
SHEET_ROWS = {
    "England over time": _england_quarters,
    "Improvements": lambda ds: _columns(ds, SHEET_HEADINGS["Improvements"]),
}
WRAP_COLUMNS = {"text", "focus", "title"}  # long text, wrapped in a wide column

# -- the workbook in words: headings and values as people and Ofsted's reports say them; the CSV
# and Parquet files keep the warehouse's keys (they are for machines)
HEADINGS = {
    "urn": "URN",
    "local_authority": "Council",
    "la_code": "LA code",
    "ons_code": "ONS code",
    "region": "Region",
    "framework": "Framework",
    "inspection_start": "Inspection started",
    "inspection_end": "Inspection ended",
    "published": "Published",
    "lead_inspector": "Lead inspector",
    "report_url": "Report",
    "url": "Link",
    "area": "Area",
    "grade": "Grade",
    "previous_grade": "Previous grade",
    "direction": "Direction",
    "previous_published": "Previous report published",
    "valid_from": "From",
    "valid_to": "Until",
    "is_current": "Current",
    "report_id": "Report ID",
    "source_area": "Area as the framework names it",
    "latest_report_id": "Latest report with this grade",
    "end_reason": "Why it ended",
    "change_id": "Change ID",
    "days_since_inspection": "Days since the inspection",
    "latest_visit_kind": "Latest visit",
    "latest_visit_published": "Latest visit published",
    "latest_visit_url": "Latest visit letter",
    "area_send_outcome": "Area SEND outcome",
    "area_send_date": "Area SEND inspection ended",
    "latest_visit_date": "Latest visit ended",
    "latest_visit_areas": "Latest visit looked at",
    "latest_visit_priority_actions": "Latest visit: areas for priority action",
    "latest_jtai_date": "Latest joint targeted area inspection",
    "latest_jtai_theme": "Latest JTAI theme",
    "kind": "Kind",
    "title": "Title",
    "first_seen": "First listed",
    "first_seen_run": "First listed by run",
    "last_seen": "Last listed",
    "link_refused": "Link refused because",
    "areas": "Looked at",
    "priority_actions": "Areas for priority action",
    "priority_action_texts": "The areas for priority action",
    "focus": "Focus as printed",
    "theme": "JTAI theme",
    "position": "Point",
    "text": "What needs to improve",
    "group_name": "England or region",
    "as_at": "As at",
    "councils": "Councils graded",
    "not_judged": "Not judged",
    "good_or_outstanding_pct": "Good or outstanding (%)",
    **{g: grades.printed(g) for g in ("outstanding", "good", "requires_improvement", "inadequate")},
}
GRADE_VALUES = {"grade", "previous_grade", "area_send_outcome"}
LIST_COLUMNS = {"areas", "latest_visit_areas", "priority_action_texts"}  # one line per item in the cell


def heading(column: str) -> str:
    """A column's heading in words: 'overall_effectiveness_direction' -> 'Overall effectiveness:
    direction', 'previous_in_care' -> 'Children in care: previous grade'."""
    if column in HEADINGS:
        return HEADINGS[column]
    if column in HEADLINE_AREAS:
        return grades.area_label(column)
    if column.removeprefix("previous_") in HEADLINE_AREAS:
        return grades.area_label(column.removeprefix("previous_")) + ": previous grade"
    if column.removesuffix("_direction") in HEADLINE_AREAS:
        return grades.area_label(column.removesuffix("_direction")) + ": direction"
    return column.replace("_", " ").capitalize()


def _items(column: str, value) -> list[str]:
    """A list cell's items: a letter's areas (comma-separated keys) in words, or a JSON list."""
    if column == "priority_action_texts":
        try:
            items = json.loads(value)
        except ValueError:  # not the list the warehouse stores: the text as it is
            items = [value]
        return [str(i) for i in (items if isinstance(items, list) else [items]) if i is not None]
    focus = grades.visit_focus([a for a in value.split(",") if a])  # in words, in the view's order
    return [item[:1].upper() + item[1:] for item in focus.split(", ")] if focus else []


def in_words(column: str, value):
    """A value as the workbook shows it: grades as Ofsted prints them, areas, frameworks, kinds and
    themes in words, a list as lines in one cell (each line neutralised: pasted elsewhere, a line
    becomes a cell). Numbers, dates and untrusted text pass as they are (`_write_cell`
    neutralises the text)."""
    if not isinstance(value, str):
        return value
    if _is_grade_column(column):
        return grades.printed(value)
    if column in ("area", "source_area"):
        return grades.area_label(value)
    if column == "framework":
        return grades.FRAMEWORK_LABELS.get(value, value)
    if column in ("kind", "latest_visit_kind"):
        return grades.KIND_LABELS.get(value, value)
    if column in ("theme", "latest_jtai_theme"):
        return (grades.theme_label(value) or value).capitalize()
    if column == "direction" or column.endswith("_direction") or column in ("end_reason", "inspection_type"):
        return value.replace("_", " ").capitalize()
    if column in LIST_COLUMNS:
        return "\n".join(neutralise(i) for i in _items(column, value)) or None
    return value


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
    "then, as Ofsted's official statistics count (table grade_distribution: every month end). "
    "Overall effectiveness first; a quarter that counts no council in the area is left out.",
    "Activity": "Every inspection and letter that ended in the previous and the current reporting year (1 April "
    "to 31 March; year), in date order: council, region, dates, kind, framework and type, the "
    "judgements as Ofsted prints them, a letter's areas and areas for priority action, a JTAI's theme "
    "(Ofsted's in-year activity; `ofsted query activity`).",
}
SOURCES = [
    ("Inspection reports", "Ofsted, reports.ofsted.gov.uk. Crown copyright; Open Government Licence v3.0."),
    (
        "Council codes, regions, statistical neighbours, population 0-25",
        "data-to-insight / JT-39 ofsted-ilacs-scrape-tool lookup (MIT licence, copyright 2019 its authors), "
        "compiled from DfE and ONS publications (Open Government Licence v3.0); corrections listed in "
        "etl/reference/README.md.",
    ),
    ("Reorganisations", "Structural changes orders (Open Government Licence v3.0)."),
    ("Warehouse schema and column meanings", "docs/warehouse.md in the ofsted-ratings repository."),
]
COLUMN_NOTES = {
    "urn": "Ofsted's unique reference number of the council's children's services",
    "local_authority": "the council's name on Ofsted's site",
    "la_code": "DfE three-digit local authority code",
    "ons_code": "ONS GSS area code",
    "region": "ONS region name",
    "framework": "inspection framework: LAC, SIF, ILACS 2018, ILACS 2023, ILACS 2026 (area SEND: Area SEND 2016, 2023)",
    "area": "tracked judgement area (docs/warehouse.md: how areas line up across frameworks)",
    "grade": "Outstanding, Good, Adequate (2012-13), Requires improvement to be good, Inadequate; Not judged where "
    "the framework does not judge the area",
    "previous_grade": "the grade at the council's previous graded inspection",
    "direction": "Improved, Declined or Unchanged",
    "valid_from": "inspection end date of the report that set the grade",
    "valid_to": "end of the period (exclusive); empty while current",
    "inspection_type": "an ILACS inspection's length on site: short (one week) or standard (two); empty for other "
    "frameworks and for a span of neither (docs/parsing.md)",
    "days_since_inspection": "days from the latest inspection's end to the extraction date",
    "report_url": "the report file on files.ofsted.gov.uk",
    "area_send_outcome": "the latest area SEND inspection's outcome (since 2023): positive experiences and "
    "outcomes, inconsistent experiences and outcomes, or widespread and/or systemic failings; "
    "its own scale, never compared with the grades",
    "area_send_date": "end of the area SEND inspection that set the outcome",
    "areas": "what a letter says the visit looked at: help and protection, children in care, care leavers, the "
    "impact of leaders (one a line; empty where the letter states no focus that could be read)",
    "priority_action_texts": "the areas for priority action the letter sets out, one a line (the first sentence of "
    "each)",
    "priority_actions": "the number of areas for priority action the letter sets out (0: none)",
    "latest_visit_date, latest_visit_areas, latest_visit_priority_actions": "the latest focused or monitoring visit's end date, what it looked at, its areas for priority action",
    "position, text": "an improvement point's place in its document's list (1 first) and its words, on one line",
    "group_name, as_at": "England over time: England or a region, as at this date",
    "year": "Activity: the reporting year (1 April to 31 March) in which the inspection or visit ended, e.g. 2025-26",
    "visit_areas, jtai_theme": "Activity: what a letter says the visit looked at; a JTAI's theme",
    "councils ... not_judged": "councils graded in the area (adequate counted as requires improvement), by grade; "
    "Not judged: councils whose latest inspection does not judge the area (ILACS 2026: "
    "overall effectiveness), out of the percentage",
}
KEYS_NOTE = (
    'This workbook is for people: its headings, grades (as Ofsted prints them: "Requires improvement '
    "to be good\"), areas, frameworks and kinds are in words, and a list (a letter's areas for priority "
    "action, what a visit looked at) is one line per item in its cell. The CSV and Parquet files are for "
    "machines: they keep the warehouse's keys, as the columns below name them: column names "
    "(overall_effectiveness_direction), grades (requires_improvement), areas and frameworks "
    "(help_and_protection, ilacs_2023), a letter's areas comma-separated and its areas for priority "
    "action as a JSON list (priority_action_texts)."
)
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
            columns, rows = (
                COMPUTED[name](wh) if name in COMPUTED else wh.query(f"SELECT * FROM {name} ORDER BY {DATASETS[name]}")
            )
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
    array's element, a line, else a word) and marked CUT_NOTE, never mid-structure."""
    if len(text) <= limit:
        return text
    room = limit - len(CUT_NOTE) - 4
    if "\n" in text[:room]:
        return text[:room].rsplit("\n", 1)[0] + "\n" + CUT_NOTE
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
        writer.writerow(
            [
                "" if v is None else v.isoformat() if isinstance(v, (date, datetime)) else neutralise_field(v)
                for v in row
            ]
        )
    return buf.getvalue()


def to_csv(ds: Dataset) -> bytes:
    return csv_text(ds.columns, ds.rows).encode("utf-8")


def to_parquet(ds: Dataset) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*ds.rows)) if ds.rows else [() for _ in ds.columns]
    table = pa.table(
        {
            name: pa.array(list(values), type=None if values else pa.string())
            for name, values in zip(ds.columns, columns)
        }
    )
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

    extracted = datetime.now(UTC).replace(microsecond=0)
    about = [
        *([("Freshness", freshness)] if freshness else []),
        ("Extracted", extracted.isoformat()),
        ("Parser version", PARSER_VERSION),
        ("Warehouse", engine),
        ("Councils", str(len(datasets["latest_inspections"].rows))),
    ]
    if allowed_hosts is None:
        allowed_hosts = Settings.from_env().allowed_hosts
    return to_xlsx(datasets, about, allowed_hosts)


def to_xlsx(datasets: dict[str, Dataset], about: list[tuple[str, str]], allowed_hosts=()) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    formats = _formats(book)
    for sheet, name in SHEETS.items():
        _write_sheet(
            book.add_worksheet(sheet),
            sheet_rows(sheet, datasets[name]),
            formats,
            tuple(allowed_hosts),
            SHEET_HEADINGS.get(sheet, {}),
        )
    _write_about(book.add_worksheet("About"), datasets, about, formats)
    book.close()
    return buf.getvalue()


def sheet_rows(sheet: str, ds: Dataset) -> Dataset:
    return SHEET_ROWS[sheet](ds) if sheet in SHEET_ROWS else ds


def _formats(book) -> dict:
    formats = {
        grade: book.add_format({"bg_color": s.fill, "font_color": s.text, "border": 1, "border_color": "#FFFFFF"})
        for grade, s in STYLES.items()
    }
    formats["header"] = book.add_format(
        {"bold": True, "bg_color": "#0B0C0C", "font_color": "#FFFFFF", "text_wrap": True, "valign": "top"}
    )
    formats["date"] = book.add_format({"num_format": "yyyy-mm-dd"})
    formats["datetime"] = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    formats["link"] = book.add_format({"font_color": "#1D70B8", "underline": 1})
    formats["title"] = book.add_format({"bold": True, "font_size": 14})
    formats["bold"] = book.add_format({"bold": True, "valign": "top"})
    formats["wrap"] = book.add_format({"text_wrap": True, "valign": "top"})
    return formats


def _is_grade_column(name: str) -> bool:
    return name in GRADE_VALUES or name.removeprefix("previous_") in HEADLINE_AREAS


def _write_sheet(
    ws, ds: Dataset, formats: dict, allowed_hosts: tuple[str, ...] = (), headings: dict[str, str] | None = None
) -> None:
    """Header = the columns in words (or the sheet's `headings`); frozen, filtered; values in
    words, grades coloured; links clickable; long text and lists wrapped."""
    header = [(headings or {}).get(c) or heading(c) for c in ds.columns]
    ws.write_row(0, 0, header, formats["header"])
    kinds = [
        (
            "grade"
            if _is_grade_column(c)
            else "link"
            if c in LINK_COLUMNS
            else "wrap"
            if c in WRAP_COLUMNS or c in LIST_COLUMNS
            else None
        )
        for c in ds.columns
    ]
    widths = [min(max(len(h), 8), 30) for h in header]
    for r, row in enumerate(ds.rows, 1):
        for c, value in enumerate(row):
            shown = None if value is None else in_words(ds.columns[c], value)
            if shown is not None:
                _write_cell(ws, r, c, shown, kinds[c], formats, allowed_hosts, look=value)
                widths[c] = max(widths[c], min(max(len(line) for line in str(shown).split("\n") or [""]), 60))
    for c, width in enumerate(widths):
        ws.set_column(c, c, (80 if kinds[c] == "wrap" and width >= 60 else width) + 2)
    ws.freeze_panes(1, 2 if ds.columns[:2] == ["urn", "local_authority"] else 1)
    ws.autofilter(0, 0, max(len(ds.rows), 1), len(ds.columns) - 1)


def _write_cell(ws, r: int, c: int, value, kind: str | None, formats: dict, allowed_hosts=(), look=None) -> None:
    """One cell; `look`: the stored value a grade cell is coloured by (its key)."""
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, formats["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(r, c, value, formats["date"])
    elif kind == "link" and safe_link(value, allowed_hosts) and len(value) <= XLSX_MAX_URL:
        ws.write_url(r, c, value, formats["link"], string=value)
    elif isinstance(value, str):  # never write(): it would turn "=..." into a formula
        style = (
            formats.get(look if look is not None else value)
            if kind == "grade"
            else formats["wrap"]
            if kind == "wrap"
            else None
        )
        ws.write_string(r, c, fit_cell(neutralise(value)), style)
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
        ws.write_string(
            r,
            1,
            f"{ABOUT[sheet]} {len(sheet_rows(sheet, datasets[name]).rows)} rows; also {name}.csv and {name}.parquet.",
            formats["wrap"],
        )
    r += 2
    ws.write_row(r, 0, ["Source", "Licence"], formats["header"])
    for source, licence in SOURCES:
        r += 1
        ws.write(r, 0, source, formats["wrap"])
        ws.write_string(r, 1, licence, formats["wrap"])
    r += 2
    ws.write(r, 0, "Words and keys", formats["bold"])
    ws.write_string(r, 1, KEYS_NOTE, formats["wrap"])
    r += 2
    ws.write_row(r, 0, ["Column", "Meaning", "Key in the CSV and Parquet files"], formats["header"])
    for column, meaning in COLUMN_NOTES.items():
        r += 1
        ws.write(
            r,
            0,
            " … ".join(", ".join(heading(k) for k in part.split(", ")) for part in column.split(" ... ")),
            formats["bold"],
        )
        ws.write_string(r, 1, meaning, formats["wrap"])
        ws.write_string(r, 2, column)
    r += 1
    ws.write(r, 0, "<area>: previous grade, <area>: direction", formats["bold"])
    ws.write_string(
        r,
        1,
        "the grade held the day before the latest inspection, and improved / declined / unchanged since",
        formats["wrap"],
    )
    ws.write_string(r, 2, "previous_<area>, <area>_direction")
    r += 2
    ws.write_row(r, 0, ["Grade", "As the files give it"], formats["header"])
    for grade in STYLES:
        r += 1
        ws.write_string(r, 0, grades.printed(grade), formats[grade])
        ws.write_string(r, 1, grade)
    ws.set_column(2, 2, 40)


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
