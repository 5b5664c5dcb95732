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
from itertools import islice

from etl.parse.fields import clean_name, find_day_list, first_dated_line, first_full_date, parse_day_list
from etl.parse.frameworks import Reading, printed_dates
from etl.parse.text import BULLET, PdfText, flat
from etl.records import LETTER_KINDS, VISIT_AREAS, Visit

I = re.I

# --- page furniture ------------------------------------------------------------------------
# the letterhead repeated on every page (from "Ofsted" to its web address) and page numbers
_LETTERHEAD = re.compile(r"^\s*Ofsted\s*$")
_LETTERHEAD_END = re.compile(r"gov\.uk/ofsted|ofsted\.gov\.uk\s*$", I)
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?\s*$", I)


def letter_lines(pdf: PdfText) -> list[str]:
    """Every line of the letter in reading order, without page numbers and letterheads."""
    out: list[str] = []
    for n in range(pdf.pages):
        lines = pdf.page(n, bullets=True).split("\n")
        i = 0
        while i < len(lines):
            if _LETTERHEAD.match(lines[i]):
                end = next((j for j in range(i, min(i + 14, len(lines))) if _LETTERHEAD_END.search(lines[j])), None)
                if end is not None:
                    i = end + 1
                    continue
            if lines[i].strip() and not _PAGE_NUMBER.match(lines[i]):
                out.append(lines[i].strip())
            i += 1
    return out


# --- sentences -------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z'\"(\u2022])|\s+(?=\u2022)")
# the headings that end a letter's opening (its findings begin)
_FINDINGS_HEADING = re.compile(
    r"^(?:headline findings|overview|(?:main |summary of )?findings|what needs to improve|areas? for "
    r"(?:priority action|improvement)|evaluation of progress)\b", I)


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
        r"youth violence|initial need", I),
    "in_care": re.compile(
        r"\bin care\b|\binto care\b|looked[- ]after|permanen(?:ce|cy)|placements?\b|(?<!private )\bfoster|"
        r"care orders?\b|special guardianship|connected (?:carers|persons)|children's homes|"
        r"unaccompanied asylum[- ]seeking children", I),
    "care_leavers": re.compile(r"care[- ]leavers?|leaving care|care[- ]experienced", I),
    "impact_of_leaders": re.compile(r"impact of (?:the |senior )?leaders(?:hip)?\b|leaders' impact", I),
}
# a sentence that says what inspectors looked at (not how: "a range of evidence", records)
_FOCUS_VERB = re.compile(
    r"\b(?:looked at|look at|considered|reviewed|evaluated|examined|explored|scrutinised|focus(?:ed)? "
    r"(?:of|on)|the multi-agency response to|inspected)\b", I)
_METHOD = re.compile(r"range of evidence|\bevidence\b|case records|performance (?:management|information|data)"
                     r"|quality assurance information|\bcarried out\b", I)
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
            listed = [s for s in opening[i + 1:i + 12] if s.startswith(BULLET)]
            sentence = " ".join([sentence, *listed])
            areas = set(areas_named(sentence))
        for following in opening[i + 1:i + 8]:
            if _PASSAGE_END.search(following) or _FINDINGS_HEADING.match(following):
                break
            if AREA_WORDS["impact_of_leaders"].search(following):
                areas.add("impact_of_leaders")
        found = tuple(sorted(areas))
        if not found:
            return Focus(cut(sentence), (), f"visit focus: no area read from {sentence[:200]!r}")
        long = len(sentence) > MAX_TEXT
        return Focus(cut(sentence), found, f"visit focus: a sentence of {len(sentence):,} characters, cut" if long else None)
    return Focus(None, tuple(sorted(VISIT_AREAS)))


# --- areas for priority action -----------------------------------------------------------------
_PA_HEADING = re.compile(r"^areas?\s*(?P<s>\(s\))?\s+for\s+priority\s+action\s*(?::\s*(?P<rest>.*))?$", I)
_ITEM = re.compile(rf"^(?:{BULLET}|\(?\d{{1,2}}[.)]\s|\(?[a-z][.)]\s)\s*")
# section headings that may follow the last item without a full stop before them
_NEXT_SECTION = re.compile(r"^(?:what needs to improve|areas? for improvement|(?:main |headline )?findings|"
                           r"overview|next steps|yours)", I)
_NONE_SET = re.compile(r"\bno\b[^.]{0,40}\bpriority actions?\b|\bnone\b|not (?:been )?identified any", I)
# an action set out before that the letter says is still unresolved: not counted again
_CARRIED_OVER = re.compile(r"priority action.{0,120}\b(?:previous|previously|last|earlier|remains?|still|"
                           r"unresolved|outstanding)\b|\b(?:previous|previously|last|earlier)\b.{0,120}"
                           r"priority action", I)


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
        stripped = next((stripped[:-len(w)] for w in _JOINING_WORDS if stripped.endswith(w)), stripped)
        if stripped == text:
            break
        text = stripped
    text = cut(text.strip())
    return (text[:1].upper() + text[1:] + ("" if text.endswith("…") else ".")) if text else ""


def read_priority_actions(lines: list[str]) -> PriorityActions:
    """The areas for priority action the letter sets out: the items under its heading, or one
    where a single statement follows it (or the heading is singular); 0 without a heading or
    where the statement says there are none. A heading whose items cannot be read counts one,
    with a note."""
    # a heading starts with its capital (a sentence wrapped onto a line of its own does not)
    start = next((i for i, line in enumerate(lines) if line[:1] == "A" and _PA_HEADING.match(line)), None)
    if start is None:
        return PriorityActions()
    heading = _PA_HEADING.match(lines[start])
    singular = not (heading.group("s") or re.match(r"areas", lines[start], I))  # "Area for priority action"
    lead: list[str] = [heading.group("rest")] if heading.group("rest") else []
    items: list[list[str]] = []
    for line in lines[start + 1:]:
        marker = _ITEM.match(line)
        if marker:
            items.append([line[marker.end():]])
            continue
        if items:
            previous = items[-1][-1].rstrip()   # the item's last line (a join each line: quadratic)
            if _NEXT_SECTION.match(line) or (previous.endswith((".", ";", "?", "!")) and line[:1].isupper()):
                break
            items[-1].append(line)
            continue
        if lead and lead[-1].rstrip().endswith((".", "?", "!")) and line[:1].isupper():
            break  # a single statement, then the next section
        if _NEXT_SECTION.match(line):
            break
        lead.append(line)
    statement = flat(" ".join(lead))
    if _NONE_SET.search(statement) and not items:
        return PriorityActions()
    texts = [first_sentence(" ".join(item)) for item in items if flat(" ".join(item))]
    counted = [t for t in texts if not _CARRIED_OVER.search(t)]
    if singular:
        text = first_sentence(statement) if statement else (counted[:1] or [""])[0]
        return PriorityActions(1, (text,) if text else (), _cut_note((text,)) if text else
                               "priority action: its text could not be read")
    if counted:
        return PriorityActions(len(counted), tuple(counted), _cut_note(counted))
    if texts:  # every item is one set out before and still unresolved
        return PriorityActions(0, (), "priority actions: only earlier ones, still unresolved, are listed")
    if statement and ":" not in statement and not _CARRIED_OVER.search(statement):
        return PriorityActions(1, (first_sentence(statement),))
    return PriorityActions(1, (), "priority actions: a heading whose items could not be read (counted as one)")


def _cut_note(texts) -> str | None:
    n = sum(t.endswith("…") for t in texts)   # (an item not cut ends with its full stop)
    return f"priority actions: {n} item(s) longer than {MAX_TEXT:,} characters cut" if n else None


# --- the letter --------------------------------------------------------------------------------
_COUNCIL = (
    re.compile(r"\bvisit (?:to|of) (?:the )?(?P<la>(?:(?!children's|\bvisit\b)[^.]){2,80}?) (?:local authority |council )?(?:(?:children's|young "
               r"people's) (?:social care )?services|children's trust)", I),
    re.compile(r"joint targeted area inspection (?:\(JTAI\) )?of (?:the multi-agency response to .{2,200}? in )?"
               r"(?:the )?(?P<la>[^.,]{2,80}?)(?= (?:this|between|from|on|the|her|his|our|ofsted)\b|[.,]|$)", I),
    re.compile(r"local area (?:SEND|special educational needs)[^.]{0,40}? (?:inspection|revisit) (?:in|of) "
               r"(?:the )?(?P<la>[^.,]{2,80}?)(?= (?:this|between|from|on|the|her|his|our|ofsted)\b|[.,]|$)", I),
)
# the letter's heading ("Focused visit to X children's services"), which ends in no full stop:
# up to where its first sentence starts
_HEADING = re.compile(r"^(?:[\w' ]{0,40}?visit|joint targeted area inspection|joint local area SEND (?:inspection|revisit))"
                      r" (?:to|of|in)\b[^.]{0,250}?(?=\s(?-i:This|Her|His|The|Between|From|On|In|During|Ofsted|We)\b)", I)
_SIGN_OFF = re.compile(r"^your?s?\s+(?:sincerely|faithfully)\b", I)
_INSPECTOR_LINE = re.compile(r"majesty's inspector|\bHMI\b", I)
_DATES_INTRO = re.compile(r"\b(?:on|between|from|took place|dates? of (?:the )?(?:visit|inspection)\s*:?)\s+(?:the\s+)?", I)


def signatory(lines: list[str]) -> str | None:
    """The name under "Yours sincerely" (or above the last "His/Her Majesty's Inspector")."""
    for i, line in enumerate(lines):
        m = _SIGN_OFF.match(line)
        if m:
            for name in [line[m.end():].lstrip(" ,"), *lines[i + 1:i + 3]]:
                found = clean_name(name)
                if found and not _INSPECTOR_LINE.fullmatch(name.strip()):
                    return _no_title(found)
    for i in range(len(lines) - 1, 0, -1):
        if _INSPECTOR_LINE.search(lines[i]) and len(lines[i]) < 60 and not _SIGN_OFF.match(lines[i - 1]):
            found = clean_name(lines[i - 1])
            if found:
                return _no_title(found)
    return None


def _no_title(name: str) -> str:
    return re.sub(r"^(?:mr|mrs|ms|miss|dr|mx)\.?\s+", "", name, flags=I)


def visit_dates(body: list[str], default_year: int | None, letter_date) -> tuple:
    """The visit's first and last day, from the first sentence of the body that gives them."""
    for sentence in body:
        for intro in islice(_DATES_INTRO.finditer(sentence), 50):  # bounded: "on 1 on 1 ..." * n
            m = find_day_list(sentence[intro.end():intro.end() + 120])
            if m and m.start() == 0:
                start, end = parse_day_list(m.group(), default_year, letter_date)
                if start:
                    return start, end
    return None, None


def read_letter(pdf: PdfText, kind: str) -> Reading:
    """A focused or monitoring visit, a JTAI, or an area SEND letter of the 2016 framework."""
    lines = letter_lines(pdf)
    r = Reading(kind=kind)
    dear = next((i for i, line in enumerate(lines) if re.match(r"dear\b", line, I)), None)
    head, body_lines = (lines[:dear], lines[dear + 1:]) if dear is not None else (lines[:12], lines)
    r.published = first_dated_line("\n".join(head)) or first_full_date(" ".join(head))
    text = flat(" ".join(lines[:dear + 8] if dear is not None else lines[:40]))
    for pattern in _COUNCIL:
        m = pattern.search(text)
        if m:
            r.local_authority = re.sub(r"(?:'s|\s+council(?:'s)?)$", "", m.group("la").strip(" ,"), flags=I)
            break
    body = sentences(_HEADING.sub("", flat(" ".join(body_lines)), count=1))
    year = r.published.year if r.published else None
    r.inspection_start, r.inspection_end = visit_dates(body[:20], year, r.published)
    if r.published and r.inspection_end and r.published < r.inspection_end:
        # a letter is written after its visit: a printed date before it has slipped a year
        # (January letters dated with the old year)
        r.published = r.published.replace(year=r.published.year + 1)
    r.lead_inspector = signatory(lines)
    if kind == "area_send":
        r.framework = "area_send_2016"
    if kind not in LETTER_KINDS:
        return r
    opening = []
    for sentence in body[:30]:
        if _FINDINGS_HEADING.match(sentence):
            break
        opening.append(sentence)
    focus = read_focus(opening)
    actions = read_priority_actions(body_lines)
    r.notes += [n for n in (focus.note, actions.note) if n]
    r.visit = Visit(areas=focus.areas, priority_actions=actions.count,
                    priority_action_texts=actions.texts, focus=focus.sentence)
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
        r.notes.append("area_send_outcome: the \"Inspection outcome\" section names no outcome")
    last_pages = range(pdf.pages - 1, max(-1, pdf.pages - 4), -1)  # the inspection team is at the end
    r.lead_inspector = send_lead([line for n in last_pages for line in pdf.page(n).split("\n")])
    return r


def send_lead(lines: list[str]) -> str | None:
    """Ofsted's lead inspector (not the CQC's), from the inspection team's lines."""
    for line in lines:
        m = _OFSTED_LEAD.search(line)
        if not m:
            continue
        before = line[:m.start()]
        # after a CQC colleague printed first on the line ("A, CQC lead inspector B, Ofsted ...")
        before = re.split(r"\b(?:CQC|care quality commission)\b[^,]*?\binspector\b", before, flags=I)[-1]
        after = re.split(r"[,(]", line[m.end():].lstrip(" :"))[0]  # "Ofsted lead inspector: A"
        name = clean_name(before) or clean_name(after)
        if name:
            return _no_title(name)
    return None
