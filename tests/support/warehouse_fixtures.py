"""Warehouse fixtures, usable by any stage's tests: every test that takes `warehouse_url` (or
`wh`) runs twice, on an embedded DuckDB file and on a fresh PostgreSQL database on
127.0.0.1:5432 (trust auth, user postgres) that is dropped afterwards. No mocks of either.

From a script: `with fresh_postgres_url() as url: ...`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN_URL = os.environ.get("OFSTED_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = ("duckdb", "postgresql")


@contextmanager
def fresh_postgres_url(admin_url: str = PG_ADMIN_URL, *, template: str | None = None) -> Iterator[str]:
    """Create database ofsted_test_<random> (a copy of `template` when given), yield its URL,
    drop it (WITH (FORCE)) afterwards."""
    import psycopg
    from psycopg import sql

    name = f"ofsted_test_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(create)
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def empty_warehouse_url(engine: str, directory) -> Iterator[str]:
    """An empty (unmigrated) warehouse of the given engine."""
    if engine == "duckdb":
        yield f"duckdb:///{directory}/warehouse-{uuid.uuid4().hex[:8]}.duckdb"
    else:
        with fresh_postgres_url() as url:
            yield url


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture
def empty_warehouse(engine, tmp_path) -> Iterator[str]:
    """URL of an empty warehouse with no schema yet (for migration tests)."""
    with empty_warehouse_url(engine, tmp_path) as url:
        yield url


class MigratedTemplates:
    """One migrated, empty warehouse per engine for the session (made when first asked for),
    copied for each test: a DuckDB file copy, a PostgreSQL CREATE DATABASE ... TEMPLATE. Running
    every migration for each of the suite's few hundred warehouses took minutes."""

    def __init__(self, directory):
        self.directory = directory
        self._duckdb: str | None = None
        self._postgres = None  # (context manager, database name)

    def duckdb_copy(self, directory) -> str:
        import shutil

        from etl.warehouse import connect, migrate

        if self._duckdb is None:
            path = self.directory / "template.duckdb"
            with connect(f"duckdb:///{path}") as wh:
                migrate(wh)
            self._duckdb = str(path)
        copy = f"{directory}/warehouse-{uuid.uuid4().hex[:8]}.duckdb"
        shutil.copyfile(self._duckdb, copy)
        return f"duckdb:///{copy}"

    def postgres_template(self) -> str:
        from etl.warehouse import connect, migrate

        if self._postgres is None:
            manager = fresh_postgres_url()
            url = manager.__enter__()
            with connect(url) as wh:  # closed before it is copied: a template has no sessions
                migrate(wh)
            self._postgres = (manager, url.rsplit("/", 1)[-1])
        return self._postgres[1]

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres[0].__exit__(None, None, None)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("warehouse_templates"))
    yield templates
    templates.close()


@pytest.fixture
def warehouse_url(engine, tmp_path, migrated_templates) -> Iterator[str]:
    """URL of a migrated, empty warehouse of its own; parametrized over both engines."""
    if engine == "duckdb":
        yield migrated_templates.duckdb_copy(tmp_path)
    else:
        with fresh_postgres_url(template=migrated_templates.postgres_template()) as url:
            yield url


@pytest.fixture
def wh(warehouse_url):
    """An open connection to a migrated, empty warehouse (both engines)."""
    from etl.warehouse import connect

    with connect(warehouse_url) as conn:
        yield conn


# -- record builders for warehouse tests ------------------------------------------------
def make_publication(urn: str, n: int, published, *, kind: str = "inspection", la: str | None = None):
    from etl.records import Publication

    return Publication(
        urn=urn,
        local_authority=la or f"Council {urn}",
        kind=kind,
        title=f"Children's services inspection, pdf - {published}",
        published=published,
        url=f"https://files.ofsted.gov.uk/v1/file/{urn}{n:04d}",
    )


def make_report(
    urn: str,
    n: int,
    framework: str | None,
    end,
    judgements: dict | None = None,
    *,
    published=None,
    parser_version: str = "1.0",
    flags: tuple = (),
    kind: str = "inspection",
    la: str | None = None,
    notes: tuple = (),
    unread: tuple = (),
    readings: dict | None = None,
):
    """A graded (or, with framework None, ungraded) report record whose file is `<urn><n>`."""
    import hashlib
    from datetime import timedelta

    from etl.records import ReportRecord

    pub = make_publication(urn, n, published or end + timedelta(days=40), kind=kind, la=la)
    return ReportRecord(
        source=f"{urn}/{n}.pdf",
        is_report=True,
        kind=kind,
        framework=framework,
        local_authority=pub.local_authority,
        inspection_start=end - timedelta(days=11),
        inspection_end=end,
        published=pub.published,
        lead_inspector="A Inspector",
        judgements=dict(judgements or {}),
        review_flags=tuple(flags),
        parser_version=parser_version,
        urn=urn,
        url=pub.url,
        sha256=hashlib.sha256(pub.url.encode()).hexdigest(),
        review_notes=tuple(notes),
        unread_areas=tuple(unread),
        readings=dict(readings or {}),
    )


def load_records(wh, records, run: str = "r") -> None:
    """Load report records (made by make_report) with their councils, publications and files as
    one run, then refresh the history."""
    from etl import changes, load
    from etl.records import Council

    pubs = [
        make_publication(r.urn, int(r.source.split("/")[1].split(".")[0]), r.published, kind=r.kind) for r in records
    ]
    load.load_councils(
        wh,
        [
            Council(u, f"Council {u}", f"https://reports.ofsted.gov.uk/provider/44/{u}")
            for u in sorted({r.urn for r in records})
        ],
        run,
    )
    load.load_publications(wh, pubs, run)
    load.load_downloads(wh, [stored_file_for(p) for p in pubs], [])
    load.load_reports(wh, records, run)
    changes.refresh(wh, run)


def rows_of(wh, sql: str, params=()) -> list[dict]:
    names, data = wh.query(sql, params)
    return [dict(zip(names, r)) for r in data]


def held_reparse(wh, **change):
    """Council 1's 2024 report parsed by 1.0, then re-parsed by 2.0 with `change` (which
    loses in_care, so the loader holds it). Returns the stored record."""
    from dataclasses import replace
    from datetime import date

    from etl import changes, load

    first = make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"})
    second = make_report(
        "1", 2, "ilacs_2023", date(2024, 1, 1), {"help_and_protection": "inadequate", "in_care": "good"}
    )
    load.load_reports(wh, [first, second], "r1")
    changes.refresh(wh, "r1")
    change = {"judgements": {"help_and_protection": "requires_improvement"}, **change}
    assert load.load_reports(wh, [replace(second, parser_version="2.0", **change)], "r2").held
    return second


SAMPLE_COUNCILS = {  # names with the awkward characters real council names have
    "80487": "Barnet",
    "80442": "Bath & North East Somerset, Council of",
    "80999": "King's Lynn % Test?",
}


def sample_records():
    """A small England: three councils' inspections across every framework, plus an ungraded
    letter. Returns (councils, publications, reports)."""
    from dataclasses import replace
    from datetime import date as d

    from etl.records import Council, Visit

    councils = [
        Council(urn, name, f"https://reports.ofsted.gov.uk/provider/44/{urn}") for urn, name in SAMPLE_COUNCILS.items()
    ]
    la = SAMPLE_COUNCILS
    reports = [
        # Barnet: LAC 2012 adequate, SIF 2013 inadequate, ILACS 2018 good, ILACS 2023 outstanding
        make_report(
            "80487",
            1,
            "lac",
            d(2012, 6, 1),
            {
                "lac_overall_effectiveness": "adequate",
                "lac_outcomes": "good",
                "lac_capacity_to_improve": "adequate",
                "lac_quality_of_provision": "adequate",
                "lac_leadership_management": "adequate",
            },
            la=la["80487"],
        ),
        make_report(
            "80487",
            2,
            "sif",
            d(2013, 12, 6),
            {
                "overall_effectiveness": "inadequate",
                "help_and_protection": "inadequate",
                "looked_after_and_permanence": "requires_improvement",
                "adoption_performance": "requires_improvement",
                "care_leavers": "inadequate",
                "leadership_management_governance": "inadequate",
                "lscb": "requires_improvement",
            },
            la=la["80487"],
        ),
        make_report(
            "80487",
            3,
            "ilacs_2018",
            d(2019, 5, 24),
            {
                "overall_effectiveness": "good",
                "impact_of_leaders": "good",
                "help_and_protection": "good",
                "in_care_and_care_leavers": "good",
            },
            la=la["80487"],
        ),
        make_report(
            "80487",
            4,
            "ilacs_2023",
            d(2024, 3, 8),
            {
                "overall_effectiveness": "outstanding",
                "impact_of_leaders": "outstanding",
                "help_and_protection": "good",
                "in_care": "outstanding",
                "care_leavers": "good",
            },
            la=la["80487"],
        ),
        replace(
            make_report("80487", 5, None, d(2021, 2, 1), kind="focused_visit", la=la["80487"]),
            visit=Visit(areas=("in_care",), priority_actions=0),
        ),
        # Bath: SIF good, then ILACS 2018 requires improvement (a decline in every area)
        make_report(
            "80442",
            1,
            "sif",
            d(2016, 3, 4),
            {
                "overall_effectiveness": "good",
                "help_and_protection": "good",
                "looked_after_and_permanence": "good",
                "adoption_performance": "good",
                "care_leavers": "good",
                "leadership_management_governance": "good",
            },
            la=la["80442"],
        ),
        make_report(
            "80442",
            2,
            "ilacs_2018",
            d(2022, 11, 18),
            {
                "overall_effectiveness": "requires_improvement",
                "impact_of_leaders": "good",
                "help_and_protection": "requires_improvement",
                "in_care_and_care_leavers": "requires_improvement",
            },
            la=la["80442"],
        ),
        # King's Lynn: one ILACS 2023 inspection, inadequate
        make_report(
            "80999",
            1,
            "ilacs_2023",
            d(2023, 9, 15),
            {
                "overall_effectiveness": "inadequate",
                "impact_of_leaders": "inadequate",
                "help_and_protection": "inadequate",
                "in_care": "requires_improvement",
                "care_leavers": "inadequate",
            },
            la=la["80999"],
        ),
    ]
    publications = [
        make_publication(r.urn, int(r.source.split("/")[1][:-4]), r.published, kind=r.kind, la=r.local_authority)
        for r in reports
    ]
    return councils, publications, reports


def stored_file_for(publication, fetched_at=None):
    import hashlib
    from datetime import datetime

    from etl.records import StoredFile

    sha = hashlib.sha256(publication.url.encode()).hexdigest()
    return StoredFile(
        sha256=sha,
        uri=f"/landing/{sha[:2]}/{sha}.pdf",
        size=1234,
        publication=publication,
        fetched_at=fetched_at or datetime(2025, 1, 1, 12, 0),
    )


def load_sample(wh, run_id: str = "run-1", *, refresh: bool = True, councils: bool = True, letters_read: bool = True):
    """Load sample_records() into `wh` as one successful run (without the councils, or without
    what the letters say, for a schema older than theirs); returns the refresh result."""
    from dataclasses import replace

    from etl import changes, load

    council_rows, publications, reports = sample_records()
    if not letters_read:
        reports = [replace(r, visit=None) for r in reports]
    load.start_run(wh, run_id)
    if councils:
        load.load_councils(wh, council_rows, run_id)
    load.load_publications(wh, publications, run_id)
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    load.load_reports(wh, reports, run_id)
    result = changes.refresh(wh, run_id) if refresh else None
    load.finish_run(wh, run_id)
    return result


def load_sample_before_008(wh, run_id: str = "run-1") -> None:
    """load_sample(refresh=False) on a schema older than version 8 (councils without
    first_listed_run), for upgrade tests."""
    from datetime import datetime

    now = datetime(2025, 1, 1)
    # today's loader writes publications.link_refused (012 adds it IF NOT EXISTS, so this is kept)
    wh.execute("ALTER TABLE publications ADD COLUMN IF NOT EXISTS link_refused TEXT")
    # and reports.inspection_type (017 adds it IF NOT EXISTS too)
    wh.execute("ALTER TABLE reports ADD COLUMN IF NOT EXISTS inspection_type TEXT")
    wh.insert_rows(
        "councils",
        ("urn", "name", "url", "first_seen", "last_seen"),
        [(c.urn, c.name, c.url, now, now) for c in sample_records()[0]],
    )
    load_sample(wh, run_id, refresh=False, councils=False, letters_read=False)


def snapshot(wh, *tables: str, ignore=()) -> dict:
    """Every row of each table or view, sorted, for before/after comparisons (without the
    columns that legitimately move on a reload, and those in `ignore`)."""
    out = {}
    for t in tables or ANALYST_TABLES:
        names, rows = wh.query(f"SELECT * FROM {t}")
        drop = {i for i, n in enumerate(names) if n in VOLATILE_COLUMNS or n in ignore}
        out[t] = sorted((tuple(v for i, v in enumerate(r) if i not in drop) for r in rows), key=repr)
    return out


ANALYST_TABLES = (
    "councils",
    "publications",
    "stored_files",
    "quarantined_downloads",
    "reports",
    "judgements",
    "rating_history",
    "current_ratings",
    "rating_changes",
)
# when a council or publication was last listed legitimately moves on a reload
VOLATILE_COLUMNS = {"last_seen"}
# differ between two warehouses loaded at different times
LOAD_TIME_COLUMNS = ("first_seen", "parsed_at", "detected_at", "fetched_at", "first_seen_run", "detected_run")


# -- a sample for the reference-aware views (real URNs, matched to the shipped reference) ----
CUMBRIA, CUMBERLAND, WESTMORLAND = "135513", "2733690", "2733698"
WALTHAM_FOREST = "80517"  # Barnet's most similar statistical neighbour


def load_reference_sample(wh, run_id: str = "run-ref"):
    """load_sample() plus a reorganisation and the newest framework, on the shipped reference:
    Cumbria (ILACS 2018, abolished 2023) -> Cumberland (ILACS 2026, no overall judgement) and
    Westmorland and Furness (listed, never inspected, one focused visit); Waltham Forest, Barnet's
    first statistical neighbour, ILACS 2023 then ILACS 2026. Returns the refresh result."""
    from datetime import date as d

    from etl import changes, load, reference
    from etl.records import Council

    reference.sync(wh)
    load_sample(wh)
    names = {
        CUMBRIA: "Cumbria",
        CUMBERLAND: "Cumberland",
        WESTMORLAND: "Westmorland and Furness",
        WALTHAM_FOREST: "Waltham Forest",
    }
    councils = [Council(urn, name, f"https://reports.ofsted.gov.uk/provider/44/{urn}") for urn, name in names.items()]
    reports = [
        make_report(
            CUMBRIA,
            1,
            "ilacs_2018",
            d(2022, 6, 10),
            {
                "overall_effectiveness": "requires_improvement",
                "impact_of_leaders": "good",
                "help_and_protection": "requires_improvement",
                "in_care_and_care_leavers": "good",
            },
            la="Cumbria",
        ),
        make_report(
            CUMBERLAND,
            1,
            "ilacs_2026",
            d(2026, 6, 5),
            {
                "impact_of_leaders": "good",
                "help_and_protection": "good",
                "in_care": "requires_improvement",
                "care_leavers": "good",
            },
            la="Cumberland",
        ),
        make_report(WESTMORLAND, 1, None, d(2025, 2, 7), kind="focused_visit", la="Westmorland and Furness"),
        make_report(
            WALTHAM_FOREST,
            1,
            "ilacs_2023",
            d(2024, 11, 22),
            {
                "overall_effectiveness": "good",
                "impact_of_leaders": "good",
                "help_and_protection": "good",
                "in_care": "good",
                "care_leavers": "requires_improvement",
            },
            la="Waltham Forest",
        ),
        make_report(
            WALTHAM_FOREST,
            2,
            "ilacs_2026",
            d(2026, 9, 18),
            {
                "impact_of_leaders": "good",
                "help_and_protection": "outstanding",
                "in_care": "good",
                "care_leavers": "good",
            },
            la="Waltham Forest",
        ),
    ]
    publications = [
        make_publication(r.urn, int(r.source.split("/")[1][:-4]), r.published, kind=r.kind, la=r.local_authority)
        for r in reports
    ]
    load.start_run(wh, run_id)
    load.load_councils(wh, councils)
    load.load_publications(wh, publications, run_id)
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    load.load_reports(wh, reports, run_id)
    result = changes.refresh(wh, run_id)
    load.finish_run(wh, run_id)
    return result
