"""The warehouse adapter, migrations (including an upgrade from the first version) and the
documented example queries, on both engines."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from etl import changes, load
from etl.config import Settings
from etl.records import Quarantined
from etl.warehouse import (
    MissingTable,
    StatementFailed,
    WarehouseError,
    WarehouseUnavailable,
    _to_pyformat,
    connect,
    migrate,
    migrations,
    schema_version,
    split_statements,
)
from tests.support.warehouse_fixtures import (
    SAMPLE_COUNCILS,
    fresh_postgres_url,
    load_sample,
    make_publication,
    make_report,
    snapshot,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "warehouse.md"
LATEST = migrations()[-1][0]


# -- adapter ---------------------------------------------------------------------------
def test_engine_is_named_by_the_url(wh, engine):
    assert wh.engine == engine


def test_unsupported_url_is_a_clear_error():
    with pytest.raises(WarehouseError, match="unsupported warehouse URL 'sqlite:///x.db'"):
        connect("sqlite:///x.db")


def test_engine_errors_come_out_as_the_adapters_own(wh, engine):
    """Whichever engine answers, a missing table is MissingTable and any other refused statement
    StatementFailed, with the engine's message and its error as the cause."""
    with pytest.raises(MissingTable, match="no_such_table") as missing:
        wh.fetchall("SELECT * FROM no_such_table")
    assert type(missing.value.__cause__).__module__.split(".")[0].lstrip("_") in ("duckdb", "psycopg")
    with pytest.raises(StatementFailed) as refused:  # "already exists" is no missing table
        wh.execute("CREATE TABLE pipeline_runs (x INTEGER)")
    assert "pipeline_runs" in str(refused.value) and refused.value.__cause__ is not None
    with pytest.raises(MissingTable, match="run `ofsted migrate`"):
        wh.insert_rows("no_such_table", ("x",), [(1,)])


def test_a_duckdb_file_another_process_holds_is_unavailable(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseUnavailable, match="cannot open the warehouse"):
            connect(f"duckdb:///{path}", lock_wait=0.2)
    finally:
        holder.kill()
        holder.wait()


def test_placeholders_are_bound_and_quoted_text_is_left_alone(wh):
    assert wh.fetchall("SELECT '?' AS q, 'a%b' AS pct, ? AS p", ["it's, & 50%?"]) == [("?", "a%b", "it's, & 50%?")]
    assert _to_pyformat("SELECT '?', \"a?b\", ? WHERE x LIKE 'a%'") == "SELECT '?', \"a?b\", %s WHERE x LIKE 'a%%'"


def test_awkward_council_names_round_trip(wh):
    load_sample(wh)
    names = dict(wh.fetchall("SELECT urn, name FROM councils"))
    assert names == SAMPLE_COUNCILS
    got = wh.fetchall(
        "SELECT DISTINCT local_authority FROM current_ratings WHERE local_authority = ?", [SAMPLE_COUNCILS["80442"]]
    )
    assert got == [("Bath & North East Somerset, Council of",)]


def test_a_failed_transaction_is_rolled_back(wh):
    with pytest.raises(RuntimeError):
        with wh.transaction():
            wh.execute(
                "INSERT INTO pipeline_runs (run_id, started_at, status) VALUES (?, ?, ?)",
                ["r", datetime.now(), "running"],
            )
            with wh.transaction():  # nested blocks join the outer one
                wh.execute("UPDATE pipeline_runs SET status = ? WHERE run_id = ?", ["success", "r"])
            raise RuntimeError("on purpose")
    assert wh.fetchall("SELECT * FROM pipeline_runs") == []
    with wh.transaction():
        wh.execute(
            "INSERT INTO pipeline_runs (run_id, started_at, status) VALUES (?, ?, ?)", ["r", datetime.now(), "running"]
        )
    assert wh.fetchall("SELECT run_id FROM pipeline_runs") == [("r",)]


def test_settings_name_the_warehouse_and_airflow_connection_wins(tmp_path):
    default = Settings.from_env({"OFSTED_DATA_DIR": str(tmp_path)})
    assert default.warehouse_url == f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    chosen = Settings.from_env(
        {"OFSTED_WAREHOUSE_URL": "postgresql://u@h:5432/a", "AIRFLOW_CONN_OFSTED_WAREHOUSE": "postgres://v@h:5432/b"}
    )
    assert chosen.warehouse_url == "postgresql://v@h:5432/b"


def test_a_duckdb_file_busy_in_another_connection_is_waited_for(tmp_path):
    import subprocess
    import sys
    import time

    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True);"
            " time.sleep(1.5); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with connect(f"duckdb:///{path}", lock_wait=30) as wh:
            assert wh.fetchall("SELECT 1") == [(1,)]
        assert time.monotonic() - started > 0.3
    finally:
        holder.wait(timeout=30)


# -- migrations ------------------------------------------------------------------------
def test_migrate_creates_the_schema_and_is_repeatable(empty_warehouse):
    with connect(empty_warehouse) as wh:
        assert schema_version(wh) == 0
        assert migrate(wh) == LATEST
        assert migrate(wh) == LATEST
        assert [v for v, _ in wh.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")] == [
            v for v, _, _ in migrations()
        ]


def test_a_migration_applied_under_its_old_number_is_not_applied_again(empty_warehouse):
    """The summary views were 017 before the files were numbered in the order they apply (009):
    a warehouse that recorded 17 keeps its record, under 9, and nothing runs twice."""
    with connect(empty_warehouse) as wh:
        migrate(wh, target=16)  # such a warehouse predates today's 017 and later: applied after the move
        wh.execute("UPDATE schema_migrations SET version = 17 WHERE version = 9")
        recorded = wh.fetchone("SELECT name, applied_at FROM schema_migrations WHERE version = 17")
        assert migrate(wh) == LATEST  # 009 run again would fail: its grade_scale table exists
        assert wh.fetchone("SELECT name, applied_at FROM schema_migrations WHERE version = 9") == recorded
        assert wh.fetchall("SELECT name FROM schema_migrations WHERE version = 17") == [("inspection_type",)]


V1_HISTORY_COLS = (
    "urn",
    "area",
    "grade",
    "valid_from",
    "valid_to",
    "is_current",
    "report_id",
    "source_area",
    "latest_report_id",
    "end_reason",
)


def load_sample_as_first_version(wh, tmp_path) -> list:
    """The sample as a version-1 warehouse held it: loaded by today's code elsewhere, then the
    columns version 1 has copied across (later versions add columns to the load tables).
    Returns the sample's rating history rows."""
    with connect(f"duckdb:///{tmp_path / 'latest.duckdb'}") as latest:
        migrate(latest)
        load_sample(latest, refresh=False)
        for table in ("pipeline_runs", "councils", "publications", "stored_files", "reports", "judgements"):
            columns = list(wh._column_types(table))
            wh.insert_rows(table, columns, latest.fetchall(f"SELECT {', '.join(columns)} FROM {table}"))
        return changes.build_history(changes.graded_reports(latest))[0]


def test_upgrade_from_the_first_version_keeps_the_data(empty_warehouse, tmp_path):
    with connect(empty_warehouse) as wh:
        assert migrate(wh, target=1) == 1
        rows = load_sample_as_first_version(wh, tmp_path)
        # the history as version 1 of `changes` wrote it
        wh.insert_rows("rating_history", V1_HISTORY_COLS, [changes._history_row(h)[:10] for h in rows])
        before = snapshot(wh, "reports", "judgements", "publications", "councils", ignore=("first_listed_run",))
        with pytest.raises(MissingTable, match="current_ratings"):  # the view comes with 002
            wh.fetchall("SELECT * FROM current_ratings")
    with connect(empty_warehouse) as wh:
        assert migrate(wh) == LATEST
        # the columns added since are left out (their defaults are checked elsewhere)
        assert (
            snapshot(
                wh,
                "reports",
                "judgements",
                "publications",
                "councils",
                ignore=(
                    "review_notes",
                    "unread_areas",
                    "readings",
                    "superseded_by",
                    "first_listed_run",
                    "link_refused",
                    "inspection_type",
                ),
            )
            == before
        )
        # 008 backfills each council's first listing from its publications: the run that loaded them
        assert set(wh.fetchall("SELECT first_listed_run FROM councils")) == {("run-1",)}
        # the new columns were backfilled: current ratings answer before any refresh
        upgraded = snapshot(wh, "current_ratings", ignore=("la_code", "ons_code", "region"))  # 009 adds codes
        assert (
            "80487",
            "Barnet",
            "overall_effectiveness",
            "outstanding",
            "ilacs_2023",
            date(2024, 3, 8),
            date(2024, 4, 17),
            "https://files.ofsted.gov.uk/v1/file/804870004",
        ) in upgraded["current_ratings"]
        changes.refresh(wh, "run-2")
        assert snapshot(wh, "current_ratings", ignore=("la_code", "ons_code", "region")) == upgraded


def test_two_processes_can_migrate_at_once(empty_warehouse, engine):
    if engine == "duckdb":
        pytest.skip("a DuckDB file has one writer process at a time; the advisory lock is PostgreSQL's")
    results, errors = [], []

    def worker():
        try:
            with connect(empty_warehouse) as wh:
                results.append(migrate(wh))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [LATEST] * 3
    with connect(empty_warehouse) as wh:
        assert wh.fetchall("SELECT COUNT(*) FROM schema_migrations") == [(len(migrations()),)]


def test_migration_files_split_into_statements():
    assert split_statements(
        "CREATE TABLE a (x TEXT); -- a comment; with a semicolon\n\nCREATE VIEW b AS\nSELECT x FROM a;\n"
    ) == ["CREATE TABLE a (x TEXT)", "CREATE VIEW b AS\nSELECT x FROM a"]


def test_migrate_command_reports_the_version(tmp_path, capsys):
    from etl.cli.migrate import command as migrate_command

    settings = Settings.from_env({"OFSTED_DATA_DIR": str(tmp_path)})
    assert migrate_command(None, settings) == 0
    assert migrate_command(None, settings) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"warehouse duckdb: schema version 0 -> {LATEST}",
        f"warehouse duckdb: schema version {LATEST} -> {LATEST}",
    ]


# -- the documented example queries ------------------------------------------------------
def example_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def populate_everything(wh) -> None:
    """The sample, plus a flagged report, a quarantined download and a retracted event, so that
    every documented query has something to find."""
    load_sample(wh, "run-1")
    load.start_run(wh, "run-2")
    flagged = make_report(
        "80999",
        2,
        "ilacs_2023",
        date(2025, 2, 1),
        {"help_and_protection": "good"},
        flags=("judgement table and body disagree",),
    )
    bath = make_report(
        "80442",
        2,
        "ilacs_2018",
        date(2022, 11, 18),
        {
            "overall_effectiveness": "good",
            "impact_of_leaders": "good",
            "help_and_protection": "requires_improvement",
            "in_care_and_care_leavers": "requires_improvement",
        },
        parser_version="2.0",
    )
    bath = replace(bath, improvements=("The quality of private fostering assessments.", "Return home interviews."))
    load.load_reports(wh, [flagged, bath], "run-2")
    load.load_downloads(
        wh, [], [Quarantined(make_publication("80487", 8, date(2025, 3, 1)), "HTML page", None, datetime(2025, 3, 2))]
    )
    changes.refresh(wh, "run-2")
    load.finish_run(wh, "run-2")


def test_the_docs_have_example_queries_for_the_analysts_questions():
    text = "\n".join(example_queries())
    assert len(example_queries()) >= 6
    for needle in ("FROM current_ratings", "FROM rating_history", "FROM rating_changes", "'inadequate'"):
        assert needle in text


def _comparable(rows):
    # timestamps differ between two loads; dates and everything else must match exactly
    return [tuple("<timestamp>" if isinstance(v, datetime) else v for v in row) for row in rows]


def test_every_documented_query_gives_the_same_answer_on_both_engines(tmp_path):
    answers = {}
    with fresh_postgres_url() as pg_url:
        for url in (f"duckdb:///{tmp_path}/docs.duckdb", pg_url):
            with connect(url) as wh:
                migrate(wh)
                populate_everything(wh)
                answers[wh.engine] = [_comparable(wh.fetchall(q.strip().rstrip(";"))) for q in example_queries()]
    assert answers["duckdb"] == answers["postgresql"]
    for sql, rows in zip(example_queries(), answers["duckdb"]):
        if "CURRENT_DATE" not in sql:  # "this year" depends on the day the suite runs
            assert rows, f"documented query found nothing on the sample:\n{sql}"


def test_inadequate_councils_year_by_year_counts_from_the_history(wh):
    populate_everything(wh)
    query = next(q for q in example_queries() if "inadequate_councils" in q)
    counts = dict(wh.fetchall(query.strip().rstrip(";")))
    # Barnet inadequate from Dec 2013 to May 2019; King's Lynn from Sept 2023
    assert counts[2013] == counts[2018] == 1 and counts[2019] == 0 and counts[2023] == counts[2025] == 1
    assert snapshot(wh, "current_ratings")  # the view answers on this engine too


def test_later_migrations_change_views_in_place():
    """From 010 on a migration changes a view with CREATE OR REPLACE VIEW, its columns kept in
    order and new ones appended (PostgreSQL refuses anything else; its dependent views stay), never
    by DROP VIEW and CREATE again, which would drop and re-create every view built on it."""
    for number, _, path in migrations():
        for part in [path, *path.parent.glob(f"{path.stem}.*.sql")]:
            text = "\n".join(re.sub(r"--.*$", "", line) for line in part.read_text(encoding="utf-8").splitlines())
            if number >= 10:
                assert not re.search(r"\bDROP\s+VIEW\b", text, re.I), f"{part.name} drops a view"
