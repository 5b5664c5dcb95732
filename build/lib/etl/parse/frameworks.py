"""Framework recognition and the judgement rules of each framework.

Every graded report states each judgement twice, so each framework reader returns two maps:
`table` (the page-1 table, or the LAC "Record of main findings") and `body` (section headings,
"Key judgement" boxes, graded-judgement sentences, the LSCB summary, LAC "Grade n (x)" lines).
Reconciling them is the caller's job (see `reconcile`). Rules work on whitespace-collapsed
text, so a label or grade wrapped over several lines reads the same as one on a single line."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from etl.parse.fields import (DATE_RANGE_TEXT, GRADE_PATTERN, clean_name, clean_names, grade_key,
                              parse_date, parse_range)
from etl.parse.text import PdfText, flat
from etl.records import FRAMEWORK_AREAS

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


# --- recognition -------------------------------------------------------------------------

LAC_TITLE = re.compile(r"inspection of looked after children'?s? services", I)
SIF_TITLE = re.compile(r"(?:re-?\s?)?inspection of services for children in need of help and "
                       r"protection,? children looked after and care leavers", I)
ILACS_TITLE = re.compile(r"inspection of (?:(?P<la>.{2,90}?) )?(?:local authority children's services|"
                         r"children's social care services|children's services)", I)
# the ILACS judgement table's header and first row, whatever the title says (e.g. a trust)
ILACS_TABLE = re.compile(r"judgements? grade the impact of leaders on social work practice", I)
LETTER = re.compile(r"\b(?P<what>focused|monitoring) visit (?:to|of)\b|findings of the "
                    r"(?P<what2>focused|monitoring) visit", I)
JTAI = re.compile(r"joint targeted area inspection", I)
OFSTED = re.compile(r"\bofsted\b|majesty's inspector", I)


def identify(page1: str) -> str:
    """'lac', 'sif', 'ilacs', 'focused_visit', 'monitoring_visit', 'jtai', 'other' or
    'not_report', from the title at the top of page 1 (never from a date)."""
    top = flat(page1)[:400]
    if LAC_TITLE.search(top):
        return "lac"
    if SIF_TITLE.search(top):
        return "sif"
    if ILACS_TITLE.search(top[:250]) or ILACS_TABLE.search(top):
        return "ilacs"
    m = LETTER.search(flat(page1))
    if m:
        return f"{(m.group('what') or m.group('what2')).lower()}_visit"
    if JTAI.search(top):
        return "jtai"
    if OFSTED.search(flat(page1)):
        return "other"
    return "not_report"


# --- shared helpers ----------------------------------------------------------------------

def _first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, I)
    return grade_key(m.group("grade")) if m else None


def _dates(text: str) -> tuple[date | None, date | None]:
    m = re.search(rf"inspection dates?\s*:?\s*({DATE_RANGE_TEXT})", text, I)
    return parse_range(m.group(1)) if m else (None, None)


def _published(text: str) -> date | None:
    m = re.search(r"\bpublished\s*:?\s*(\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]+\.?\s+\d{4}"
                  r"|\d{1,2}/\d{1,2}/\d{2,4})", text, I)
    return parse_date(m.group(1)) if m else None


_LEAD = re.compile(r"(?<!deputy )(?:lead|reporting) inspector(?P<plural>s)?(?: on site)?\s*:?[ \t]*"
                   r"(?P<name>[^\n]*)", I)


def _inspector(raw_pages: list[str]) -> str | None:
    """The lead inspector from the first 'Lead/Reporting inspector' line among raw_pages
    (a name wrapped onto the next line is followed there)."""
    for raw in raw_pages:
        for m in _LEAD.finditer(raw):
            name = m.group("name").strip()
            following = raw[m.end():].lstrip("\n").split("\n", 1)[0]
            if not name:  # name on the next line
                name = following
            if m.group("plural"):  # "Lead inspectors: A, HMI, and B, \nHMI"
                found = clean_names(name + " " + following if name.rstrip().endswith(",") else name)
            else:
                found = clean_name(name)
            if found:
                return found
    return None


# --- ILACS (2018, 2023, 2026) ------------------------------------------------------------

ILACS_LABELS = {
    "impact_of_leaders": r"impact of leaders on social work practice with children and families",
    "help_and_protection": r"experiences and progress of children who need help and protection",
    "in_care_and_care_leavers": r"experiences and progress of children in care and care leavers",
    "in_care": r"experiences and progress of children in care(?! and care leavers)",
    "care_leavers": r"experiences and progress of (?:children )?care leavers",
    "overall_effectiveness": r"overall effectiveness",
}


def read_ilacs(pdf: PdfText) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection")
    m = ILACS_TITLE.search(p1[:250])
    if m and m.group("la"):
        r.local_authority = m.group("la")
    elif m:  # 2018 layout: the council's name is printed above the title
        r.local_authority = re.sub(r"^\d+\s+", "", p1[:m.start()]).strip() or None
    else:  # a title naming a trust or other body: everything up to the dates
        m = re.match(r"(?:\d+ )?inspection of (.{2,120}?) inspection dates?", p1, I)
        r.local_authority = m.group(1) if m else None
    r.inspection_start, r.inspection_end = _dates(p1)
    r.lead_inspector = _inspector([raw1])
    # table: page 1, label then grade (no colon); a table that runs over onto page 2 is
    # read from the top of that page, which the body search then skips
    spill = 0
    for area, label in ILACS_LABELS.items():
        grade = _first(rf"{label}\.?\s*{G}", p1)
        if not grade and pdf.pages > 1:
            grade = _first(rf"{label}\.?\s*{G}", flat(pdf.page(1))[:300])
            spill = 300 if grade else spill
        if grade:
            r.table[area] = grade
    # body: the section headings ("<label>: <grade>", "<label> is <grade>", "<label> <grade>")
    body = flat("\n".join(pdf.page(i) for i in range(1, pdf.pages)))[spill:]
    for area, label in ILACS_LABELS.items():
        grade = _first(rf"{label}\s*(?:\b(?:is|are)\b)?\s*:?\s*{G}", body)
        if grade:
            r.body[area] = grade
    seen = set(r.table) | set(r.body)
    if "in_care_and_care_leavers" in seen:
        r.framework = "ilacs_2018"
    elif "overall_effectiveness" in r.table:
        r.framework = "ilacs_2023"
    elif {"in_care", "care_leavers"} & seen:
        r.framework = "ilacs_2026"
        if "overall_effectiveness" in r.body:
            r.flags.append("ilacs_2026 layout (no overall row in the table) but the body "
                           "states an overall effectiveness grade")
    else:
        r.framework = None
        r.flags.append("ILACS title but no judgement table recognised")
    r.expected = FRAMEWORK_AREAS.get(r.framework, ())
    return r


# --- SIF (2013-2018) ---------------------------------------------------------------------

SIF_TABLE = {
    "help_and_protection": r"children who need help and protection",
    "looked_after_and_permanence": r"children looked after and achieving permanence",
    "adoption_performance": r"adoption performance",
    "care_leavers": r"experiences and progress of care leavers",
    "leadership_management_governance": r"leadership,? management and governance",
}
SIF_OVERALL = (rf"children's services in [^.]{{1,80}}?\s(?:are |is )?{G}",
               rf"overall judgement is (?:that )?(?:children's services )?(?:are |is )?{G}")
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
LSCB_ARRANGEMENTS = (rf"arrangements in place to evaluate the effectiveness of what is done by "
                     rf"the authority and board partners to safeguard and promote the welfare of "
                     rf"children (?:are |is )?{G}")


def read_sif(pdf: PdfText) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind="inspection", framework="sif")
    # the council's name is printed above the title; else named in the overall sentence
    m = SIF_TITLE.search(p1)
    above = re.sub(r"^\d+\s*", "", p1[:m.start()]).strip() if m else ""
    m = re.search(r"children's services in (.{2,60}?) (?:are|is|requires?)\b", p1, I)
    r.local_authority = above or (m.group(1) if m else None)
    r.inspection_start, r.inspection_end = _dates(p1)
    r.published = _published(p1)
    overall = [g for g in (_first(p, p1) for p in SIF_OVERALL) if g]
    if overall:
        r.table["overall_effectiveness"] = overall[0]
    # the table sometimes runs over onto the top of page 2
    table = p1 + " " + flat(pdf.page(1))[:300] if pdf.pages > 1 else p1
    for area, label in SIF_TABLE.items():
        grade = _first(rf"{label}\s*{G}", table)
        if grade:
            r.table[area] = grade
    # the LSCB is judged where the title names its review (a footnote may mention the
    # review without the report containing it)
    title = re.split(r"inspection dates?", p1, maxsplit=1, flags=I)[0]
    has_lscb = bool(re.search(r"review of the (?:effectiveness of the )?local safeguarding "
                              r"children board", title, I))
    # SIF reports run to 40-50 pages: read the pages the contents list for the judged
    # sections first, and every page only where that leaves something unfound
    for pages in (_sif_section_pages(pdf), range(1, pdf.pages)):
        if pages is None:
            continue
        body, lscb, inspector = _sif_body(pdf, p1, pages)
        complete = (inspector and all(a in body for a in r.table if a != "overall_effectiveness")
                    and (len(lscb) >= 2 or not has_lscb))
        if complete:
            break
    r.body.update(body)
    if lscb:
        r.table["lscb"] = lscb[0]
    if len(lscb) > 1:
        r.body["lscb"] = lscb[1]
    r.lead_inspector = inspector
    r.expected = tuple(a for a in FRAMEWORK_AREAS["sif"] if a != "lscb" or has_lscb or "lscb" in r.table)
    return r


def _sif_body(pdf: PdfText, p1: str, pages) -> tuple[dict[str, str], list[str], str | None]:
    """Body statements, the LSCB statements in reading order, and the lead inspector, from
    the given pages (indices in reading order)."""
    pages = sorted(set(pages))
    rest = flat("\n".join(pdf.page(i) for i in pages))
    body = {area: g for area, pattern in SIF_BODY.items() if (g := _first(pattern, rest))}
    # the first LSCB statement found stands for the table, the next one checks it
    lscb = [g for g in (_first(LSCB_STATEMENT, p1), _first(LSCB_STATEMENT, rest),
                        _first(LSCB_ARRANGEMENTS, p1 + " " + rest)) if g]
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
    for key, index in starts.items():
        pages.update((index, index + 1))
    pages.update(range(starts["lap"], starts["lmg"]))  # adoption and care leavers sit in here
    return sorted(p for p in pages if p < pdf.pages)


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
    r.inspection_start, r.inspection_end = _dates(p1)
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


# --- ungraded letters ----------------------------------------------------------------------

def read_letter(pdf: PdfText, kind: str) -> Reading:
    raw1 = pdf.page(0)
    p1 = flat(raw1)
    r = Reading(kind=kind)
    m = re.search(r"visit (?:to|of) (.{2,80}?) (?:local authority )?children's services", p1, I)
    r.local_authority = m.group(1) if m else None
    m = re.search(rf"\bon ({DATE_RANGE_TEXT})", p1, I)
    r.inspection_start, r.inspection_end = parse_range(m.group(1)) if m else _dates(p1)
    raw = [pdf.page(i) for i in range(pdf.pages)]
    r.lead_inspector = _inspector(raw)
    if not r.lead_inspector:
        m = re.search(r"yours sincerely\s*\n\s*([^\n]+)", "\n".join(raw), I)
        r.lead_inspector = clean_name(m.group(1)) if m else None
    return r


READERS = {"ilacs": read_ilacs, "sif": read_sif, "lac": read_lac}
