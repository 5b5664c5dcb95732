"""Reviews: the reports a person should look at, and their decisions, without Python or SQL.

A report is listed when it is
  held      - a real conflict (table and body disagree; framework, council or date unknown):
              it stays out of the rating history until resolved;
  reparse   - a re-parse would lose what the stored parse has (the report, or an area), so the
              loader held it (parse_holds, kind 'review') and the stored judgements stay in
              force; `accept` applies the re-parse, `set_grades` applies it and then the grades;
  not_read  - an area its framework requires could not be read: the other areas count, the
              council's previous grade in that area ends at this report ("not read");
  noted     - it counts as parsed, with a note worth a glance (an area read from one source);
  other_kind - the site lists it with a wording the crawler does not know (its listing title is
              shown): it was downloaded and read all the same, and is listed once, until accepted.
Resolving (`accept`, or `set_grades` with the right grades) records who and why, and takes
effect at the next changes refresh. Plain functions on a `Warehouse`, used by `ofsted review`
and the web page alike.

    items = list_reviews(wh)
    set_grades(wh, items[0].report_id, {"overall_effectiveness": "good"}, who="ann", why="p.1")
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from etl.load import accept_held_parse, by_chunks, resolve_review, scale_of
from etl.records import FRAMEWORK_AREAS
from etl.warehouse import Warehouse

STATUSES = ("held", "reparse", "not_read", "noted", "other_kind", "resolved", "clear")  # clear: nothing to review


@dataclass(frozen=True)
class HeldParse:
    """A re-parse the loader held because it would lose what the stored parse has."""

    parser_version: str
    reason: str  # what it would lose, said for a person
    is_report: bool
    framework: str | None
    judgements: dict[str, str]


@dataclass(frozen=True)
class ReviewItem:
    report_id: str
    urn: str | None
    council: str | None
    published: date | None
    url: str | None
    framework: str | None
    inspection_end: date | None
    status: str  # one of STATUSES
    flags: tuple[str, ...] = ()  # why it is held
    notes: tuple[str, ...] = ()  # non-blocking notes
    unread_areas: tuple[str, ...] = ()  # required areas not read (before review)
    readings: dict[str, dict[str, str | None]] = field(default_factory=dict)  # area -> table/body
    judgements: dict[str, str] = field(default_factory=dict)  # as parsed
    reviewed: dict[str, str] = field(default_factory=dict)  # grades a reviewer set
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    held: HeldParse | None = None  # a re-parse waiting for a decision
    listed_as: str | None = None  # the listing title, for a kind the crawler does not know
    kind: str | None = None  # what the document is (etl.records.KINDS): a letter has no framework

    @property
    def areas(self) -> tuple[str, ...]:
        """The framework's areas in contract order (what `set_grades` accepts): the held
        re-parse's framework when there is one, as a decision applies it first."""
        framework = self.held.framework if self.held else self.framework
        return FRAMEWORK_AREAS.get(framework or "", ())


_SELECT = (
    "SELECT r.report_id, COALESCE(r.urn, p.urn), COALESCE(c.name, r.local_authority, p.local_authority),"
    " COALESCE(r.published, p.published), r.url, r.framework, r.inspection_end, r.needs_review,"
    " r.review_flags, r.review_notes, r.unread_areas, r.readings,"
    " res.resolved_by, res.resolved_at, res.note, h.record, h.reason,"
    " CASE WHEN p.kind = 'other' THEN p.title END, r.kind"
    " FROM reports r LEFT JOIN publications p ON p.url = r.url"
    " LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)"
    " LEFT JOIN review_resolutions res ON res.report_id = r.report_id"
    " LEFT JOIN parse_holds h ON h.report_id = r.report_id AND h.kind = 'review'"
    " WHERE r.is_report"
)
# anything a reviewer could act on (held, a held re-parse, an area not read, or a note) in a
# current version: a report superseded by a re-issued file counts for nothing, so needs no review
_LISTED = (
    " AND r.superseded_by IS NULL AND (r.needs_review OR h.report_id IS NOT NULL"
    " OR COALESCE(r.unread_areas, '[]') <> '[]' OR COALESCE(r.review_notes, '[]') <> '[]'"
    " OR p.kind = 'other')"
)


def list_reviews(wh: Warehouse, *, include_resolved: bool = False) -> list[ReviewItem]:
    """Held, not-read and noted reports (held first, then by council and publication date);
    resolved ones too with include_resolved."""
    items = _items(wh, _SELECT + _LISTED, [])
    if not include_resolved:
        items = [i for i in items if i.status != "resolved"]
    order = {s: n for n, s in enumerate(STATUSES)}
    return sorted(items, key=lambda i: (order[i.status], i.council or "", i.published or date.min, i.report_id))


def get_review(wh: Warehouse, report_id: str) -> ReviewItem | None:
    """One report's review item (any parsed report, listed or not); None if there is no such report."""
    items = _items(wh, _SELECT + " AND r.report_id = ?", [report_id])
    return items[0] if items else None


def reviewable(item: ReviewItem | None) -> bool:
    """A decision applies only to a report in the review queue or one already resolved: report
    ids are public (the files' sha256), and a report nobody was asked about is not a reviewer's
    to re-grade."""
    return item is not None and item.status != "clear"


def accept(wh: Warehouse, report_id: str, *, who: str, why: str) -> None:
    """The parse stands as it is: a held report's parsed judgements count, a note is
    acknowledged, an unread area stays "not read"; a held re-parse replaces the stored parse
    (it may say the file is not a report). Grades set earlier are withdrawn."""
    item = _require_report(wh, report_id)
    _decide(wh, item, None, _required(who, "who"), _required(why, "why"))


def set_grades(wh: Warehouse, report_id: str, grades: dict[str, str], *, who: str, why: str) -> None:
    """The reviewer's grades for some areas (kept with any set earlier); the parsed grades
    stand for the other areas. A held re-parse is applied first and the grades go on top of it
    (grades set on the old parse are withdrawn). Raises ValueError naming the bad area or grade."""
    item = _require_report(wh, report_id)
    if item.held and not item.held.is_report:
        raise ValueError(
            "the held re-parse says this file is not a report, so it has no grades to set:"
            " accept it (`ofsted review accept`) or leave the stored parse in force"
        )
    if not grades:
        raise ValueError("no grades given: name at least one AREA=GRADE")
    clean = {}
    for area, grade in grades.items():
        if area not in item.areas:
            raise ValueError(
                f"{area!r} is not an area of the {item.framework or 'unknown'} framework; "
                f"its areas are: {', '.join(item.areas) or 'none (ungraded report)'}"
            )
        key = normalise_grade(grade)
        if key not in scale_of(area):
            raise ValueError(f"{grade!r} is not a grade; grades are: {', '.join(scale_of(area))}")
        clean[area] = key
    earlier = {} if item.held else item.reviewed
    _decide(wh, item, {**earlier, **clean}, _required(who, "who"), _required(why, "why"))


def _decide(wh: Warehouse, item: ReviewItem, grades: dict[str, str] | None, who: str, why: str) -> None:
    """Record a decision; a held re-parse is applied first, in the same transaction."""
    with wh.transaction():
        if item.held:
            accept_held_parse(wh, item.report_id)
        resolve_review(wh, item.report_id, grades, resolved_by=who, note=why)


def normalise_grade(text: str) -> str:
    """'Requires improvement' / 'requires-improvement' / 'Good' -> the contract's grade key."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return "requires_improvement" if key.startswith("requires_improvement") else key


# -- helpers ---------------------------------------------------------------------------
def _required(value: str, name: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"say {name}: a review decision records who made it and why")
    return value.strip()


SHORT_ID = 12  # characters of a report id that `ofsted review list` shows


def _require_report(wh: Warehouse, report_id: str) -> ReviewItem:
    item = get_review(wh, report_id)
    if item is None:
        raise ValueError(f"no report {report_id!r} in the warehouse")
    if not reviewable(item):
        raise ValueError(
            f"report {report_id[:SHORT_ID]} is not in the review queue (nothing was held or noted"
            " for it, and it was never resolved): decisions apply only to listed reports"
        )
    return item


def _items(wh: Warehouse, sql: str, params: list) -> list[ReviewItem]:
    rows = wh.fetchall(sql, params)
    ids = [r[0] for r in rows]
    parsed, reviewed = _grades(wh, "judgements", ids), _grades(wh, "review_judgements", ids)
    return [_item(row, parsed.get(row[0], {}), reviewed.get(row[0], {})) for row in rows]


def _grades(wh: Warehouse, table: str, ids: list[str]) -> dict[str, dict[str, str]]:
    """{report_id: {area: grade}} from `table` (judgements or review_judgements) for ids."""
    out: dict[str, dict[str, str]] = {}
    sql = f"SELECT report_id, area, grade FROM {table} WHERE report_id IN ({{marks}})"
    for rid, area, grade in by_chunks(wh, sql, ids):
        out.setdefault(rid, {})[area] = grade
    return out


def _item(row: tuple, judgements: dict[str, str], reviewed: dict[str, str]) -> ReviewItem:
    (
        rid,
        urn,
        council,
        published,
        url,
        framework,
        end,
        needs_review,
        flags,
        notes,
        unread,
        readings,
        resolved_by,
        resolved_at,
        note,
        held_record,
        held_reason,
        listed_as,
        kind,
    ) = row
    flags, notes, unread = (tuple(json.loads(v or "[]")) for v in (flags, notes, unread))
    held = _held(held_record, held_reason) if held_record else None
    if held:  # newer than any earlier decision
        status = "reparse"
    elif resolved_at is not None:
        status = "resolved"
    elif needs_review:
        status = "held"
    elif unread:
        status = "not_read"
    else:
        status = "noted" if notes else "other_kind" if listed_as else "clear"
    return ReviewItem(
        rid,
        urn,
        council,
        published,
        url,
        framework,
        end,
        status,
        flags,
        notes,
        unread,
        json.loads(readings or "{}"),
        judgements,
        reviewed,
        resolved_by,
        resolved_at,
        note,
        held,
        listed_as,
        kind,
    )


def _held(record: str, reason: str) -> HeldParse:
    r = json.loads(record)  # etl.records.to_dict of the held ReportRecord
    return HeldParse(
        r.get("parser_version") or "?",
        reason,
        bool(r.get("is_report")),
        r.get("framework"),
        dict(r.get("judgements") or {}),
    )


def find_report_id(wh: Warehouse, prefix: str) -> str:
    """The report id a unique prefix (as `ofsted review list` prints it) names."""
    prefix = prefix.strip().lower()
    if len(prefix) < 6 or not re.fullmatch(r"[0-9a-f]+", prefix):
        raise ValueError(f"{prefix!r} is not a report id: give at least its first 6 characters, as listed")
    found = [
        rid
        for (rid,) in wh.fetchall(
            "SELECT report_id FROM reports WHERE report_id LIKE ? ORDER BY report_id LIMIT 2", [prefix + "%"]
        )
    ]
    if len(found) != 1:
        raise ValueError(
            f"no report {prefix!r} in the warehouse"
            if not found
            else f"report id {prefix!r} is ambiguous: give more characters"
        )
    return found[0]
