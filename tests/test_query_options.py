"""`ofsted query`: every query takes only its own options (any other is exit 2, naming the ones
it takes) and applies every option it takes, on both engines."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from etl.cli import main
from etl.cli.query import OPTIONS, QUERIES
from etl.warehouse import connect
from tests.support.warehouse_fixtures import (
    CUMBERLAND,
    load_reference_sample,
    make_publication,
    make_report,
    stored_file_for,
)

BY_NAME = {q.name: q for q in QUERIES}
VALUES = {
    "since": "2024-01-01",
    "region": "London",
    "kind": "jtai",
    "as_at": "2024-01-01",
    "area": "in_care",
    "by": "region",
    "councils": None,
    "published_by": "2024-06-30",
    "from_": "2024-04-01",
    "to": "2025-03-31",
}  # None: a flag without a value


def argv_for(dest: str) -> list[str]:
    flag = OPTIONS[dest][0]
    return [flag] if VALUES[dest] is None else [flag, VALUES[dest]]


def usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["query", *argv])
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_every_option_has_a_value_here_and_every_query_a_test_below():
    assert set(VALUES) == set(OPTIONS)
    tested = set(APPLIED) | APPLIED_TO_ENGLAND
    assert {name for name, _ in tested} | {"history"} == set(BY_NAME)
    assert {(name, dest) for name, dest in tested if dest} == {(q.name, d) for q in QUERIES for d in q.options}


@pytest.mark.parametrize("query, dest", [(q.name, d) for q in QUERIES for d in OPTIONS if d not in q.options])
def test_an_option_a_query_does_not_take_is_an_error_naming_the_ones_it_does(query, dest, capsys):
    err = usage_error(capsys, query, *argv_for(dest))
    flag = OPTIONS[dest][0]
    assert f"{flag} does not apply here" in err
    takes = err.rsplit(f"`ofsted query {query}` takes ", 1)[1].strip().split(", ")
    q = BY_NAME[query]
    assert takes == (["[COUNCIL]"] if q.council else []) + [OPTIONS[d][0] for d in q.options] + ["--format"]


@pytest.mark.parametrize("query", [q.name for q in QUERIES if not q.council])
def test_a_query_of_all_england_refuses_a_council(query, capsys):
    err = usage_error(capsys, query, "Barnet")
    assert "unexpected argument 'Barnet'" in err and f"`ofsted query {query}` takes --as-at" in err


# -- each option applied, against the sample England on the shipped reference ----------------
@pytest.fixture
def england(warehouse_url, monkeypatch):
    """load_reference_sample (Barnet and Waltham Forest in London, Cumbria/Cumberland and
    Westmorland in the North West) with improvement points on a London and a North West
    report, and a monitoring visit besides the two focused visits."""
    from etl import changes, load

    barnet = make_report(
        "80487",
        4,
        "ilacs_2023",
        date(2024, 3, 8),
        {
            "overall_effectiveness": "outstanding",
            "impact_of_leaders": "outstanding",
            "help_and_protection": "good",
            "in_care": "outstanding",
            "care_leavers": "good",
        },
        la="Barnet",
    )
    cumberland = make_report(
        CUMBERLAND,
        1,
        "ilacs_2026",
        date(2026, 6, 5),
        {
            "impact_of_leaders": "good",
            "help_and_protection": "good",
            "in_care": "requires_improvement",
            "care_leavers": "good",
        },
        la="Cumberland",
    )
    monitoring = make_report(CUMBERLAND, 2, None, date(2026, 10, 2), kind="monitoring_visit", la="Cumberland")
    with connect(warehouse_url) as wh:
        load_reference_sample(wh)
        pub = make_publication(CUMBERLAND, 2, monitoring.published, kind="monitoring_visit", la="Cumberland")
        load.start_run(wh, "r2")
        load.load_publications(wh, [pub], "r2")
        load.load_downloads(wh, [stored_file_for(pub)], [])
        load.load_reports(
            wh,
            [
                replace(barnet, parser_version="2.0", improvements=("Plan for care leavers",)),
                replace(cumberland, parser_version="2.0", improvements=("Supervision",)),
                monitoring,
            ],
            "r2",
        )
        changes.refresh(wh, "r2")
        load.finish_run(wh, "r2")
        regions = dict(wh.fetchall("SELECT urn, region_name FROM ref_councils"))
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    return regions


def rows(capsys, *argv) -> list[dict]:
    assert main(["query", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def in_london(regions):
    return lambda r: regions.get(r["urn"]) == "London"


# (query, option dest or None for the council) -> (its arguments, what every row must satisfy):
# the answer with the option is not empty, smaller than without it, and every row satisfies it
APPLIED = {
    ("current", None): (["Barnet"], lambda regions: lambda r: r["urn"] == "80487"),
    ("current", "region"): (["--region", "london"], in_london),
    ("changes", None): (["80442"], lambda regions: lambda r: r["urn"] == "80442"),
    ("changes", "since"): (["--since", "2024-01-01"], lambda regions: lambda r: r["published"] >= "2024-01-01"),
    ("changes", "region"): (["--region", "E12000007"], in_london),
    ("summary", None): (["80487"], lambda regions: lambda r: r["urn"] == "80487"),
    ("summary", "region"): (["--region", "London"], in_london),
    ("visits", None): (["Barnet"], lambda regions: lambda r: r["urn"] == "80487"),
    ("visits", "kind"): (["--kind", "monitoring_visit"], lambda regions: lambda r: r["kind"] == "monitoring_visit"),
    ("visits", "since"): (["--since", "2025-01-01"], lambda regions: lambda r: r["published"] >= "2025-01-01"),
    ("visits", "region"): (["--region", "London"], in_london),
    ("improvements", None): (["Barnet"], lambda regions: lambda r: r["urn"] == "80487"),
    ("improvements", "region"): (["--region", "North West"], lambda regions: lambda r: r["urn"] == CUMBERLAND),
    ("activity", None): (["Cumberland"], lambda regions: lambda r: r["urn"] == CUMBERLAND),
    ("activity", "region"): (["--region", "London"], in_london),
    ("due", None): (["Barnet"], lambda regions: lambda r: r["urn"] == "80487"),
}


@pytest.mark.parametrize("query, dest", list(APPLIED), ids=[f"{q}-{d or 'council'}" for q, d in APPLIED])
def test_every_filter_a_query_takes_is_applied(england, capsys, query, dest):
    argv, check = APPLIED[query, dest]
    everything = rows(capsys, query)
    filtered = rows(capsys, query, *argv)
    assert filtered and len(filtered) < len(everything)
    assert all(check(england)(r) for r in filtered), filtered


def test_england_and_movement_apply_as_at_area_by_and_councils(england, capsys):
    today = rows(capsys, "england")
    assert [(r["group"], r["area"], r["as_at"]) for r in today] == [
        ("England", "overall_effectiveness", date.today().isoformat())
    ]
    then = rows(capsys, "england", "--as-at", "2020-01-01")
    assert then[0]["as_at"] == "2020-01-01" and then[0]["councils"] != today[0]["councils"]
    assert {r["area"] for r in rows(capsys, "england", "--area", "in_care")} == {"in_care"}
    by_region = rows(capsys, "england", "--by", "region")
    assert "London" in {r["group"] for r in by_region} and "England" not in {r["group"] for r in by_region}
    assert rows(capsys, "movement", "--as-at", "2019-01-01")[0]["councils"] == 0
    assert rows(capsys, "movement")[0]["councils"] > 0
    assert {r["urn"] for r in rows(capsys, "movement", "--councils")} >= {"80487"}


APPLIED_TO_ENGLAND = {
    ("england", "as_at"),
    ("england", "area"),
    ("england", "by"),
    ("movement", "as_at"),
    ("movement", "councils"),  # the test just above; the next one:
    ("summary", "as_at"),
    ("summary", "published_by"),
    ("england", "published_by"),
    ("movement", "published_by"),
    ("activity", "from_"),
    ("activity", "to"),
    ("due", "as_at"),
}


def test_as_at_published_by_and_a_period_are_applied(england, capsys):
    """Barnet's ILACS 2023 inspection ended 8 March 2024 and was published 40 days later."""
    before = {r["urn"]: r for r in rows(capsys, "summary", "--as-at", "2022-01-01")}
    assert CUMBERLAND not in before and "80487" in before  # Cumberland exists from April 2023
    assert all(r["inspection_end"] is None or r["inspection_end"] <= "2022-01-01" for r in before.values())
    at = {r["urn"]: r for r in rows(capsys, "summary", "--as-at", "2024-03-31")}
    cut = {r["urn"]: r for r in rows(capsys, "summary", "--as-at", "2024-03-31", "--published-by", "2024-04-01")}
    assert at["80487"]["inspection_end"] == "2024-03-08" and cut["80487"]["inspection_end"] < "2024-03-08"
    england_at = rows(capsys, "england", "--as-at", "2024-03-31")
    assert rows(capsys, "england", "--as-at", "2024-03-31", "--published-by", "2024-04-01") != england_at
    assert rows(capsys, "england", "--as-at", "2024-03-31", "--published-by", "2024-06-30") == england_at
    moved = {r["urn"]: r for r in rows(capsys, "movement", "--as-at", "2024-03-31", "--councils")}
    moved_cut = {
        r["urn"]: r
        for r in rows(capsys, "movement", "--as-at", "2024-03-31", "--published-by", "2024-04-01", "--councils")
    }
    assert moved.get("80487") != moved_cut.get("80487")
    year = rows(capsys, "activity", "--from", "2024-01-01", "--to", "2024-12-31")
    assert year and all("2024-01-01" <= r["inspection_end"] <= "2024-12-31" for r in year)
    assert "80487" in {r["urn"] for r in year}
    assert rows(capsys, "activity", "--from", "2024-03-09", "--to", "2024-12-31") != year
    due_now, due_then = rows(capsys, "due"), rows(capsys, "due", "--as-at", "2022-01-01")
    assert CUMBERLAND in {r["urn"] for r in due_now} and CUMBERLAND not in {r["urn"] for r in due_then}
    assert all(r["last_inspection_end"] is None or r["last_inspection_end"] <= "2022-01-01" for r in due_then)


def test_history_gives_the_framework_and_report_rating_history_gives_and_the_one_that_set_the_grade(
    england, warehouse_url, capsys
):
    history = {(r["area"], r["valid_from"]): r for r in rows(capsys, "history", "Barnet") if r["is_current"]}
    with connect(warehouse_url) as wh:
        _, data = wh.query("SELECT area, framework, report_url FROM current_ratings WHERE urn = '80487'")
    current = {area: (framework, url) for area, framework, url in data}
    assert {r["area"]: (r["framework"], r["report_url"]) for r in history.values()} == current
    # help and protection: good in 2019 (ILACS 2018), judged good again in 2024 (ILACS 2023)
    kept = history["help_and_protection", "2019-05-24"]
    assert (kept["framework"], kept["inspection_end"], kept["set_by_framework"]) == (
        "ilacs_2023",
        "2024-03-08",
        "ilacs_2018",
    )
    assert kept["report_url"].endswith("804870004") and kept["set_by_report_url"].endswith("804870003")


def test_an_unknown_region_or_area_is_refused_with_the_known_ones(england, capsys):
    assert main(["query", "current", "--region", "Londn"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("ofsted query current: --region: no region 'Londn'; regions: ") and "London (E12000007)" in err
    )
    assert main(["query", "england", "--area", "nonsense"]) == 2
    assert "--area must be one of overall_effectiveness" in capsys.readouterr().err


def test_history_without_a_council_says_how_to_give_one(england, capsys):
    assert main(["query", "history"]) == 2
    assert "give a council, e.g. `ofsted query history Barnet`" in capsys.readouterr().err
