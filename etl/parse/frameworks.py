"""Framework recognition and the judgement rules of each framework.

Every graded report states each judgement twice, so each framework reader returns two maps:
`table` (the page-1 table, or the LAC "Record of main findings") and `body` (section headings,
"Key judgement" boxes, graded-judgement sentences, the LSCB summary, LAC "Grade n (x)" lines).
Reconciling them is the caller's job (see `reconcile`). Rules work on whitespace-collapsed
text, so a label or grade wrapped over several lines reads the same as one on a single line."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from etl.parse.fields import (
    DATE_RANGE_TEXT,
    GRADE_PATTERN,
    GRADE_RE,
    clean_name,
    clean_names,
    grade_key,
    parse_date,
    parse_range,
)
from etl.parse.text import PdfText, clean, flat
from etl.records import FRAMEWORK_AREAS, REQUIRED_AREAS, Visit

G = rf"(?P<grade>{GRADE_PATTERN})\b"
I = re.I


@dataclass
class Reading:
    kind: str
    framework: str | None = None
    local_authority: str | None = None
    inspection_start: date | None = None
    inspection_end: date | None = None
    published: date | None = None
    lead_inspector: str | None = None
    table: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)
    expected: tuple[str, ...] = ()
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # non-blocking: the document counts
    visit: Visit | None = None  # letters only
    dates_flagged: bool = False  # the reader held it for its dates, saying why
    inspection_type: str | None = None  # ILACS only: short | standard (inspection_type)


# --- recognition -------------------------------------------------------------------------

LAC_TITLE = re.compile(r"inspection of looked after children'?s? services", I)
SIF_TITLE = re.compile(
    r"(?:re-?\s?)?inspection of services for children in need of help and "
    r"protection,? children looked after and care leavers",
    I,
)
ILACS_TITLE = re.compile(
    r"inspection of (?:(?P<la>.{2,90}?) )??(?:local authority children's services|"
    r"children's social care services|children's services)",
    I,
)
# the ILACS judgement table's header and a first row naming an area, whatever the title says
# (e.g. a trust)
ILACS_TABLE = re.compile(r"judgements? grade [^.]{0,80}?\b(?:leaders|help and protection|in care|care leavers)\b", I)
LETTER = re.compile(
    r"\b(?P<what>focused|monitoring) visit (?:to|of)\b|findings of the "
    r"(?P<what2>focused|monitoring) visit",
    I,
)
JTAI = re.compile(r"joint targeted area inspection", I)
# area SEND: the 2023 report's title; the older letters' and revisits' headings
AREA_SEND = re.compile(r"\barea SEND (?:full |monitoring )?(?:re)?inspection (?:of|in)\b", I)
AREA_SEND_LETTER = re.compile(
    r"\blocal area (?:SEND|special educational needs)[^.]{0,60}?\b(?:inspection|revisit)\b"
    r"|\bjoint (?:local )?area SEND\b|\bSEND (?:re)?visit\b",
    I,
)
LSCB_TITLE = re.compile(r"review of the (?:effectiveness of the )?local safeguarding children board", I)
OFSTED = re.compile(r"\bofsted\b|majesty's inspector", I)


def identify(page1: str) -> str:
    """'lac', 'sif', 'lscb_review', 'ilacs', 'area_send', 'focused_visit', 'monitoring_visit',
    'jtai', 'other' or 'not_report', from the title at the top of page 1 (never from a date)."""
    text = flat(page1)
    top = text[:400]
    if LAC_TITLE.search(top):
        return "lac"
    if SIF_TITLE.search(top):
        return "sif"
    if LSCB_TITLE.search(top):  # the board's review published on its own (SIF years)
        return "lscb_review"
    if ILACS_TITLE.search(top[:250]) or ILACS_TABLE.search(top):
        return "ilacs"
    if AREA_SEND.search(top):
        return "area_send"
    m = LETTER.search(text)
    if m:
        return f"{(m.group('what') or m.group('what2')).lower()}_visit"
    letter_top = text[:1500]  # a letter's heading follows its letterhead and address
    if JTAI.search(letter_top):
        return "jtai"
    if AREA_SEND_LETTER.search(letter_top):
        return "area_send"
    if OFSTED.search(text):
        return "other"
    return "not_report"


# --- shared helpers ----------------------------------------------------------------------


def _first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, I)
    return grade_key(m.group("grade")) if m else None


def printed_dates(text: str) -> tuple[date | None, date | None]:
    """The printed inspection dates; a one-day inspection ("Inspection date: 28 July 2016")
    starts and ends that day."""
    m = re.search(rf"inspection dates?\s*:?\s*({DATE_RANGE_TEXT})", text, I)
    if m:
        return parse_range(m.group(1))
    m = re.search(
        r"inspection dates?\s*:?\s*(\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]+\.?\s+\d{4}|\d{1,2}/\d{1,2}/\d{2,4})", text, I
    )
    day = parse_date(m.group(1)) if m else None
    return day, day


def _published(text: str) -> date | None:
    m = re.search(
        r"\bpublished\s*:?\s*(\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]+\.?\s+\d{4}"
        r"|\d{1,2}/\d{1,2}/\d{2,4})",
        text,
        I,
    )
    return parse_date(m.group(1)) if m else None


_LEAD = re.compile(
    r"(?<!deputy )(?:lead|reporting) inspector(?P<plural>s)?(?: on site)?\s*:?[ \t]*"
    r"(?P<name>[^\n]*)",
    I,
)


def _inspector(raw_pages: list[str]) -> str | None:
    """The lead inspector from the first 'Lead/Reporting inspector' line among raw_pages
    (a name wrapped onto the next line is followed there)."""
    for raw in raw_pages:
        for m in _LEAD.finditer(raw):
            name = m.group("name").strip()
            following = raw[m.end() :].lstrip("\n").split("\n", 1)[0]
            if not name:  # name on the next line
                name = following
            if m.group("plural"):  # "Lead inspectors: A, HMI, and B, \nHMI"
                found = clean_names(name + " " + following if name.rstrip().endswith(",") else name)
            else:
                found = clean_name(name)
            if found:
                return found
    return None


# --- judgement tables, read by structure ---------------------------------------------------
# A table row is a short label followed by a grade, with no verb between them. Its area is
# named by key words, whatever the words around them ("The experiences and progress of
# children in care", "Children in care", "Experiences of children looked after").
AREA_WORDS = (
    ("lscb", re.compile(r"\blscb\b|safeguarding children board", I)),
    ("overall", re.compile(r"\boverall\b", I)),
    ("adoption", re.compile(r"\badoption\b", I)),
    ("leaders", re.compile(r"\bleaders?(?:hip)?\b|\bmanagement\b|\bgovernance\b", I)),
    ("help", re.compile(r"\bhelp\b|\bprotection\b", I)),
    ("care_leavers", re.compile(r"\bcare[- ]leavers?\b|\bleaving care\b|\bcare[- ]experienced\b", I)),
    ("in_care", re.compile(r"\bin care\b|\blooked[- ]after\b|\bpermanence\b", I)),
)
# where a row's label starts: after a sentence or the table's header (a row number's "1. "
# is part of its row: rows run together in the text then read as one label naming several areas)
_LABEL_START = re.compile(r".*(?:(?<!\b\d)(?<!\b\d\d)[.!?:;]\s|\bjudgements?\s+grades?\b\s*)", I | re.S)
# a grade after one of these words is a sentence's ("... was judged to be good"), not a row's;
# after a colon, a body heading's ("... help and protection: good")
_NOT_A_ROW = re.compile(
    r"(?:\b(?:is|are|be|been|being|was|were|as|remains?|receives?|not|now|very|"
    r"and|or|a|an|the|to|of|judged|rated|consistently|mostly|largely)|:)\s*$",
    I,
)
MAX_LABEL = 160
_ROW_NUMBER = re.compile(r"[\d.\s]*")


def area_of(label: str) -> str | None:
    """The area a row label names by its key words; None when it names none, or several
    (text from two rows run together), except children in care with care leavers (ILACS 2018)."""
    found = {name for name, words in AREA_WORDS if words.search(label)}
    if found == {"in_care", "care_leavers"}:
        return "in_care_and_care_leavers"
    return found.pop() if len(found) == 1 else None


def table_runs(text: str) -> list[list[tuple[str, str]]]:
    """Runs of consecutive label-then-grade rows in whitespace-collapsed text: a row whose
    label follows the previous row's grade directly (or after a row number) continues the
    run; one after a sentence starts a new run; text that cannot be a row ends it."""
    runs: list[list[tuple[str, str]]] = [[]]
    start = 0
    for m in GRADE_RE.finditer(text):
        previous, start = start, m.end()
        window = max(previous, m.start() - MAX_LABEL - 40)  # a longer label is no label
        label = text[window : m.start()].rstrip(" .")  # "... families." then its grade
        cut = _LABEL_START.match(label)
        lead, label = (label[: cut.end()], label[cut.end() :]) if cut else ("", label)
        label = label.strip(" -,")
        if not (2 < len(label) <= MAX_LABEL) or _NOT_A_ROW.search(label):
            runs.append([])
            continue
        if window != previous or not _ROW_NUMBER.fullmatch(lead):
            runs.append([])  # after a sentence or a header: a new run
        runs[-1].append((re.sub(r"^[\d.\s]+", "", label), grade_key(m.group())))
    return [run for run in runs if run]


def read_table(text: str, keys: dict[str, str]) -> dict[str, str]:
    """{framework key: grade} from the run of rows that names the most areas (`keys` maps
    area_of's names to the framework's keys; the first row naming an area counts)."""
    best: dict[str, str] = {}
    for run in table_runs(text):
        found: dict[str, str] = {}
        for label, grade in run:
            key = keys.get(area_of(label) or "")
            if key and key not in found:
                found[key] = grade
        if len(found) > len(best):
            best = found
    return best


SPILL = 300  # how far down page 2 a page-1 table may run on


def read_page1_table(pdf: PdfText, p1: str, keys: dict[str, str]) -> tuple[dict[str, str], int]:
    """The page-1 table, with any rows it runs on with at the top of page 2 (past a page
    footer); and how many characters of page 2 those rows take (for the body to skip)."""
    table = read_table(p1, keys)
    spill = 0
    if pdf.pages > 1 and set(keys.values()) - set(table):
        more = read_table(flat(pdf.page(1))[:SPILL], keys)
        for key in set(more) - set(table):
            table[key], spill = more[key], SPILL
    return table, spill


def read_table_layout(pdf: PdfText, keys: dict[str, str]) -> dict[str, str]:
    """The page-1 table read from its layout (pdfplumber's ruled cells), for a table whose
    text order does not give label-then-grade (cells drawn column by column, a row's text
    interleaved with its neighbour's). Slower than the text reading: used only where that
    leaves an area unmatched."""
    import pdfplumber

    found: dict[str, str] = {}
    with pdfplumber.open(io.BytesIO(pdf.data), pages=[1]) as doc:
        for table in doc.pages[0].extract_tables():
            for row in table:
                cells = [flat(clean(c)) for c in row if c]
                if len(cells) < 2 or not GRADE_RE.fullmatch(cells[-1]):
                    continue
                key = keys.get(area_of(" ".join(cells[:-1])) or "")
                if key and key not in found:
                    found[key] = grade_key(cells[-1])
    return found


# --- ILACS (2018, 2023, 2026) ------------------------------------------------------------

ILACS_LABELS = {
    "impact_of_leaders": r"impact of leaders on social work practice with children and families",
    "help_and_protection": r"experiences and progress of children who need help and protection",
    "in_care_and_care_leavers": r"experiences and progress of children in care and care leavers",
    "in_care": r"experiences and progress of children in care(?! and care leavers)",
    "care_leavers": r"experiences and progress of (?:children )?care leavers",
    "overall_effectiveness": r"overall effectiveness",
}
ILACS_KEYS = {
    "overall": "overall_effectiveness",
    "leaders": "impact_of_leaders",
    "help": "help_and_protection",
    "in_care_and_care_leavers": "in_care_and_care_leavers",
    "in_care": "in_care",
    "care_leavers": "care_leavers",
}


def read_ilacs(pdf: PdfText) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection")
    m = ILACS_TITLE.search(p1[:250])
    if m and m.group("la"):
        r.local_authority = m.group("la")
    elif m:  # 2018 layout: the council's name is printed above the title
        r.local_authority = re.sub(r"^\d+\s+", "", p1[: m.start()]).strip() or None
    else:  # a title naming a trust or other body: everything up to the dates
        m = re.match(r"(?:\d+ )?inspection of (.{2,120}?) inspection dates?", p1, I)
        r.local_authority = m.group(1) if m else None
    r.inspection_start, r.inspection_end = printed_dates(p1)
    r.lead_inspector = _inspector([raw1])
    r.table, spill = read_page1_table(pdf, p1, ILACS_KEYS)
    # body: the section headings ("<label>: <grade>", "<label> is <grade>", "<label> <grade>")
    body = flat("\n".join(pdf.page(i) for i in range(1, pdf.pages)))[spill:]
    for area, label in ILACS_LABELS.items():
        grade = _first(rf"{label}\s*(?:\b(?:is|are)\b)?\s*:?\s*{G}", body)
        if grade:
            r.body[area] = grade
    _layout_fallback(pdf, r, ILACS_KEYS)  # before the framework is told from the table's rows
    seen = set(r.table) | set(r.body)
    if "in_care_and_care_leavers" in seen:
        r.framework = "ilacs_2018"
    elif "overall_effectiveness" in r.table:
        r.framework = "ilacs_2023"
    elif {"in_care", "care_leavers"} & seen:
        r.framework = "ilacs_2026"
        if "overall_effectiveness" in r.body:
            r.flags.append(
                "ilacs_2026 layout (no overall row in the table) but the body states an overall effectiveness grade"
            )
    else:
        r.framework = None
        r.flags.append("ILACS title but no judgement table recognised")
    r.expected = FRAMEWORK_AREAS.get(r.framework, ())
    r.inspection_type, note = inspection_type(r.inspection_start, r.inspection_end) if r.framework else (None, None)
    if note:
        r.notes.append(note)
    return r


# ILACS sets the length on site and the reports never print the word: a short inspection is
# one week on site, a standard one two (Ofsted's statistics count by it)
INSPECTION_WEEKS = {1: "short", 2: "standard"}


def inspection_type(start: date | None, end: date | None) -> tuple[str | None, str | None]:
    """An ILACS inspection's type from its on-site dates: the calendar weeks the span from the
    first to the last day covers (up to 7 days: one week, short; 8 to 14: two, standard), and a
    note where the span fits neither (None: dates not read, or a length of neither)."""
    if start is None or end is None or end < start:
        return None, None
    days = (end - start).days + 1
    weeks = -(-days // 7)
    if weeks in INSPECTION_WEEKS:
        return INSPECTION_WEEKS[weeks], None
    return None, (
        f"inspection_type: on site {start.isoformat()} to {end.isoformat()} ({days} days),"
        " neither one week (short) nor two (standard)"
    )


def _layout_fallback(pdf: PdfText, r: Reading, keys: dict[str, str]) -> None:
    """Where the body (or, once known, the framework) names an area the text reading found
    no row for, read the page-1 table from its layout to fill it in."""
    wanted = (set(r.body) | set(REQUIRED_AREAS.get(r.framework, ()))) & set(keys.values())
    if wanted - set(r.table):
        for key, grade in read_table_layout(pdf, keys).items():
            r.table.setdefault(key, grade)


# --- SIF (2013-2018) ---------------------------------------------------------------------

# the table's rows (the overall judgement is the headline's, the LSCB's a statement of its own)
SIF_KEYS = {
    "help": "help_and_protection",
    "in_care": "looked_after_and_permanence",
    "adoption": "adoption_performance",
    "care_leavers": "care_leavers",
    "leaders": "leadership_management_governance",
}
# the page-1 headline about children's services, in whatever wording ("Children's services in
# X are inadequate", "The overall judgement is that children's services require improvement",
# "Overall judgement: requires improvement"): the first grade in the sentence it starts
SIF_HEADLINE = re.compile(
    rf"(?:children's services|overall judgement|overall effectiveness)"
    rf"[^.]{{0,120}}?\b{G}",
    I,
)
SIF_BODY = {
    "help_and_protection": rf"experiences and progress of children who need help and protection"
    rf"\s*(?:is |are )?{G}",
    "looked_after_and_permanence": rf"experiences and progress of children looked after and "
    rf"achieving permanence\s*(?:is |are )?{G}",
    "leadership_management_governance": rf"leadership,? management and governance\s*(?:is |are )?{G}",
    "adoption_performance": rf"graded judge?ment[^.]{{0,30}}?adoption performance is(?: that it)?"
    rf"(?: is)?\s*{G}",
    "care_leavers": rf"graded judge?ment[^.]{{0,30}}?experiences? and progress of care leavers is"
    rf"(?: that it)?(?: is)?\s*{G}",
}
# the LSCB review's judgement: stated on page 1 in some years ("The effectiveness of the LSCB
# is ..."), as its section's heading, and as the "arrangements ... are <grade>" sentence
LSCB_STATEMENT = rf"(?:effectiveness of )?the local safeguarding children board (?:\(LSCB\) )?(?:is |are )?{G}"
LSCB_ARRANGEMENTS = (
    rf"arrangements in place to evaluate the effectiveness of what is done by "
    rf"the authority and board partners to safeguard and promote the welfare of "
    rf"children (?:are |is )?{G}"
)


def read_sif(pdf: PdfText) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection", framework="sif")
    # the council's name is printed above the title; else named in the overall sentence
    m = SIF_TITLE.search(p1)
    above = re.sub(r"^\d+\s*", "", p1[: m.start()]).strip() if m else ""
    m = re.search(r"children's services in (.{2,60}?) (?:are|is|requires?)\b", p1, I)
    r.local_authority = above or (m.group(1) if m else None)
    r.inspection_start, r.inspection_end = printed_dates(p1)
    r.published = _published(p1)
    r.table, _ = read_page1_table(pdf, p1, SIF_KEYS)
    dates = re.search(r"inspection dates?", p1, I)
    headline = SIF_HEADLINE.search(p1, dates.end() if dates else 0)
    if headline:
        r.table["overall_effectiveness"] = grade_key(headline.group("grade"))
    # the LSCB is judged where the title names its review (a footnote may mention the
    # review without the report containing it)
    has_lscb = bool(LSCB_TITLE.search(p1, 0, dates.start() if dates else len(p1)))
    # SIF reports run to 40-50 pages: read the pages the contents list for the judged
    # sections first, and every page only where that leaves something unfound
    for pages in (_sif_section_pages(pdf), range(1, pdf.pages)):
        if pages is None:
            continue
        body, lscb, inspector = _sif_body(pdf, p1, pages)
        complete = (
            inspector
            and all(a in body for a in r.table if a != "overall_effectiveness")
            and (len(lscb) >= 2 or not has_lscb)
        )
        if complete:
            break
    r.body.update(body)
    if lscb:
        r.table["lscb"] = lscb[0]
    if len(lscb) > 1:
        r.body["lscb"] = lscb[1]
    r.lead_inspector = inspector
    r.expected = tuple(a for a in FRAMEWORK_AREAS["sif"] if a != "lscb" or has_lscb or "lscb" in r.table)
    _layout_fallback(pdf, r, SIF_KEYS)
    return r


def _sif_body(pdf: PdfText, p1: str, pages) -> tuple[dict[str, str], list[str], str | None]:
    """Body statements, the LSCB statements in reading order, and the lead inspector, from
    the given pages (indices in reading order)."""
    pages = sorted(set(pages))
    rest = flat("\n".join(pdf.page(i) for i in pages))
    body = {area: g for area, pattern in SIF_BODY.items() if (g := _first(pattern, rest))}
    # the first LSCB statement found stands for the table, the next one checks it
    lscb = [
        g
        for g in (_first(LSCB_STATEMENT, p1), _first(LSCB_STATEMENT, rest), _first(LSCB_ARRANGEMENTS, p1 + " " + rest))
        if g
    ]
    inspector = _inspector([pdf.page(i) for i in reversed(pages)])
    return body, lscb, inspector


SIF_CONTENTS = {
    "help": r"experiences and progress of children who need help and protection",
    "lap": r"experiences and progress of children looked after and achieving permanence",
    "lmg": r"leadership,? management and governance",
    "lscb": r"the local safeguarding children board(?: \(LSCB\))?",
    "info": r"information about this inspection",
}


def _sif_section_pages(pdf: PdfText) -> list[int] | None:
    """Page indices holding the judged sections' headings and statements, located through
    the contents page; None where there is no usable contents page."""
    contents = next((i for i in range(1, min(6, pdf.pages)) if re.search(r"\bcontents\b", pdf.page(i)[:200], I)), None)
    if contents is None:
        return None
    text = flat(pdf.page(contents))
    starts = {}
    for key, label in SIF_CONTENTS.items():
        m = re.search(rf"{label}\s+(\d{{1,3}})\b", text, I)
        if not m:
            continue
        printed = int(m.group(1))
        # printed page numbers are offset from indices by the cover; find the heading
        for index in (printed - 1, printed, printed - 2, printed + 1):
            if 0 < index < pdf.pages and re.search(label, flat(pdf.page(index)), I):
                starts[key] = index
                break
    if not {"help", "lap", "lmg"} <= set(starts):
        return None
    pages = {1, contents, pdf.pages - 1}
    for index in starts.values():
        pages.update((index, index + 1))
    pages.update(range(starts["lap"], starts["lmg"]))  # adoption and care leavers sit in here
    return sorted(p for p in pages if p < pdf.pages)


def read_lscb_review(pdf: PdfText) -> Reading:
    """A Local Safeguarding Children Board review published on its own: a SIF report whose
    one judgement is the board's (page-1 statement, checked against the body's)."""
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection", framework="sif", expected=("lscb",))
    m = LSCB_TITLE.search(p1)
    above = re.sub(r"^\d+\s*", "", p1[: m.start()]) if m else ""
    r.local_authority = re.sub(r"\s*(?:local )?safeguarding children'?s? board\s*$", "", above, flags=I).strip() or None
    r.inspection_start, r.inspection_end = printed_dates(p1)
    r.published = _published(p1)
    rest = flat("\n".join(pdf.page(i) for i in range(1, pdf.pages)))
    for found, text in ((r.table, p1), (r.body, rest)):
        grade = _first(LSCB_STATEMENT, text) or _first(LSCB_ARRANGEMENTS, text)
        if grade:
            found["lscb"] = grade
    r.lead_inspector = _inspector([pdf.page(i) for i in reversed(range(pdf.pages))])
    return r


# --- LAC (2012-2013) ---------------------------------------------------------------------

LAC_LABELS = {
    "lac_overall_effectiveness": r"overall effectiveness",
    "lac_capacity_to_improve": r"capacity to improve",
    "lac_outcomes": r"outcomes for looked after children and young people",
    "lac_quality_of_provision": r"quality of provision",
    "lac_leadership_management": r"leadership and management",
}


def read_lac(pdf: PdfText) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection", framework="lac")
    m = re.search(r"looked after children'?s? services (.{2,80}?) inspection dates?", p1, I)
    r.local_authority = m.group(1).strip() if m else None
    r.inspection_start, r.inspection_end = printed_dates(p1)
    r.published = _published(p1)
    r.lead_inspector = _inspector([raw1])
    text = flat(pdf.all_text())
    start = text.lower().rfind("record of main findings")
    findings = text[start:] if start >= 0 else ""
    for area, label in LAC_LABELS.items():
        grade = _first(rf"{label}\s*{G}", findings)
        if grade:
            r.table[area] = grade
        grade = _first(rf"{label}[^.]{{0,80}}?grade \d\s*\(\s*{G}\s*\)", text[:start] if start > 0 else text)
        if grade:
            r.body[area] = grade
    r.expected = FRAMEWORK_AREAS["lac"]
    return r


READERS = {"ilacs": read_ilacs, "sif": read_sif, "lscb_review": read_lscb_review, "lac": read_lac}
