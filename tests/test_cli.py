"""The `ofsted` command line (etl/cli): a council that does not exist is refused on every
command that takes one; `alerts preview` says when there is no target and marks what a real
run would not send; the handlers live in etl/cli, not in the stages."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from etl.cli import main
from etl.warehouse import connect
from tests.support.warehouse_fixtures import load_sample, make_report
from tests.test_alert_delivery import GOOD5, run


@pytest.fixture
def sample(warehouse_url, monkeypatch, tmp_path):
    with connect(warehouse_url) as wh:
        load_sample(wh)
    for name in ("AIRFLOW_CONN_OFSTED_WAREHOUSE", "OFSTED_ALERT_RULES", "OFSTED_ALERT_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("OFSTED_DATA_DIR", str(tmp_path))  # a crawl refused before it starts writes nothing else
    return warehouse_url


COUNCIL_COMMANDS = [
    ["query", "current"],
    ["query", "history"],
    ["query", "changes"],
    ["query", "summary"],
    ["query", "visits"],
    ["query", "improvements"],
    ["query", "activity"],
    ["query", "due"],
    ["search", "fostering", "--council"],
    ["review", "list", "--council"],
    ["crawl", "--council"],
    ["run", "--council"],
]


@pytest.mark.parametrize("command", COUNCIL_COMMANDS, ids=" ".join)
def test_a_council_that_does_not_exist_is_refused_naming_the_closest(sample, capsys, command):
    from etl.cli.query import QUERIES

    assert {q.name for q in QUERIES if q.council} == {c[1] for c in COUNCIL_COMMANDS if c[0] == "query"}
    assert main([*command, "Barnt"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"ofsted {command[0]}: no council named 'Barnt'; closest: Barnet (80487)")
    if command[0] not in ("crawl", "run"):  # those pass a URN the site may know on to the site
        assert main([*command, "99999"]) == 2
        assert "no council with URN 99999; closest: " in capsys.readouterr().err


def alert_rules(tmp_path, monkeypatch):
    rules = tmp_path / "rules.yaml"
    rules.write_text("targets:\n  desk: json://hooks.example.org/x\nrules:\n  - target: desk\n")
    monkeypatch.setenv("OFSTED_ALERT_RULES", str(rules))


def test_alerts_preview_without_a_target_says_so(sample, capsys):
    assert main(["alerts", "preview"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "ofsted alerts preview: no alert target configured" in err and "OFSTED_ALERT_URLS" in err


def test_alerts_preview_marks_the_messages_a_real_run_would_not_send(sample, tmp_path, monkeypatch, capsys):
    with connect(sample) as wh:  # the sample is the first run (the baseline); this one is news
        run(wh, "run-2", make_report("80442", 3, "ilacs_2023", date(2026, 1, 9), GOOD5, la="Bath"))
    alert_rules(tmp_path, monkeypatch)
    assert main(["alerts", "preview", "--since", "2010-01-01"]) == 0
    out = capsys.readouterr().out
    header, *messages = out.split("\n--- ")
    baseline = [m for m in messages if m.startswith("[text] (baseline: a real run would not send this")]
    news = [m for m in messages if m not in baseline]
    assert baseline and len(news) == 1 and "Bath" in news[0].splitlines()[0]
    assert (
        header == f"=== desk: {len(messages)} message(s) since 2010-01-01, {len(baseline)} of them baseline"
        " (not sent by a real run)"
    )
    assert messages.index(news[0]) == 0, "what would be sent comes first"


def test_the_stages_hold_no_command_handlers_and_the_cli_runs_as_a_module():
    from pathlib import Path

    import etl

    stages = [p for p in Path(etl.__file__).parent.rglob("*.py") if "cli" not in p.parts]
    handlers = [
        f"{p.name}: {line.strip()}"
        for p in stages
        for line in p.read_text().splitlines()
        if line.startswith("def ") and line.split("(")[0].endswith("_command")
    ]
    assert handlers == []
    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", "query", "current", "--since", "2024-01-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--since does not apply here" in done.stderr
