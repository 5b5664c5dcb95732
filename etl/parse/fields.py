"""Field readers shared by every framework: grades, dates, inspector names."""

from __future__ import annotations

import re
from datetime import date

# "inadequate" must be tried before "adequate"; "require(s) improvement (to be good)" in
# every spelling the reports use
GRADE_PATTERN = (
    r"(?:outstanding|good|inadequate|adequate|"
    r"requires? improvement(?: to be good)?)"
)
GRADE_RE = re.compile(rf"\b{GRADE_PATTERN}\b", re.I)


def grade_key(text: str) -> str:
    """The contract value of a printed grade ("Requires improvement to be good" -> ...)."""
    t = text.lower()
    if "improvement" in t:
        return "requires_improvement"
    return t.strip()


MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        1,
    )
}
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH = re.compile(_MONTH_RE, re.I)


def _month(word: str) -> int | None:
    prefix = word.lower()[:3]
    return next((n for name, n in MONTHS.items() if name.startswith(prefix)), None)


_PART = re.compile(
    r"(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{2,4})"
    rf"|(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?:of\s+)?(?P<m>{_MONTH_RE}))?(?:,?\s+(?P<y>\d{{4}}))?",
    re.I,
)


def _parts(text: str) -> list[tuple[int, int | None, int | None]]:
    out = []
    for m in _PART.finditer(text):
        if m.group("nd"):
            y = int(m.group("ny"))
            out.append((int(m.group("nd")), int(m.group("nm")), y + 2000 if y < 100 else y))
        else:
            out.append(
                (
                    int(m.group("d")),
                    _month(m.group("m")) if m.group("m") else None,
                    int(m.group("y")) if m.group("y") else None,
                )
            )
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


_ONE_RANGE = (
    rf"\d{{1,2}}(?:st|nd|rd|th)?(?:\s+{_MONTH_RE})?(?:\s+\d{{4}})?"
    rf"\s*(?:-|to|and|until)\s*\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH_RE}\s+\d{{4}}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\s*(?:-|to)\s*\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
)
# one range, or several joined ("... and 14 to 15 February 2023") for a split inspection
DATE_RANGE_TEXT = rf"(?:{_ONE_RANGE})(?:\s*(?:,|and|&)\s*(?:{_ONE_RANGE}))*"

_HONORIFIC = re.compile(
    r"\s*(?:,|-)?\s*(?:\(?\s*(?:His|Her|Their)\s+Majesty'?s?\s+Inspector(?:\s+\(HMI\))?\s*\)?"
    r"|\(?(?:Senior\s+)?HMI\)?|Ofsted Inspector|Social Care Regulatory Inspector|\(lead inspector\))\.?\s*$",
    re.I,
)


def clean_name(raw: str) -> str | None:
    """ "Steve Lowe, Her Majesty's Inspector" -> "Steve Lowe"; None when no name is left."""
    name = " ".join(raw.split())
    prev = None
    while prev != name:
        prev = name
        name = _HONORIFIC.sub("", name).strip(" ,;:-")
    name = re.sub(r"(?<=[a-z]{2})\.$", "", name)  # a sentence's full stop, not an initial's ("Jane Smith.")
    if not re.search(r"[A-Za-z]{2}", name) or len(name) > 60:
        return None
    return name


_HONORIFIC_ANYWHERE = re.compile(
    r"(?:His|Her|Their)\s+Majesty'?s?\s+Inspectors?|\((?:Senior\s+)?HMI\)|\b(?:Senior\s+)?HMI\b", re.I
)


def clean_names(raw: str) -> str | None:
    """Several lead inspectors ("A, His Majesty's Inspector, and B, HMI") -> "A and B"."""
    text = _HONORIFIC_ANYWHERE.sub(",", " ".join(raw.split()))
    names = [n for n in (clean_name(p) for p in re.split(r",|\band\b|&", text)) if n]
    return " and ".join(names) if names else None


# --- dates as letters print them ---------------------------------------------------------
# A list of days ending in a month (and usually a year), in any of the letters' wordings:
# "23 and 24 June 2021", "6 and 8 October 2020", "22-23 October", "15, 16 and 21 July",
# "1 to 2 March", "29 September, and 1 October 2020", "Monday 8 June 2020 to Friday 12 June 2020"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DAY_ITEM = rf"{_WEEKDAY}\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:of\s+)?{_MONTH_RE}(?:,?\s+\d{{4}})?)?"
_DAY_SEP = r"\s*(?:,\s*(?:and\s+|to\s+)?|\band\b|\bto\b|\buntil\b|\bthrough\b|-|&)\s*"
DAY_LIST_TEXT = rf"{_DAY_ITEM}(?:{_DAY_SEP}{_DAY_ITEM})*"
_DAY_LIST_RE = re.compile(DAY_LIST_TEXT, re.I)


def parse_day_list(
    text: str, default_year: int | None = None, before: date | None = None
) -> tuple[date | None, date | None]:
    """First and last date of a printed list of days (see DAY_LIST_TEXT). A day without its
    month or year takes them from the next day that prints them; a list that prints no year
    takes `default_year` (a letter's own year), the year before it where that would put the
    visit after `before` (the letter's date: a December visit in a January letter)."""
    parts = [(d, m, y) for d, m, y in _parts(re.sub(_WEEKDAY_ANY, " ", text))]
    if not parts or not parts[-1][1]:
        return None, None
    filled: list[list[int | None]] = [list(p) for p in parts]
    for i in range(len(filled) - 2, -1, -1):  # fill each day's month and year from the next
        nxt = filled[i + 1]
        if filled[i][1] is None:
            filled[i][1] = nxt[1]
            filled[i][2] = filled[i][2] or nxt[2]
        elif filled[i][2] is None and nxt[2]:
            filled[i][2] = nxt[2] if filled[i][1] <= nxt[1] else nxt[2] - 1
    if filled[-1][2] is None:
        if default_year is None:
            return None, None
        year = default_year
        if before and (filled[-1][1], filled[-1][0]) > (before.month, before.day):
            year -= 1
        for p in filled:
            if p[2] is None:
                p[2] = year if p[1] <= filled[-1][1] else year - 1
    try:
        return date(filled[0][2], filled[0][1], filled[0][0]), date(filled[-1][2], filled[-1][1], filled[-1][0])
    except (TypeError, ValueError):
        return None, None


_WEEKDAY_ANY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b,?", re.I)


def find_day_list(text: str) -> re.Match | None:
    """The first list of days in `text` that names a month (none without a month word: the
    cheap answer for text with a number in every word)."""
    if not _MONTH.search(text):
        return None
    return next((m for m in _DAY_LIST_RE.finditer(text) if _MONTH.search(m.group())), None)


# a date as letters print it at the top: "8 March 2019", "8th of March 2019", "Friday 8 March, 2019"
_PRINTED = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_RE},?\s+\d{{4}}"
_FULL_DATE = re.compile(rf"^\s*(?:{_WEEKDAY})?({_PRINTED})\s*$", re.I | re.M)


def first_dated_line(raw: str) -> date | None:
    """The first line that is a date and nothing else (a letter's printed date)."""
    for m in _FULL_DATE.finditer(raw):
        found = parse_date(m.group(1))
        if found:
            return found
    return None


_ANY_FULL_DATE = re.compile(rf"\b{_PRINTED}\b", re.I)


def first_full_date(text: str) -> date | None:
    """The first date printed with its day, month and year anywhere in `text`."""
    for m in _ANY_FULL_DATE.finditer(text):
        found = parse_date(m.group())
        if found:
            return found
    return None
