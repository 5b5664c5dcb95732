"""Messages: an alert event (or a digest of them) as a title and a body in one of three formats.

`text` for webhooks and anything plain, `markdown` (CommonMark) for chat (Slack, Teams,
Discord...), `html` for email. Each kind of message has one sentence template, in plain words
(`_facts`: a graded inspection, an area SEND inspection, a letter, a retraction); README's
examples are their real output (tests/test_alert_readme.py). Everything taken from the site or a report (council names,
listing titles, links) is escaped for the format, so it can never become markup, a link or a
mention (@channel, @everyone, <!here>); Apprise is told the body's format.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlsplit

from etl import grades
from etl.alert.events import AlertEvent
from etl.graded import AREA_SEND_FRAMEWORKS
from etl.grades import priority_action_count
from etl.links import one_line, safe_link

# each framework as a sentence names it, after "the"
FRAMEWORK_LABELS = {
    "lac": "looked after children framework (2012–2013)",
    "sif": "single inspection framework (2013–2018)",
    "ilacs_2018": "ILACS framework of 2018",
    "ilacs_2023": "ILACS framework of 2023",
    "ilacs_2026": "ILACS framework of 2026",
    "area_send_2016": "area SEND framework of 2016",
    "area_send_2023": "area SEND framework of 2023",
}
# an area SEND inspection's outcome as the report words it
OUTCOME_LABELS = {
    "positive": "positive experiences and outcomes",
    "inconsistent": "inconsistent experiences and outcomes",
    "systemic_failings": "widespread or systemic failings",
}
AREA_LABELS = {
    "lscb": "Local Safeguarding Children Board",
    "lac_capacity_to_improve": "capacity to improve",
    "area_send_outcome": "area SEND outcome",
}
KIND_LABELS = grades.LETTER_LABELS
MAX_POINTS = 5  # improvement points quoted in a message; the rest are counted


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str


def area_label(area: str) -> str:
    return AREA_LABELS.get(area, area.removeprefix("lac_").replace("_", " "))


def framework_label(framework: str | None) -> str | None:
    return FRAMEWORK_LABELS.get(framework, framework)


def grade_label(grade: str) -> str:
    return grade.replace("_", " ")


def day(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "date unknown"


def days(start: date | None, end: date | None) -> str:
    """A span of days as said aloud: "on 18 December 2019", "from 13 to 24 May 2019", "from
    28 April to 2 May 2019", "from 5 December 2022 to 15 February 2023"; "up to" an end alone."""
    if end is None:
        return f"on {day(start)}" if start else "on dates not read"
    if start is None:
        return f"up to {day(end)}"
    if start == end:
        return f"on {day(end)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"from {start.day} to {day(end)}"
    if start.year == end.year:
        return f"from {start.strftime('%-d %B')} to {day(end)}"
    return f"from {day(start)} to {day(end)}"


def published_span(values) -> str:
    """The dates a set of publications spans: "on 3 March 2020", "from 14 January to 2 June 2020"."""
    known = sorted(v for v in values if v)
    return days(known[0], known[-1]) if known else "on dates unknown"


# -- escaping ---------------------------------------------------------------------------
# CommonMark's markup characters; '.' only where it would make "1." a list item
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~&]|(?<=\d)\.)")
ZWSP = "\u200b"


clean = one_line  # untrusted text on one line (etl.links)


def escape(value: object, fmt: str) -> str:
    """Untrusted text as literal text in `fmt` (text, markdown, html, or chat-title: the plain
    title a chat service shows unformatted): never markup, a link or a mention."""
    text = clean(value)
    if fmt == "html":
        text = html.escape(text)
    else:
        # a zero-width space after @ or < breaks every mention (@everyone, <!channel>, <users/all>)
        text = text.replace("@", "@" + ZWSP).replace("<", "<" + ZWSP)
    # and where a chat or mail client would link a bare address: after "://", after dots between letters
    text = re.sub(r"\.(?=\w)", "." + ZWSP, text).replace("://", ":" + ZWSP + "//").replace("](", "]" + ZWSP + "(")
    return _MD_SPECIAL.sub(r"\\\1", text) if fmt == "markdown" else text


def safe_url(url: str | None, allowed_hosts=None) -> str | None:
    """A link fit to put in markup, or None: only what the link rule allows (etl.links: http(s)
    to the site or an allowed host; default, the settings' hosts), and characters that could
    end a Markdown link or an HTML attribute percent-encoded."""
    if allowed_hosts is None:
        from etl.config import Settings

        allowed_hosts = Settings.from_env().allowed_hosts
    if not safe_link(url, allowed_hosts):
        return None
    return quote(urlsplit(url).geturl(), safe=":/?#@!$&'*+,;=%-._~")


# -- one event --------------------------------------------------------------------------
def render(event: AlertEvent, fmt: str, allowed_hosts=None, limit: int | None = None) -> Message:
    """`allowed_hosts`: where a report link may point (etl.links; default, the settings');
    `limit`: the most characters the destination takes (title and body: `size`), the areas for
    priority action cut at a whole item to fit."""
    title = event_title(event, fmt)
    return Message(title, _BUILDERS[fmt](allowed_hosts).event(event, _room(title, limit)), fmt)


TITLE_GAP = 2  # what a chat service puts between a message's title and its body


def size(message: Message) -> int:
    """The characters a destination counts: title and body (a chat service joins them)."""
    return len(message.title) + TITLE_GAP + len(message.body)


def _room(title: str, limit: int | None) -> int | None:
    """The characters a body may have under `title` (None: no limit)."""
    return None if limit is None else limit - len(title) - TITLE_GAP


def render_notice(title: str, body: str, fmt: str, limit: int | None = None) -> Message:
    """An operators' notice (its lines quote council names, titles and flags read from files)
    escaped and defused like subscribers' alerts, a line an item, cut at a whole line to fit."""
    builder = _BUILDERS[fmt]()
    title = _title(title, fmt)
    lines = [builder.esc(line) for line in body.splitlines() if line.strip()]
    room = None if limit is None else _room(title, limit) - len(builder.join([""]))
    return Message(title, builder.join([builder.fit("", lines, room, "see the run's log")]), fmt)


def event_title(event: AlertEvent, fmt: str) -> str:
    """The title for a destination told `fmt`. Markdown services may render the title as
    Markdown (Discord, Mattermost) or merge it into the body (Google Chat), so what the site
    said is escaped as Markdown there; elsewhere the title is plain text (an email's subject)."""
    if fmt == "markdown":
        return title_text(event, lambda value: escape(value, "markdown"))
    return _title(title_text(event), fmt)


def title_text(event: AlertEvent, name=None) -> str:
    """The title as plain words (council name cleaned, not escaped; or through `name`)."""
    council = (name or clean)(event.council)
    if event.framework in AREA_SEND_FRAMEWORKS and event.kind in ("grade_change", "inspection", "new_council"):
        return _send_title(event, council)
    if event.kind == "grade_change":
        lead = _headline(event)
        more = len(event.changes) - 1
        word = (
            "improved"
            if event.directions == {"improved"}
            else "declined"
            if event.directions == {"declined"}
            else "changed"
        )
        extra = f" (+{more} area{'s' if more > 1 else ''})" if more else ""
        return (
            f"Ofsted: {council} {word} — {area_label(lead.area)} {grade_label(lead.previous_grade)}"
            f" → {grade_label(lead.grade)}{extra}"
        )
    if event.kind == "retraction":
        n = len(event.changes)
        return f"Ofsted: correction — {n} earlier change{'s' if n > 1 else ''} for {council} retracted"
    if event.kind == "priority_action":
        count = priority_action_count(event.priority_actions)
        subject = grades.letter_subject(event.letter_kind, event.visit_areas, event.visit_theme)
        if event.letter_kind == "jtai" and grades.theme_label(event.visit_theme):
            return f"Ofsted: {council} — {subject}: {count}"  # "... — joint inspection of the response to ...: 2 areas"
        return f"Ofsted: {council} — {count} ({subject})"
    if event.kind in KIND_LABELS:
        focus = grades.looked_at(event.kind, event.visit_areas, event.visit_theme)
        return f"Ofsted: {KIND_LABELS[event.kind]} {_to(event.kind)} {council} published" + (
            f" — {focus}" if focus else ""
        )
    lead = _lead_grade(event)
    summary = f"{area_label(lead[0])} {grade_label(lead[1])}" if lead else "no grade read"
    if event.kind == "new_council":
        return f"Ofsted: {council} — first inspection on record: {summary}"
    return f"Ofsted: {council} inspected, no grade changed — {summary}"


def _outcome_change(event: AlertEvent):
    return next((c for c in event.changes if c.area == "area_send_outcome"), None)


def _outcome(event: AlertEvent) -> str | None:
    """An area SEND report's outcome: held, or changed to."""
    change = _outcome_change(event)
    return change.grade if change else dict(event.held).get("area_send_outcome")


def _send_title(event: AlertEvent, council: str) -> str:
    """An area SEND inspection says its outcome ("widespread or systemic failings"), and where it
    differs from the previous one, which that was; the first on record says so."""
    said = OUTCOME_LABELS.get(_outcome(event), "no outcome read")
    first = "first area SEND inspection on record" if _first_on_record(event) else "area SEND inspection"
    change = _outcome_change(event)
    before = (
        (
            f", {'up' if change.direction == 'improved' else 'down'} from "
            f"{OUTCOME_LABELS.get(change.previous_grade, change.previous_grade)}"
        )
        if change
        else ""
    )
    return f"Ofsted: {council} — {first}: {said}{before}"


def _to(kind: str | None) -> str:
    """A visit is *to* a council; an inspection *of* one."""
    return "to" if kind in ("focused_visit", "monitoring_visit") else "of"


def _title(text: str, fmt: str) -> str:
    # a title of our own words only (a digest's), or a plain-text destination's
    return escape(text, "chat-title" if fmt == "markdown" else "text")


def _area_order(change) -> tuple:
    order = grades.HEADLINE_AREAS
    return (order.index(change.area) if change.area in order else len(order), change.area)


def _headline(event: AlertEvent):
    return min(event.changes, key=_area_order)


def _lead_grade(event: AlertEvent):
    held = dict(event.held)
    return next(((a, held[a]) for a in grades.HEADLINE_AREAS if a in held), next(iter(event.held), None))


# -- the sentences, one template per kind of message (plain words; escaped by the builder) --
def _where(event: AlertEvent) -> str:
    """'Barnet (London, URN 80487)'."""
    region = f"{clean(event.region)}, " if event.region else ""
    return f"{clean(event.council)} ({region}URN {clean(event.urn)})"


def _facts(event: AlertEvent) -> str:
    """What the message is about, in whole sentences: who inspected what and when, when it was
    published, and the inspection before it."""
    if event.kind in KIND_LABELS or event.kind == "priority_action":
        return _letter_facts(event)
    if event.kind == "retraction":
        return (
            f"A corrected reading of the report on {_where(event)} published on {day(event.published)} no "
            "longer supports these changes announced earlier; the council's ratings are as before them."
        )
    if event.framework in AREA_SEND_FRAMEWORKS:
        return _send_facts(event)
    kind = f"a {event.inspection_type} inspection " if event.inspection_type else ""
    return (
        f"Ofsted inspected children's services in {_where(event)} "
        f"{days(event.inspection_start, event.inspection_end)}, {kind}under the "
        f"{framework_label(event.framework)}, and published its report on {day(event.published)}. "
        + _previous(event, "inspection")
    )


def _spoken(listed: str | None) -> str | None:
    """'a, b, c' -> 'a, b and c' (the labels hold no commas)."""
    return " and ".join(listed.rsplit(", ", 1)) if listed else listed


def _first_on_record(event: AlertEvent) -> bool:
    return event.previous_inspection_end is None and event.previous_published is None and not event.changes


def _previous(event: AlertEvent, what: str) -> str:
    """The inspection before this one: when it ended, and under which framework if another."""
    if _first_on_record(event):
        return f"There is no earlier {what} on record."
    under = (
        ""
        if event.previous_framework in (None, event.framework)
        else f", under the {framework_label(event.previous_framework)},"
    )
    ended = (
        f"ended on {day(event.previous_inspection_end)}"
        if event.previous_inspection_end
        else f"was published on {day(event.previous_published)}"
    )
    return f"The previous {what}{under} {ended}."


def _send_facts(event: AlertEvent) -> str:
    outcome = _outcome(event)
    found = f" It found {OUTCOME_LABELS[outcome]}." if outcome in OUTCOME_LABELS else ""
    return (
        f"Ofsted and the Care Quality Commission inspected the local area partnership's arrangements for "
        f"children with special educational needs and disabilities in {_where(event)} "
        f"{days(event.inspection_start, event.inspection_end)}, and published the report on "
        f"{day(event.published)}.{found} " + _previous(event, "area SEND inspection")
    )


def _letter_facts(event: AlertEvent) -> str:
    """A letter: its kind, council, visit dates and publication, what it looked at and whether it
    sets out areas for priority action (plain words)."""
    kind = event.letter_kind or event.kind
    label = KIND_LABELS.get(kind, "letter")
    if event.inspection_end or event.inspection_start:
        out = (
            f"Ofsted carried out a {label} {_to(kind)} {_where(event)} "
            f"{days(event.inspection_start, event.inspection_end)}, and published its letter on "
            f"{day(event.published)}."
        )
    else:
        out = f"Ofsted published its letter on a {label} {_to(kind)} {_where(event)} on {day(event.published)}."
    if event.title:
        out += f" The site lists it as “{clean(event.title)}”."
    if event.visit_areas is None:
        return out
    focus = _spoken(grades.visit_focus(event.visit_areas))
    theme = grades.theme_label(event.visit_theme) if kind == "jtai" else None
    focus = f"{theme} ({focus})" if theme and focus else theme or focus
    out += f" It looked at {focus}." if focus else " What it looked at could not be read from the letter."
    n = event.priority_actions
    return out + f" It sets out {priority_action_count(n) if n else 'no areas for priority action'}."


def _framework_note(event: AlertEvent) -> str | None:
    """What a change of framework means for reading the grades (areas no longer judged)."""
    if not event.retired:
        return None
    areas = ", ".join(f"{area_label(a)} (last graded {grade_label(g)})" for a, g in event.retired)
    return (
        f"This is the council's first inspection under the {framework_label(event.framework)},"
        f" which does not judge {areas}: those grades end here, they did not change."
    )


class _Text:
    """Plain text: lines and indented lists."""

    fmt = "text"

    def __init__(self, allowed_hosts=None):
        self.allowed_hosts = allowed_hosts

    def esc(self, value) -> str:
        return escape(value, self.fmt)

    def para(self, text: str) -> str:
        return text

    def items(self, heading: str, items: list[str]) -> str:
        return "\n".join(([heading] if heading else []) + [f"  - {i}" for i in items])

    def grade(self, grade: str) -> str:
        return grade_label(grade)

    def link(self, url: str, text: str) -> str:
        return f"{text}: {url}"

    def join(self, blocks: list[str]) -> str:
        return "\n\n".join(b for b in blocks if b)

    def change_line(self, c) -> str:
        return (
            f"{self.esc(area_label(c.area))}: {self.grade(c.previous_grade)} → {self.grade(c.grade)}"
            f" ({self.esc(c.direction)})"
        )

    def heading(self, title: str) -> str:
        return ""  # chat and webhooks show the title themselves

    def fit(self, heading: str, items: list[str], room: int | None, where: str) -> str:
        """`items` as a list within `room` characters (None: all): whole items, the first
        first, then "… N more: <where>"."""
        whole = self.items(heading, items)
        if room is None or len(whole) <= room:
            return whole
        more = lambda n: f"… {n} more: {where}"  # noqa: E731
        used = len(self.items(heading, [more(len(items))])) + self.item_gap
        kept = 0
        for item in items:
            used += len(self.items("", [item])) + self.item_gap
            if used > room:
                break
            kept += 1
        return self.items(heading, [*items[:kept], more(len(items) - kept)])

    item_gap = 1  # what joins two items (a newline)

    @property
    def block_gap(self) -> int:
        """What joining one more block adds besides the block itself."""
        return len(self.join(["x", "x"])) - len(self.join(["x"])) - 1

    def event(self, event: AlertEvent, room: int | None = None) -> str:
        blocks = [self.heading(title_text(event)), self.para(self.esc(_facts(event)))]
        if event.changes:
            heading = "Retracted changes:" if event.kind == "retraction" else "Changed:"
            blocks.append(self.items(heading, [self.change_line(c) for c in sorted(event.changes, key=_area_order)]))
        if event.held:
            heading = "Grades that held:" if event.kind == "grade_change" else "Grades:"
            blocks.append(self.items(heading, [f"{self.esc(area_label(a))}: {self.grade(g)}" for a, g in event.held]))
        lists = []  # (place, heading, items, where the rest is): fitted, in order, into the room left
        if event.kind == "priority_action":
            texts = [self.esc(t) for t in event.priority_action_texts]
            unread = event.priority_actions - len(texts)
            if unread > 0:
                texts.append(f"{unread} more could not be read: see the letter")
            lists.append((len(blocks), "Areas for priority action:", texts, "see the letter"))
            blocks.append("")  # the list: fitted below into the room the rest leaves
        if event.improvements:
            lists.append((len(blocks), "What needs to improve:", self.points(event.improvements), "see the report"))
            blocks.append("")
        note = _framework_note(event)
        if note:
            blocks.append(self.para(self.esc(note)))
        url = safe_url(event.url, self.allowed_hosts)
        blocks.append(self.para(self.link(url, "Read the report") if url else "Report link not available."))
        if event.changes:
            blocks.append(self.para("Change IDs: " + ", ".join(c.change_id for c in event.changes)))
        for place, heading, items, where in lists:
            left = None if room is None else room - len(self.join(blocks)) - self.block_gap
            blocks[place] = self.fit(heading, items, left, where)
        return self.join(blocks)

    def points(self, texts: tuple[str, ...]) -> list[str]:
        """The first MAX_POINTS improvement points, escaped, then how many more the report has."""
        shown = [self.esc(t) for t in texts[:MAX_POINTS]]
        more = len(texts) - MAX_POINTS
        return shown + ([f"and {more} more: see the report"] if more > 0 else [])

    def digest(self, heading: str, events: list[AlertEvent], room: int | None = None) -> str:
        lines = []
        for e in events:
            url = safe_url(e.url, self.allowed_hosts)
            lines.append(self.esc(digest_line(e)) + (f" — {self.link(url, 'report')}" if url else ""))
        top = self.para(self.esc(heading))
        left = None if room is None else room - len(self.join([top])) - self.block_gap
        return self.join([top, self.fit("", lines, left, "see the view")])


class _Markdown(_Text):
    fmt = "markdown"

    def items(self, heading: str, items: list[str]) -> str:
        return "\n".join(([f"**{heading}**"] if heading else []) + [f"- {i}" for i in items])

    def grade(self, grade: str) -> str:
        return f"*{grade_label(grade)}*"

    def link(self, url: str, text: str) -> str:
        return f"[{text}]({url})"


class _Html(_Text):
    fmt = "html"

    def para(self, text: str) -> str:
        return f"<p>{text}</p>"

    def heading(self, title: str) -> str:  # an email client shows the subject apart from the body
        return f'<h2 style="font-size:18px;margin:0 0 12px">{self.esc(title.removeprefix("Ofsted: "))}</h2>'

    item_gap = 0

    def items(self, heading: str, items: list[str]) -> str:
        head = f"<p><strong>{heading}</strong></p>" if heading else ""
        return head + "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

    def grade(self, grade: str) -> str:
        look = grades.style(grade) or grades.style("not_judged")
        return (
            f'<span style="background:{look.fill};color:{look.text};padding:1px 6px;border-radius:3px;'
            f'font-weight:bold">{html.escape(grades.label(grade))}</span>'
        )

    def link(self, url: str, text: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'

    def join(self, blocks: list[str]) -> str:
        body = "\n".join(b for b in blocks if b)
        return f'<div style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5">\n{body}\n</div>'


# the body's builder for each format: text for webhooks, markdown for chat, html for email
_BUILDERS = {"text": _Text, "markdown": _Markdown, "html": _Html}


# -- digests ----------------------------------------------------------------------------
def render_digest(
    events: list[AlertEvent],
    fmt: str,
    cadence: str,
    period_start: date,
    period_end: date,
    allowed_hosts=None,
    limit: int | None = None,
) -> Message:
    """One message for a period (the days the pipeline first saw its events): headed by the days
    its events were published, a line per event, oldest first (cut at a whole line to fit `limit`)."""
    published = published_span(e.published for e in events)
    n = len(events)
    title = _title(f"Ofsted {cadence} digest: {n} report{'s' if n != 1 else ''} published {published}", fmt)
    dated = [e.published for e in events if e.published]
    seen = (
        f"on {day(period_start)}"
        if period_start == period_end
        else f"between {day(period_start)} and {day(period_end)}"
    )
    first_seen = "" if dated and period_start <= min(dated) and max(dated) <= period_end else f" (first seen {seen})"
    heading = f"What Ofsted published about the councils you follow {published}{first_seen}:"
    return Message(title, _BUILDERS[fmt](allowed_hosts).digest(heading, events, _room(title, limit)), fmt)


def digest_line(event: AlertEvent) -> str:
    """One event in a digest (plain words): its publication date and title, the council's
    region, when a grade change's previous inspection ended, and the areas for priority action a
    letter sets out."""
    council = (lambda name: f"{clean(name)} ({clean(event.region)})") if event.region else None
    line = f"{day(event.published)}: {title_text(event, council).removeprefix('Ofsted: ')}"
    before = event.previous_inspection_end or event.previous_published
    if event.kind == "grade_change" and before:
        line += (
            f"; the previous inspection ended {day(before)}"
            if event.previous_inspection_end
            else f"; the previous inspection was published {day(before)}"
        )
    if event.priority_action_texts:
        line += " — " + " ".join(f"“{clean(t)}”" for t in event.priority_action_texts)
        unread = event.priority_actions - len(event.priority_action_texts)
        line += f" (and {unread} more: see the letter)" if unread > 0 else ""
    return line
