"""`ofsted query current|history URN|changes`, through the real command line, on both engines."""

from __future__ import annotations

import csv
import io
import json

import pytest

from etl.cli import main
from etl.warehouse import connect
from tests.support.warehouse_fixtures import load_sample


@pytest.fixture
def populated(warehouse_url, monkeypatch):
    with connect(warehouse_url) as wh:
        load_sample(wh)
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    return warehouse_url


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["query", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_current_as_json_lists_every_council_and_area(populated, capsys):
    code, out, _ = run(capsys, "current", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    assert {r["local_authority"] for r in rows} == {
        "Barnet",
        "Bath & North East Somerset, Council of",
        "King's Lynn % Test?",
    }
    barnet = {r["area"]: r for r in rows if r["urn"] == "80487"}
    assert barnet["overall_effectiveness"]["grade"] == "outstanding"
    assert barnet["overall_effectiveness"]["inspection_end"] == "2024-03-08"
    assert set(rows[0]) == {
        "urn",
        "local_authority",
        "area",
        "grade",
        "framework",
        "inspection_end",
        "published",
        "report_url",
    }


def test_history_as_csv_keeps_commas_in_names(populated, capsys):
    code, out, _ = run(capsys, "history", "80442", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert {r["local_authority"] for r in rows} == {"Bath & North East Somerset, Council of"}
    overall = [
        (r["grade"], r["valid_from"], r["valid_to"], r["is_current"])
        for r in rows
        if r["area"] == "overall_effectiveness"
    ]
    assert overall == [
        ("good", "2016-03-04", "2022-11-18", "false"),
        ("requires_improvement", "2022-11-18", "", "true"),
    ]


def test_changes_as_a_table_and_since_filters(populated, capsys):
    code, out, _ = run(capsys, "changes")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:5] == ["urn", "local_authority", "area", "previous_grade", "grade"]
    assert set(lines[1]) <= {"-", " "}
    total = int(lines[-1].strip("()").split()[0])
    assert total == len(lines) - 3 > 0
    _, recent, _ = run(capsys, "changes", "--since", "2024-01-01", "--format", "json")
    recent_rows = json.loads(recent)
    assert recent_rows and all(r["published"] >= "2024-01-01" for r in recent_rows)
    assert len(recent_rows) < total
    _, one, _ = run(capsys, "changes", "80442", "--format", "json")
    assert {r["direction"] for r in json.loads(one)} == {"declined"}


def test_history_without_urn_and_bad_dates_are_clear_errors(populated, capsys):
    code, _, err = run(capsys, "history")
    assert code == 2 and "give a council" in err
    with pytest.raises(SystemExit) as exited:  # a usage error: argparse's, exit 2
        run(capsys, "changes", "--since", "last week")
    assert exited.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_an_unmigrated_warehouse_says_what_to_do(empty_warehouse, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", empty_warehouse)
    code, _, err = run(capsys, "current")
    assert code == 1 and "ofsted migrate" in err


def test_a_council_by_name_prefix_or_other_name_everywhere_a_urn_goes(populated, capsys):
    code, by_name, err = run(capsys, "history", "Barnet", "--format", "json")
    assert code == 0 and err == ""
    _, by_urn, _ = run(capsys, "history", "80487", "--format", "json")
    assert by_name == by_urn and {r["urn"] for r in json.loads(by_name)} == {"80487"}
    code, out, err = run(capsys, "summary", "barne", "--format", "json")
    assert code == 0 and [r["urn"] for r in json.loads(out)] == ["80487"], "summary takes the council too"
    assert err.startswith("ofsted query: 'barne' is Barnet (80487): beginning of 'Barnet'\n"), (
        "a beginning says what it chose"
    )
    code, out, _ = run(capsys, "visits", "Barnet", "--format", "json")
    assert code == 0 and {r["urn"] for r in json.loads(out)} == {"80487"}
    # a name only the site lists (the reference lacks the council), punctuation aside
    code, out, _ = run(capsys, "current", "Kings Lynn % Test", "--format", "json")
    assert code == 0 and {r["urn"] for r in json.loads(out)} == {"80999"}


def test_an_unknown_or_ambiguous_council_names_the_closest_and_exits_2(populated, capsys):
    code, out, err = run(capsys, "history", "Barnt")
    assert (code, out) == (2, "") and "(0 rows)" not in err
    assert err.startswith("ofsted query: no council named 'Barnt'; closest: Barnet (80487)")
    code, out, err = run(capsys, "history", "99999")
    assert (code, out) == (2, "") and err.startswith("ofsted query: no council with URN 99999; closest: ")
    code, out, err = run(capsys, "changes", "Barn")
    assert (code, out) == (2, "") and "Barnet (80487), Barnsley (80426); say which" in err
    # a council the reference knows but the warehouse has nothing on: said, not a bare "(0 rows)"
    code, out, err = run(capsys, "history", "Leeds")
    assert code == 0 and "nothing on Leeds (80481) in the warehouse" in err


def test_crawl_and_run_take_names_and_pass_on_a_urn_only_the_site_may_know(populated, capsys):
    from etl.cli import build_parser, resolve_councils
    from etl.config import Settings

    args = build_parser().parse_args(["run", "--council", "Barnet", "--council", "Hull", "--council", "2999999"])
    assert resolve_councils(args, Settings.from_env()) and args.council == ["80487", "80477", "2999999"]
    assert main(["crawl", "--council", "Barnt"]) == 2  # before any request to the site
    assert "ofsted crawl: no council named 'Barnt'; closest: Barnet (80487)" in capsys.readouterr().err
    assert main(["review", "list", "--council", "Barnt"]) == 2
    assert main(["review", "list", "--council", "Barnet"]) == 0
    assert capsys.readouterr().out.startswith("0 report(s) to review")


def test_visits_has_a_theme_column_and_takes_a_kind(warehouse_url, monkeypatch, capsys):
    from dataclasses import replace
    from datetime import date

    from etl.records import Visit
    from tests.test_visits import letter, load_all

    with connect(warehouse_url) as wh:
        load_all(
            wh,
            [
                letter(
                    "1",
                    1,
                    date(2024, 1, 12),
                    kind="jtai",
                    areas=("help_and_protection",),
                    theme="serious_youth_violence",
                ),
                replace(letter("1", 2, date(2025, 6, 24)), visit=Visit(areas=("in_care",))),
            ],
        )
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    code, out, _ = run(capsys, "visits", "--kind", "jtai", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["kind"], r["theme"]) for r in rows] == [("jtai", "serious_youth_violence")]
    code, out, _ = run(capsys, "visits", "1", "--format", "csv")
    assert [r["theme"] for r in csv.DictReader(io.StringIO(out))] == ["serious_youth_violence", ""]
    with pytest.raises(SystemExit):
        main(["query", "visits", "--kind", "graded"])
