"""Ungraded letters (focused and monitoring visits, joint targeted area inspections) and area
SEND reports, read by the structure every such document shares (../shared/ofsted-reports.md,
"Visits, joint inspections and area SEND"):

    <letterhead> <the letter's date> <addressee> Dear ... <heading: what and where>
    <opening: the visit dates> <focus: what it looked at> ... [Area(s) for priority action
    <items>] ... Yours sincerely <signatory> His/Her Majesty's Inspector

An area SEND report (2023 framework) prints its dates, an "Inspection outcome" section and an
inspection team naming Ofsted's and the CQC's lead inspectors; an older area SEND letter (2016
framework) is a letter like the others, with no outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from etl.parse.fields import clean_name, find_day_list, first_dated_line, first_full_date, parse_day_list
from etl.parse.frameworks import Reading, printed_dates
from etl.parse.text import BULLET, PdfText, flat
from etl.records import LETTER_KINDS, VISIT_AREAS, Visit

I = re.I

# --- page furniture ------------------------------------------------------------------------
# the letterhead repeated on every page (from "Ofsted" to its web address) and page numbers
_LETTERHEAD = re.compile(r"^\s*Ofsted\s*$")
LETTERHEAD_END = re.compile(r"gov\.uk/ofsted|ofsted\.gov\.uk\s*$", I)
PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?\s*$", I)


def letter_lines(pdf: PdfText) -> list[str]:
    """Every line of the letter in reading order, without page numbers and letterheads."""
    out: list[str] = []
    for n in range(pdf.pages):
        lines = pdf.page(n, bullets=True).split("\n")
        i = 0
        while i < len(lines):
            if _LETTERHEAD.match(lines[i]):
                end = next((j for j in range(i, min(i + 14, len(lines))) if LETTERHEAD_END.search(lines[j])), None)
                if end is not None:
                    i = end + 1
                    continue
            if lines[i].strip() and not PAGE_NUMBER.match(lines[i]):
                out.append(lines[i].strip())
            i += 1
    return out


# --- sentences -------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z'\"(\u2022])|\s+(?=\u2022)")
# the headings that end a letter's opening (its findings begin)
_FINDINGS_HEADING = re.compile(
    r"^(?:headline findings|overview|(?:main |summary of )?findings|what needs to improve|areas? for "
    r"(?:priority action|improvement)|evaluation of progress)\b",
    I,
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


# --- what a letter says it looked at -----------------------------------------------------------
# ILACS areas by the words that name them (the contract's mapping)
AREA_WORDS = {
    "help_and_protection": re.compile(
        r"help and protection|front door|\bcontacts?\b|\breferrals?\b|early help|\bchild(?:ren)? in need\b|"
        r"child protection|protection plans?|in need of (?:help|protection)|need(?:s)? help\b|pre-?proceedings|"
        r"before proceedings|public law outline|extra-?familial|exploit|\bmissing\b|homeless|safeguarding|"
        r"\bMASH\b|thresholds?\b|\babuse\b|\bneglect\b|vulnerable adolescents|risk of (?:significant )?harm|"
        r"youth violence|initial need",
        I,
    ),
    "in_care": re.compile(
        r"\bin care\b|\binto care\b|looked[- ]after|permanen(?:ce|cy)|placements?\b|(?<!private )\bfoster|"
        r"care orders?\b|special guardianship|connected (?:carers|persons)|children's homes|"
        r"unaccompanied asylum[- ]seeking children",
        I,
    ),
    "care_leavers": re.compile(r"care[- ]leavers?|leaving care|care[- ]experienced", I),
    "impact_of_leaders": re.compile(r"impact of (?:the |senior )?leaders(?:hip)?\b|leaders' impact", I),
}
# a sentence that says what inspectors looked at (not how: "a range of evidence", records)
_FOCUS_VERB = re.compile(
    r"\b(?:looked at|look at|considered|reviewed|evaluated|examined|explored|scrutinised|focus(?:ed)? "
    r"(?:of|on)|the multi-agency response to|inspected)\b",
    I,
)
_METHOD = re.compile(
    r"range of evidence|\bevidence\b|case records|performance (?:management|information|data)"
    r"|quality assurance information|\bcarried out\b",
    I,
)
_NEGATED = re.compile(r"\b(?:not|no|nor|never)\b", I)
# where the focus passage ends: the visit's method, or the findings
_PASSAGE_END = re.compile(r"carried out|methodology|in line with|range of evidence|\bon site\b|remote", I)


def areas_named(text: str) -> tuple[str, ...]:
    return tuple(a for a in VISIT_AREAS if AREA_WORDS[a].search(text))


@dataclass
class Focus:
    sentence: str | None
    areas: tuple[str, ...]
    note: str | None = None


def read_focus(opening: list[str]) -> Focus:
    """The focus sentence among the opening's sentences and the areas it names, with the impact
    of leaders where the passage that follows names it too. No focus sentence at all: a review
    of the whole service (all four areas). A focus sentence naming no area: none, with a note."""
    for i, sentence in enumerate(opening):
        if not _FOCUS_VERB.search(sentence):
            continue
        areas = set(areas_named(sentence))
        if _METHOD.search(sentence) and not areas:
            continue  # how inspectors worked, not what they looked at
        if not areas and sentence.endswith(":"):
            # "Inspectors reviewed the progress made in the following areas:" then a list
            listed = [s for s in opening[i + 1 : i + 12] if s.startswith(BULLET)]
            sentence = " ".join([sentence, *listed])
            areas = set(areas_named(sentence))
        for following in opening[i + 1 : i + 8]:
            if _PASSAGE_END.search(following) or _FINDINGS_HEADING.match(following):
                break
            # only a sentence that says inspectors looked at it too ("They also looked at the
            # impact of leaders"), or an item of the focus's list, adds it: not a finding about it
            said_looked = _FOCUS_VERB.search(following) and not _NEGATED.search(following)
            if AREA_WORDS["impact_of_leaders"].search(following) and (said_looked or following.startswith(BULLET)):
                areas.add("impact_of_leaders")
        found = tuple(sorted(areas))
        if not found:
            return Focus(cut(sentence), (), f"visit focus: no area read from {sentence[:200]!r}")
        long = len(sentence) > MAX_TEXT
        return Focus(
            cut(sentence), found, f"visit focus: a sentence of {len(sentence):,} characters, cut" if long else None
        )
    return Focus(None, tuple(sorted(VISIT_AREAS)))


# --- areas for priority action -----------------------------------------------------------------
_PA_HEADING = re.compile(r"^areas?\s*(?P<s>\(s\))?\s+for\s+priority\s+action\s*(?::\s*(?P<rest>.*))?$", I)
_ITEM = re.compile(rf"^(?:{BULLET}|\(?\d{{1,2}}[.)]\s|\(?[a-z][.)]\s)\s*")
# section headings that may follow the last item without a full stop before them
_NEXT_SECTION = re.compile(
    r"^(?:what needs to improve|areas? for improvement|(?:main |headline )?findings|"
    r"overview|next steps|yours)",
    I,
)
# a statement, or an item, that says there are none ("There are no areas for priority action",
# "There are no additional areas for priority action", "None.")
_NONE_SET = re.compile(r"\bno\b[^.]{0,40}\bpriority actions?\b|^none\b|not (?:been )?identified any", I)
# an action set out before that the letter says is still unresolved: not counted again
_CARRIED_OVER = re.compile(
    r"priority action.{0,120}\b(?:previous|previously|last|earlier|remains?|still|"
    r"unresolved|outstanding)\b|\b(?:previous|previously|last|earlier)\b.{0,120}"
    r"priority action",
    I,
)
# ... unless the sentence sets out new ones beside them ("In addition, the following new areas:")
_NEW_ONES = re.compile(r"\b(?:additional|new|further|in addition)\b", I)
# a singular heading's lead-in that details one area in a list ("... permanence, including:")
_ONE_AREA_DETAILED = re.compile(r"\b(?:including|such as|in particular|namely|for example)\s*:\s*$", I)


@dataclass
class PriorityActions:
    count: int = 0
    texts: tuple[str, ...] = ()
    note: str | None = None


# longer than any real item or sentence: cut there (a hostile file's 100 KB item), with a note
MAX_TEXT = 5000
_JOINING_WORDS = (" and", " or", " including")


def cut(text: str) -> str:
    """`text` cut to MAX_TEXT characters at a word, marked with an ellipsis."""
    if len(text) <= MAX_TEXT:
        return text
    head = text[:MAX_TEXT]
    return (head.rsplit(" ", 1)[0] if " " in head else head) + "…"


def first_sentence(text: str) -> str:
    """An item's first sentence, whitespace collapsed, without a list's joining punctuation, as
    a sentence of its own (capital letter, full stop), cut at MAX_TEXT."""
    text = flat(text).lstrip(f"{BULLET} ")
    text = sentences(text)[0] if text else ""
    # the joining tail (", and", "; or", ", including:") taken off from the end in linear time
    # (a pattern anchored at the end is tried from every position: quadratic on ", and" * n)
    while True:
        stripped = text.rstrip(",;:. \t\n")
        stripped = next((stripped[: -len(w)] for w in _JOINING_WORDS if stripped.endswith(w)), stripped)
        if stripped == text:
            break
        text = stripped
    text = cut(text.strip())
    return (text[:1].upper() + text[1:] + ("" if text.endswith("…") else ".")) if text else ""


def _earlier(sentence: str) -> bool:
    """The sentence refers to areas for priority action set out before, still standing."""
    return bool(_CARRIED_OVER.search(sentence)) and not _NEW_ONES.search(sentence)


def _priority_section(lines: list[str], rest: str | None) -> tuple[list[str], list[list[str]]]:
    """The section under the heading: its statement (or lead-in) lines and its list items, up to
    the next section. A statement ends at a line that ends a sentence, unless what it said so
    far is about earlier actions (what follows may say whether any are new)."""
    lead: list[str] = [rest] if rest else []
    items: list[list[str]] = []
    for line in lines:
        marker = _ITEM.match(line)
        if marker:
            items.append([line[marker.end() :]])
            continue
        if items:
            previous = items[-1][-1].rstrip()  # the item's last line (a join each line: quadratic)
            if _NEXT_SECTION.match(line) or (previous.endswith((".", ";", "?", "!")) and line[:1].isupper()):
                break
            items[-1].append(line)
            continue
        if _NEXT_SECTION.match(line):
            break
        said = " ".join(lead).rstrip()
        if said.endswith((".", "?", "!")) and line[:1].isupper() and not _earlier(sentences(flat(said))[-1]):
            break  # a single statement, then the next section
        if len(lead) >= 12:
            break
        lead.append(line)
    return lead, items


def read_priority_actions(lines: list[str]) -> PriorityActions:
    """The areas for priority action the letter sets out (the contract's rule): the items under
    its heading, singular or plural, after any lead-in, or one where a single statement follows
    it (and where a singular heading's list details one area, "..., including:"); 0 without a
    heading or where it says there are none. Earlier ones the letter says remain are not counted
    again, whether listed (under a lead-in that says so, or each saying so) or only referred to.
    A heading whose items cannot be read counts one, with a note."""
    # a heading starts with its capital (a sentence wrapped onto a line of its own does not)
    start = next((i for i, line in enumerate(lines) if line[:1] == "A" and _PA_HEADING.match(line)), None)
    if start is None:
        return PriorityActions()
    heading = _PA_HEADING.match(lines[start])
    singular = not (heading.group("s") or re.match(r"areas", lines[start], I))  # "Area for priority action"
    lead, items = _priority_section(lines[start + 1 :], heading.group("rest"))
    said = sentences(flat(" ".join(lead)))
    # what the statement says beyond earlier actions and "there are none": the first sentences
    # about earlier ones, then what follows them while it still speaks of priority actions
    new_said = [t for t in said if not (_earlier(t) or _NONE_SET.search(t))]
    if said and _earlier(said[0]):
        new_said = [t for t in new_said if re.search(r"priority action|in addition", t, I)][:1]
    # an item's own words, without the dashed sub-items its colon introduces ("...: - The police ...")
    texts = [
        first_sentence(re.split(r":\s+-\s", " ".join(item), maxsplit=1)[0]) for item in items if flat(" ".join(item))
    ]
    stated_none = [t for t in texts if _NONE_SET.search(t)]  # "• There are no areas for priority action"
    texts = [t for t in texts if t not in stated_none]
    listed_earlier = bool(said) and _earlier(said[-1])  # "The areas ... set at the last visit remain:"
    counted = [] if listed_earlier else [t for t in texts if not _CARRIED_OVER.search(t)]
    if counted:
        if singular and said and _ONE_AREA_DETAILED.search(said[-1]):
            text = first_sentence(said[-1])
            return PriorityActions(1, (text,), _cut_note((text,)))
        return PriorityActions(len(counted), tuple(counted), _cut_note(counted))
    if texts or (said and not new_said and any(_earlier(t) for t in said)):
        return PriorityActions(0, (), "priority actions: only earlier ones, still unresolved, are set out")
    if new_said and not any(":" in t for t in new_said):  # a colon: a lead-in over items not told apart
        text = first_sentence(new_said[0])
        return PriorityActions(1, (text,), _cut_note((text,)))
    if (said and not new_said) or (stated_none and not said):
        return PriorityActions()  # "There are no priority actions ..."
    note = (
        "priority action: its text could not be read"
        if singular
        else "priority actions: a heading whose items could not be read (counted as one)"
    )
    return PriorityActions(1, (), note)


def _cut_note(texts) -> str | None:
    n = sum(t.endswith("…") for t in texts)  # (an item not cut ends with its full stop)
    return f"priority actions: {n} item(s) longer than {MAX_TEXT:,} characters cut" if n else None


# --- the letter --------------------------------------------------------------------------------
_COUNCIL = (
    re.compile(
        r"\bvisit (?:to|of) (?:the )?(?P<la>(?:(?!children's|\bvisit\b)[^.]){2,80}?) (?:local authority |council )?(?:(?:children's|young "
        r"people's) (?:social care )?services|children's trust)",
        I,
    ),
    re.compile(
        r"joint targeted area inspection (?:\(JTAI\) )?of (?:the multi-agency response to .{2,200}? in )?"
        r"(?:the )?(?P<la>(?-i:[A-Z])[^.,]{1,79}?)(?= (?:this|between|from|on|the|her|his|our|ofsted)\b|[.,]|$)",
        I,
    ),
    # the older JTAIs' second paragraph ("... and of the work of individual agencies in Greenwich."),
    # where the heading names the response and no council
    re.compile(r"work of individual agencies in (?:the )?(?P<la>(?-i:[A-Z])[^.,]{1,79}?)(?=[.,]|$)", I),
    re.compile(
        r"local area (?:SEND|special educational needs)[^.]{0,40}? (?:inspection|revisit) (?:in|of) "
        r"(?:the )?(?P<la>[^.,]{2,80}?)(?= (?:this|between|from|on|the|her|his|our|ofsted)\b|[.,]|$)",
        I,
    ),
)
# the letter's heading ("Focused visit to X children's services"), which ends in no full stop:
# up to where its first sentence starts
_HEADING = re.compile(
    r"^(?:[\w' ]{0,40}?visit|joint targeted area inspection|joint local area SEND (?:inspection|revisit))"
    r" (?:to|of|in)\b[^.]{0,250}?(?=\s(?-i:This|Her|His|The|Between|From|On|In|During|Ofsted|We)\b)",
    I,
)
_SIGN_OFF = re.compile(r"^your?s?\s+(?:sincerely|faithfully)\b", I)
_INSPECTOR_LINE = re.compile(r"majesty's inspector|\bHMI\b", I)
_DATES_INTRO = re.compile(
    r"\b(?:on|between|from|took place|dates? of (?:the )?(?:visit|inspection)\s*:?)\s+(?:the\s+)?", I
)


# the inspectorates that sign a joint letter, as the column headings and posts name them
_INSPECTORATE = re.compile(
    r"\bOfsted\b|Care Quality Commission|\bCQC\b|\bHMI\s*(?:CFRS\b|Constabulary|Probation|Prob\b)|\bHMICFRS\b|\bHMIP\b|"
    r"Inspectorate of (?:Constabulary|Probation)|Inspector of (?:Constabulary|Probation)|Chief Inspector of "
    r"(?:Probation|Hospitals|Health ?Care|Primary)|Fire (?:&|and) Rescue|\bServices\b",
    I,
)
# a post that is Ofsted's: it names Ofsted, or is an HMI's ("Her Majesty's Inspector"; the
# other inspectorates' HMIs are "of Constabulary", "of Probation")
_OFSTED_POST = re.compile(r"\bOfsted\b|majesty's inspector\b(?!\s+of\b)", I)
_OTHER_INSPECTORATE = re.compile(r"Care Quality Commission|\bCQC\b|Constabulary|Probation|\bHMICFRS\b|\bHMIP\b", I)
# a signatory's post ("National Director, Social Care", "Deputy Chief Inspector"), not a name
_POST = re.compile(
    r"\b(?:director|inspector|inspectorate|chief|deputy|commission|constabulary|probation|"
    r"services?|social care|ofsted|CQC|HMI\w*|majesty|regional|national|head|manager|officer)\b",
    I,
)


def signatory(lines: list[str]) -> tuple[str | None, str | None]:
    """The letter's signatory and a note: the name under "Yours sincerely" (or above the last
    "His/Her Majesty's Inspector"); where several inspectorates sign, Ofsted's (None, with a
    note, where the block names no Ofsted signatory: never a heading or another's name)."""
    for i, line in enumerate(lines):
        m = _SIGN_OFF.match(line)
        if not m:
            continue
        block = [line[m.end() :].lstrip(" ,"), *lines[i + 1 : i + 24]]
        if any(_OTHER_INSPECTORATE.search(b) for b in block[:16]):
            name = _ofsted_signatory([b for b in block if b])
            return (name, None) if name else (None, "lead inspector: the signature block names no Ofsted signatory")
        for name in block[:3]:
            found = clean_name(name)
            if found and not (_INSPECTOR_LINE.fullmatch(name.strip()) or _is_heading_row(name)):
                return _no_title(found), None
    for i in range(len(lines) - 1, 0, -1):
        if (
            _INSPECTOR_LINE.search(lines[i])
            and len(lines[i]) < 60
            and not _SIGN_OFF.match(lines[i - 1])
            and not _OTHER_INSPECTORATE.search(lines[i])
            and not _is_heading_row(lines[i - 1])
        ):
            found = clean_name(lines[i - 1])
            if found:
                return _no_title(found), None
    return None, None


def _is_heading_row(line: str) -> bool:
    """A row of the signature block's column headings ("Ofsted Care Quality Commission")."""
    return bool(_INSPECTORATE.search(line)) and not re.sub(r"\band\b|&|,", "", _INSPECTORATE.sub("", line)).strip()


def _ofsted_signatory(block: list[str]) -> str | None:
    """Ofsted's name in a joint letter's signature block: the name in the Ofsted column where
    the block is laid out under column headings (the 2016-2020 letters: "Ofsted Care Quality
    Commission", then each column's name and post), else the name whose post names Ofsted
    ("Yvette Stanley", "National Director Regulation and Social Care, Ofsted")."""
    names: list[tuple[str, list[str]]] = []  # each name with its post's lines
    columns: list[str] | None = None  # the first row of headings, in order
    for line in block:
        if _is_heading_row(line):
            if columns is None:
                columns = [m.group().lower() for m in _INSPECTORATE.finditer(line)]
            elif names:
                break  # the next row of columns
            continue
        name = None if _POST.search(line) or re.search(r"\d", line) else clean_name(line)
        if name and len(name.split()) <= 8 and line[:1].isupper():
            names.append((_no_title(_split_run_together(name)), []))
        elif names:
            names[-1][1].append(line)
    if columns and "ofsted" in columns:
        at = columns.index("ofsted")
        return names[at][0] if at < len(names) else None
    return next((name for name, post in names if _OFSTED_POST.search(" ".join(post))), None)


def _split_run_together(name: str) -> str:
    """Two words a PDF's layout ran together ("YvetteStanley"): split where a capitalised word
    of five or more letters is followed by another (not "McDonald", "MacLeod")."""
    return re.sub(r"\b([A-Z][a-z]{4,})(?=[A-Z][a-z])", r"\1 ", name)


def _no_title(name: str) -> str:
    return re.sub(r"^(?:mr|mrs|ms|miss|dr|mx)\.?\s+", "", name, flags=I)


def visit_dates(body: list[str], default_year: int | None, letter_date) -> tuple:
    """The visit's first and last day, from the first sentence of the body that gives them, and
    that sentence (or, where none gives them, the first that seemed to: the one tried)."""
    tried = None
    for sentence in body:
        for intro in islice(_DATES_INTRO.finditer(sentence), 50):  # bounded: "on 1 on 1 ..." * n
            m = find_day_list(sentence[intro.end() : intro.end() + 120])
            if m and m.start() == 0:
                start, end = parse_day_list(m.group(), default_year, letter_date)
                if start:
                    return start, end, sentence
                tried = tried or sentence
    return None, None, tried


# a visit lasts days, a few weeks at most, and its letter follows within months
LONGEST_VISIT = timedelta(weeks=6)
LONGEST_WAIT = timedelta(days=183)


def _fits(start: date, end: date, letter: date | None) -> bool:
    return timedelta(0) <= end - start <= LONGEST_VISIT and (
        letter is None or timedelta(0) <= letter - end <= LONGEST_WAIT
    )


def fit_dates(start: date, end: date, letter: date | None) -> tuple:
    """Visit dates and the letter's date made to fit each other: (start, end, letter, note). A
    letter dated before its visit (a January letter printed with the old year) is the year
    after; visit dates that cannot be right for the letter (longer than a few weeks, after it,
    or months before it) are read with the years that fit it, and noted; none fit: no dates."""
    if _fits(start, end, letter):
        return start, end, letter, None
    if letter and _fits(start, end, _year(letter, letter.year + 1)):
        return start, end, _year(letter, letter.year + 1), None
    years = sorted({start.year, end.year, *((letter.year, letter.year - 1) if letter else ())}, reverse=True)
    for ye in years:
        for ys in (ye, ye - 1):
            s2, e2 = _year(start, ys), _year(end, ye)
            if s2 and e2 and (s2, e2) != (start, end) and _fits(s2, e2, letter):
                return (
                    s2,
                    e2,
                    letter,
                    (
                        f"visit dates: printed {start:%-d %B %Y} to {end:%-d %B %Y}, read as "
                        f"{s2:%-d %B %Y} to {e2:%-d %B %Y} (the years that fit the letter)"
                    ),
                )
    letter_said = f" for a letter of {letter:%-d %B %Y}" if letter else ""
    return None, None, letter, f"{start:%-d %B %Y} to {end:%-d %B %Y} cannot be right{letter_said}"


def _year(day: date, year: int) -> date | None:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return None


# --- what a JTAI looked at -------------------------------------------------------------------
# each theme by the words that name it, most specific first ("child sexual exploitation,
# children associated with gangs" is exploitation); "abuse and neglect" alone names no theme:
# the older letters then name a 'deep dive'
THEME_WORDS = (
    ("mental_health", re.compile(r"mental (?:ill[- ]?)?health", I)),
    ("domestic_abuse", re.compile(r"domestic abuse", I)),
    ("sexual_abuse_in_family", re.compile(r"sexual abuse (?:with)?in the family", I)),
    ("serious_youth_violence", re.compile(r"serious youth violence", I)),
    ("initial_need_and_risk", re.compile(r"initial need|front door|who need help", I)),
    ("exploitation", re.compile(r"criminal(?:ly)? exploit|\bgangs?\b|(?<!sexual )exploitation\b", I)),
    ("cse_and_missing", re.compile(r"sexual exploitation|\bCSE\b", I)),
    ("neglect", re.compile(r"(?<!abuse and )\bneglect", I)),
)
_RESPONSE_TO = re.compile(r"multi-agency response to ([^.]{3,300})", I)
_DEEP_DIVE = re.compile(r"deep dive'?\s*(?:focus\s+)?(?:on|into)\s+([^.]{3,300})", I)
_IN_COUNCIL = re.compile(r"\s+in\s+(?:the\s+)?(?-i:[A-Z])")


def read_theme(opening: str) -> tuple[str | None, str | None]:
    """A JTAI's theme (a key of JTAI_THEMES) and the words it was read from: the multi-agency
    response its heading or first sentence names, else its 'deep dive' focus, else a later
    response it names; (None, the first response named) where none fits a theme."""
    responses = [m.group(1) for m in _RESPONSE_TO.finditer(opening)]
    dives = [m.group(1) for m in _DEEP_DIVE.finditer(opening)]
    passages = [_IN_COUNCIL.split(p, maxsplit=1)[0] for p in (*responses[:1], *dives, *responses[1:])]
    for passage in passages:  # each up to the council it names ("... domestic abuse in Norfolk")
        theme = next((key for key, words in THEME_WORDS if words.search(passage)), None)
        if theme:
            return theme, passage
    return None, (passages or [None])[0]


def read_letter(pdf: PdfText, kind: str) -> Reading:
    """A focused or monitoring visit, a JTAI, or an area SEND letter of the 2016 framework."""
    lines = letter_lines(pdf)
    r = Reading(kind=kind)
    dear = next((i for i, line in enumerate(lines) if re.match(r"dear\b", line, I)), None)
    head, body_lines = (lines[:dear], lines[dear + 1 :]) if dear is not None else (lines[:12], lines)
    r.published = first_dated_line("\n".join(head)) or first_full_date(" ".join(head))
    text = flat(" ".join(lines[: dear + 24] if dear is not None else lines[:40]))
    for pattern in _COUNCIL:
        m = pattern.search(text)
        if m:
            r.local_authority = re.sub(
                r"(?:'s|\s+(?:local authority|council)(?:'s)?)$", "", m.group("la").strip(" ,"), flags=I
            )
            break
    body = sentences(_HEADING.sub("", flat(" ".join(body_lines)), count=1))
    year = r.published.year if r.published else None
    start, end, tried = visit_dates(body[:20], year, r.published)
    why = None
    if start:
        start, end, r.published, why = fit_dates(start, end, r.published)
        r.notes += [why] if why and start else []
    if start is None and kind != "other":  # a document of no known kind has no history to hold it from
        tried = f"tried \u201c{tried[:200]}\u201d" if tried else "no sentence gives them"
        r.flags.append(f"visit dates not read: {why + ', ' if why else ''}{tried}")
        r.dates_flagged = True
    r.inspection_start, r.inspection_end = start, end
    r.lead_inspector, note = signatory(lines)
    r.notes += [note] if note else []
    if kind == "area_send":
        r.framework = "area_send_2016"
    if kind not in LETTER_KINDS:
        return r
    opening = []
    for sentence in body[:30]:
        if _FINDINGS_HEADING.match(sentence):
            break
        opening.append(sentence)
    focus, theme = read_focus(opening), None
    if kind == "jtai":
        # a JTAI looks at the multi-agency response to children who need help and protection
        theme, passage = read_theme(flat(" ".join(body_lines[:60])))
        focus = Focus(
            passage and f"The multi-agency response to {passage}.",
            ("help_and_protection",),
            None if theme else f"visit theme: no theme read from {(passage or 'the letter')[:200]!r}",
        )
    actions = read_priority_actions(body_lines)
    r.notes += [n for n in (focus.note, actions.note) if n]
    r.visit = Visit(
        areas=focus.areas,
        priority_actions=actions.count,
        priority_action_texts=actions.texts,
        focus=focus.sentence,
        theme=theme,
    )
    return r


# --- area SEND (2023 framework) ----------------------------------------------------------------
OUTCOMES = (
    ("systemic_failings", re.compile(r"widespread and/or systemic failings|systemic failings|widespread failings", I)),
    ("inconsistent", re.compile(r"inconsistent experiences and outcomes", I)),
    ("positive", re.compile(r"positive experiences and outcomes", I)),
)
_OFSTED_LEAD = re.compile(r"ofsted\b[^,\n]{0,20}?,?\s*lead inspector|lead inspector,?\s*ofsted\b", I)


def read_area_send(pdf: PdfText) -> Reading:
    """An area SEND report: its outcome from the "Inspection outcome" section, Ofsted's lead
    inspector from the inspection team, the dates printed on page 1. A report with no such
    section is a letter of the 2016 framework."""
    p1 = flat(pdf.page(0))
    section = re.search(r"inspection outcome\s*(.{0,600})", p1, I)
    if not (section or re.search(r"local area partnership", p1[:400], I)):
        return read_letter(pdf, "area_send")  # the 2016 framework's letters say "local area"
    r = Reading(kind="area_send", framework="area_send_2023", expected=("area_send_outcome",))
    m = re.search(r"area SEND inspection of (?:the )?(.{2,80}?) local area partnership", p1, I)
    r.local_authority = m.group(1).strip() if m else None
    r.inspection_start, r.inspection_end = printed_dates(p1)
    stated = " ".join(sentences(section.group(1))[:2]) if section else ""
    outcome = next((key for key, words in OUTCOMES if words.search(stated)), None)
    if outcome:
        r.table["area_send_outcome"] = outcome
    elif section:  # a full inspection's outcome not read (a monitoring inspection states none)
        r.notes.append('area_send_outcome: the "Inspection outcome" section names no outcome')
    last_pages = range(pdf.pages - 1, max(-1, pdf.pages - 4), -1)  # the inspection team is at the end
    r.lead_inspector = send_lead([line for n in last_pages for line in pdf.page(n).split("\n")])
    return r


def send_lead(lines: list[str]) -> str | None:
    """Ofsted's lead inspector (not the CQC's), from the inspection team's lines: the lead whose
    role names Ofsted ("A HMI, Ofsted lead inspector", "Ofsted lead inspector: A"), else, in a
    table under the inspectorates' column headings whose roles say only "Lead inspector", the
    lead in the Ofsted column."""
    columns: list[str] = []
    for i, line in enumerate(lines):
        m = _OFSTED_LEAD.search(line)
        if not m:
            if not columns and _is_heading_row(line):
                columns = [c.group().lower() for c in _INSPECTORATE.finditer(line)]
            continue
        before = line[: m.start()]
        # after a CQC colleague printed first on the line ("A, CQC lead inspector B, Ofsted ...")
        before = re.split(r"\b(?:CQC|care quality commission)\b[^,]*?\binspector\b", before, flags=I)[-1]
        after = re.split(r"[,(]", line[m.end() :].lstrip(" :"))[0]  # "Ofsted lead inspector: A"
        # or the name on the line above its role ("Jane Smith" / "Ofsted lead inspector")
        above = (
            lines[i - 1]
            if i
            and not (m.start() or _INSPECTORATE.search(lines[i - 1]) or re.search(r"inspect|team", lines[i - 1], I))
            else ""
        )
        name = clean_name(before) or clean_name(after) or clean_name(above)
        if name:
            return _no_title(name)
    return _lead_by_column(lines, columns)


_LEAD_ROLE = re.compile(r"\blead inspector\b", I)


def _lead_by_column(lines: list[str], columns: list[str]) -> str | None:
    """The lead in the Ofsted column of a team table whose row gives each column's lead
    ("Jane Smith HMI, Lead inspector    Chris Carer, Lead inspector")."""
    if "ofsted" not in columns:
        return None
    for line in lines:
        leads, at = [], 0
        for m in _LEAD_ROLE.finditer(line):
            leads.append(line[at : m.start()])
            at = m.end()
        if not leads:
            continue
        if len(leads) == len(columns):
            entry = leads[columns.index("ofsted")]
        elif columns[0] == "ofsted" and not re.search(r"\b(?:CQC|care quality commission)\b", leads[0], I):
            entry = leads[0]
        else:
            continue
        name = clean_name(re.split(r",|\bHMI\b", entry.strip(" ,:"))[0])
        if name:
            return _no_title(name)
    return None
