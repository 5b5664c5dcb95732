"""Field readers shared by every framework: grades, dates, inspector names."""
from __future__ import annotations

import re
from datetime import date

# "inadequate" must be tried before "adequate"; "require(s) improvement (to be good)" in
# every spelling the reports use
GRADE_PATTERN = (r"(?:outstanding|good|inadequate|adequate|"
                 r"requires? improvement(?: to be good)?)")
GRADE_RE = re.compile(rf"\b{GRADE_PATTERN}\b", re.I)


def grade_key(text: str) -> str:
    """The contract value of a printed grade ("Requires improvement to be good" -> ...)."""
    t = text.lower()
    if "improvement" in t:
        return "requires_improvement"
    return t.strip()


MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], 1)}
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"


def _month(word: str) -> int | None:
    prefix = word.lower()[:3]
    return next((n for name, n in MONTHS.items() if name.startswith(prefix)), None)


_PART = re.compile(
    r"(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{2,4})"
    rf"|(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?P<m>{_MONTH_RE}))?(?:\s+(?P<y>\d{{4}}))?", re.I)


def _parts(text: str) -> list[tuple[int, int | None, int | None]]:
    out = []
    for m in _PART.finditer(text):
        if m.group("nd"):
            y = int(m.group("ny"))
            out.append((int(m.group("nd")), int(m.group("nm")), y + 2000 if y < 100 else y))
        else:
            out.append((int(m.group("d")), _month(m.group("m")) if m.group("m") else None,
                        int(m.group("y")) if m.group("y") else None))
    return out


def parse_date(text: str) -> date | None:
    """One printed date: "19 October 2015", "1 Sept 2014", "10/08/2015"."""
    parts = _parts(text)
    if not parts:
        return None
    d, m, y = parts[0]
    try:
        return date(y, m, d) if m and y else None
    except ValueError:
        return None


def parse_range(text: str) -> tuple[date | None, date | None]:
    """A printed date range: "6 to 17 December 2021", "14 January - 4 February 2015",
    "1/06/2015 - 25/06/2015", "5 to 9 December 2022 and 14 to 15 February 2023" (an
    inspection in two parts runs from the first date to the last). A start that leaves out
    its month or year borrows them from the next date that prints them."""
    parts = _parts(text)
    complete = [i for i, p in enumerate(parts) if p[1] and p[2]]
    if not complete:
        return None, None
    ed, em, ey = parts[complete[-1]]
    sd, sm, sy = parts[0]
    if not (sm and sy):
        _d, nm, ny = parts[next(i for i in complete)]
        sm = sm or nm
        sy = sy or (ny if sm <= nm else ny - 1)
    try:
        return date(sy, sm, sd), date(ey, em, ed)
    except ValueError:
        return None, None


_ONE_RANGE = (rf"\d{{1,2}}(?:st|nd|rd|th)?(?:\s+{_MONTH_RE})?(?:\s+\d{{4}})?"
              rf"\s*(?:-|to|and|until)\s*\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH_RE}\s+\d{{4}}"
              rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\s*(?:-|to)\s*\d{{1,2}}/\d{{1,2}}/\d{{2,4}}")
# one range, or several joined ("... and 14 to 15 February 2023") for a split inspection
DATE_RANGE_TEXT = rf"(?:{_ONE_RANGE})(?:\s*(?:,|and|&)\s*(?:{_ONE_RANGE}))*"

_HONORIFIC = re.compile(
    r"\s*(?:,|-)?\s*(?:\(?\s*(?:His|Her|Their)\s+Majesty'?s?\s+Inspector(?:\s+\(HMI\))?\s*\)?"
    r"|\(?(?:Senior\s+)?HMI\)?|Ofsted Inspector|Social Care Regulatory Inspector)\.?\s*$", re.I)


def clean_name(raw: str) -> str | None:
    """"Steve Lowe, Her Majesty's Inspector" -> "Steve Lowe"; None when no name is left."""
    name = " ".join(raw.split())
    prev = None
    while prev != name:
        prev = name
        name = _HONORIFIC.sub("", name).strip(" ,;:-")
    if not re.search(r"[A-Za-z]{2}", name) or len(name) > 60:
        return None
    return name


_HONORIFIC_ANYWHERE = re.compile(
    r"(?:His|Her|Their)\s+Majesty'?s?\s+Inspectors?|\((?:Senior\s+)?HMI\)|\b(?:Senior\s+)?HMI\b", re.I)


def clean_names(raw: str) -> str | None:
    """Several lead inspectors ("A, His Majesty's Inspector, and B, HMI") -> "A and B"."""
    text = _HONORIFIC_ANYWHERE.sub(",", " ".join(raw.split()))
    names = [n for n in (clean_name(p) for p in re.split(r",|\band\b|&", text)) if n]
    return " and ".join(names) if names else None
