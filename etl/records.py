"""Typed records passed between stages. Each stage takes and returns these, never another
stage's storage. Dates are `datetime.date`; grades and area keys are the contract's strings
(see ../shared/ofsted-reports.md)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

GRADES = ("outstanding", "good", "requires_improvement", "adequate", "inadequate")
# area SEND inspections since 2023 end in one of three outcomes, best to worst: a scale of its own,
# never compared with the grades above
AREA_SEND_OUTCOMES = ("positive", "inconsistent", "systemic_failings")
KINDS = ("inspection", "focused_visit", "monitoring_visit", "jtai", "area_send", "other")
LETTER_KINDS = ("focused_visit", "monitoring_visit", "jtai")  # ungraded letters with a `visit`
INSPECTION_TYPES = ("short", "standard")  # ILACS only: one week on site, or two
FRAMEWORKS = ("lac", "sif", "ilacs_2018", "ilacs_2023", "ilacs_2026", "area_send_2016", "area_send_2023")
# the ILACS areas a letter can say it looked at (`Visit.areas`), in their display order
VISIT_AREAS = ("help_and_protection", "in_care", "care_leavers", "impact_of_leaders")

# what a joint targeted area inspection looked at (`Visit.theme`), as a person says it
JTAI_THEMES = {
    "cse_and_missing": "child sexual exploitation and children missing",
    "domestic_abuse": "domestic abuse",
    "neglect": "neglect",
    "exploitation": "child exploitation",
    "sexual_abuse_in_family": "child sexual abuse in the family",
    "mental_health": "children's mental health",
    "initial_need_and_risk": "initial need and risk",
    "serious_youth_violence": "serious youth violence",
}

FRAMEWORK_AREAS: dict[str, tuple[str, ...]] = {
    "lac": (
        "lac_overall_effectiveness",
        "lac_capacity_to_improve",
        "lac_outcomes",
        "lac_quality_of_provision",
        "lac_leadership_management",
    ),
    "sif": (
        "overall_effectiveness",
        "help_and_protection",
        "looked_after_and_permanence",
        "adoption_performance",
        "care_leavers",
        "leadership_management_governance",
        "lscb",
    ),
    "ilacs_2018": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"),
    "ilacs_2023": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"),
    "ilacs_2026": ("impact_of_leaders", "help_and_protection", "in_care", "care_leavers"),
    "area_send_2016": (),  # letters and revisits before 2023: no outcome
    "area_send_2023": ("area_send_outcome",),
}
# areas every inspection under the framework judges: one not read is shown as "not read" (the
# others may be absent where a report does not judge them, e.g. a council with no adoption service)
REQUIRED_AREAS: dict[str, tuple[str, ...]] = {
    "sif": ("overall_effectiveness",),
    "ilacs_2018": ("overall_effectiveness",),
    "ilacs_2023": ("overall_effectiveness",),
}


@dataclass(frozen=True)
class Council:
    urn: str
    name: str
    url: str  # absolute provider page URL
    latest: str | None = None  # its search result's "Latest report" text (None: the result has no such line)


@dataclass(frozen=True)
class Publication:
    """One publication listed on a council's provider page (graded or not)."""

    urn: str
    local_authority: str
    kind: str  # one of KINDS
    title: str  # the listing text, e.g. "Children's services inspection, pdf - 01 July 2019"
    published: date | None
    url: str  # absolute file URL
    link_refused: str | None = None  # why the URL may not be a link or fetched (etl.links); None: it may


@dataclass(frozen=True)
class StoredFile:
    """A verified PDF in the landing store, addressed by content hash."""

    sha256: str
    uri: str  # where the bytes are (local path or fsspec URL)
    size: int
    publication: Publication
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    supersedes: str | None = None  # sha256 of the version this one replaced (a re-issued report)


@dataclass(frozen=True)
class Quarantined:
    """A download that was not a complete PDF: kept for inspection, retried on a later run."""

    publication: Publication
    reason: str
    uri: str | None  # where the rejected bytes are kept, if any were received
    fetched_at: datetime
    attempts: int = 1


@dataclass(frozen=True)
class ListingMeta:
    """What the listing says about a file, passed to the parser alongside its bytes."""

    urn: str | None = None
    local_authority: str | None = None
    published: date | None = None
    url: str | None = None
    kind: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Visit:
    """What a letter (focused or monitoring visit, JTAI) says it looked at and found."""

    areas: tuple[str, ...] = ()  # sorted keys from VISIT_AREAS
    priority_actions: int = 0  # areas for priority action the letter sets out
    # the first sentence of each area for priority action (for alerts); may be fewer than
    # `priority_actions` where the items could not be read (a review note says so)
    priority_action_texts: tuple[str, ...] = ()
    focus: str | None = None  # the letter's focus sentence, as printed
    theme: str | None = None  # a JTAI's theme, a key of JTAI_THEMES (None for other letters)


@dataclass(frozen=True)
class ReportRecord:
    """The parser's output: the extraction contract plus provenance and review flags."""

    source: str
    is_report: bool
    reason: str | None = None  # why is_report is false
    # the parse did not finish (crash, time or memory limit, parser bug): not a verdict on the
    # file, so it never replaces a stored report and is retried on later runs
    failed: bool = False
    kind: str | None = None  # one of KINDS
    framework: str | None = None  # one of FRAMEWORKS, None for ungraded letters
    local_authority: str | None = None
    inspection_start: date | None = None
    inspection_end: date | None = None
    published: date | None = None
    lead_inspector: str | None = None
    judgements: dict[str, str] = field(default_factory=dict)
    review_flags: tuple[str, ...] = ()  # real conflicts; non-empty = held out of the history
    parser_version: str = ""
    urn: str | None = None  # from the listing, when known
    url: str | None = None
    sha256: str | None = None
    # non-blocking notes (an area read from one source only): the report counts as parsed
    review_notes: tuple[str, ...] = ()
    # areas the framework requires that could not be read: shown as "not read" until reviewed
    unread_areas: tuple[str, ...] = ()
    # what each source said, per area: {"help_and_protection": {"table": "good", "body": None}}
    readings: dict[str, dict[str, str | None]] = field(default_factory=dict)
    visit: Visit | None = None  # letters only (kind in LETTER_KINDS)
    # what the document says must improve, its points in order (etl.parse.improvements)
    improvements: tuple[str, ...] = ()
    # an ILACS inspection's length on site: short (one week) or standard (two); None otherwise
    inspection_type: str | None = None

    def label(self) -> str:
        return report_label(self.local_authority, self.urn, self.published, self.url)

    def to_contract(self) -> dict:
        """The JSON object of `ofsted parse` (dates as ISO strings)."""
        out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}
        for name in ("review_flags", "review_notes", "unread_areas", "improvements"):
            out[name] = list(getattr(self, name))
        if self.reason is None:
            out.pop("reason")
        if not self.failed:
            out.pop("failed")
        if self.visit is None:
            out.pop("visit")
        else:
            out["visit"] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.visit).items()}
            if self.kind != "jtai":
                out["visit"].pop("theme")  # the contract: only a JTAI has a theme
        return out


def report_label(council: str | None, urn: str | None, published: date | None, url: str | None) -> str:
    """A report as a person knows it (council, publication date, URL), for run summaries and
    reviews; never a landing-store path."""
    return (
        f"{council or 'unknown council'} ({urn or 'no URN'}), published {published or 'date unknown'}, "
        f"{url or 'no URL'}"
    )


@dataclass(frozen=True)
class ChangeEvent:
    """A council's grade in an area changed between consecutive graded inspections."""

    change_id: str  # stable: derived from (urn, area, report_id)
    urn: str
    local_authority: str
    area: str
    previous_grade: str
    grade: str
    direction: str  # 'improved' or 'declined'
    inspection_end: date | None
    previous_published: date | None
    published: date | None
    report_url: str | None


def urn(value: str) -> str:
    """A council URN as given by a person (command line, DAG params): digits only, since it
    goes into URL paths (`/provider/44/<URN>`)."""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"a council URN is digits only (e.g. 80487), not {text!r}")
    return text


def iso_date(value: str) -> date:
    """A date as given by a person: YYYY-MM-DD, with a clear error otherwise."""
    text = str(value)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"a date is YYYY-MM-DD (e.g. 2024-04-01), not {text!r}")


def to_dict(record) -> dict:
    """A JSON-safe dict of any record above (dates as ISO strings), e.g. for XCom."""

    def enc(v):
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: enc(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [enc(x) for x in v]
        return v

    return {k: enc(v) for k, v in asdict(record).items()}


def from_dict(cls, data: dict):
    """Inverse of to_dict for the record class `cls` (nested Publication included)."""
    kwargs = {}
    for f in cls.__dataclass_fields__.values():
        if f.name not in data:
            continue
        v, t = data[f.name], str(f.type)
        if v is not None and f.name == "publication":
            v = from_dict(Publication, v)
        elif v is not None and f.name == "visit":
            v = from_dict(Visit, v)
        elif isinstance(v, str) and t.startswith("datetime"):
            v = datetime.fromisoformat(v)
        elif isinstance(v, str) and t.startswith("date"):
            v = date.fromisoformat(v)
        elif isinstance(v, list) and t.startswith("tuple"):
            v = tuple(v)
        kwargs[f.name] = v
    return cls(**kwargs)
