"""Atom (RFC 4287) feeds of rating changes and of letters setting out areas for priority action,
built with ElementTree so every value is escaped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from xml.etree import ElementTree as ET

from etl.grades import priority_action_count
from etl.links import clean_text, one_line
from etl.web.data import area_label, grade_label, letter_subject

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 200  # a feed reader wants what is new, not the whole history


def _stamp(day: date | None) -> str:
    day = day or date(1970, 1, 1)
    return datetime.combine(day, time(), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def entry_title(change: dict) -> str:
    return (
        f"{change['local_authority']}: {area_label(change['area'])} {change['direction']}, "
        f"{grade_label(change['previous_grade'])} to {grade_label(change['grade'])}"
    )


def action_title(letter: dict) -> str:
    """'Solihull: 2 areas for priority action (joint inspection of the response to initial need and risk)'."""
    return f"{one_line(letter['local_authority'])}: {priority_action_count(letter['priority_actions'])} ({letter_subject(letter)})"


def atom_feed(
    title: str,
    self_url: str,
    page_url: str,
    changes: list[dict],
    council_url: Callable[[str], str],
    report_link: Callable[[str | None], str | None],
    actions: list[dict] = (),
    checked: datetime | None = None,
) -> bytes:
    """`report_link`: the link rule (etl.links), so a refused report URL is left out.
    `checked`: when the site was last checked (etl.freshness): the feed's `updated`, so a
    reader sees how fresh it is even when nothing has changed."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def add(parent, tag, text=None, **attrs):
        # a control character is not allowed in XML at all: one in a stored name would make
        # the feed unreadable for everyone (rows stored before the crawler removed them)
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: clean_text(v) for k, v in attrs.items()})
        node.text = clean_text(text) if text else text
        return node

    def add_entry(entry_id: str, title: str, row: dict, pdf_url: str | None, summary: str) -> None:
        entry = add(feed, "entry")
        add(entry, "title", title)
        add(entry, "id", f"urn:ofsted-ratings:{entry_id}")
        add(entry, "updated", _stamp(row["published"]))
        add(entry, "link", rel="alternate", type="text/html", href=council_url(row["urn"]))
        pdf = report_link(pdf_url)
        if pdf:
            add(entry, "link", rel="related", type="application/pdf", href=pdf)
        add(entry, "summary", summary)

    add(feed, "title", title)
    add(feed, "id", self_url)
    add(feed, "link", rel="self", href=self_url)
    add(feed, "link", rel="alternate", type="text/html", href=page_url)
    newest = _stamp(max((c["published"] for c in [*changes, *actions] if c["published"]), default=None))
    add(
        feed,
        "updated",
        checked.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z") if checked else newest,
    )
    add(add(feed, "author"), "name", "ofsted-ratings")
    for c in changes:
        add_entry(
            f"change:{c['change_id']}",
            entry_title(c),
            c,
            c["report_url"],
            f"{entry_title(c)}. Inspection ended {c['inspection_end'] or 'unknown'}; "
            f"report published {c['published'] or 'unknown'} "
            f"(previous grade published {c['previous_published'] or 'unknown'}).",
        )
    for a in actions:
        add_entry(
            f"priority-action:{a['report_id']}",
            action_title(a),
            a,
            a["url"],
            f"{action_title(a)}. Visit ended {a['inspection_end'] or 'unknown'}; letter published "
            f"{a['published'] or 'unknown'}. " + " ".join(one_line(t) for t in a["texts"]),
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
