"""Subscription rules: the file's shape, errors with line/rule/key, and which events each rule matches."""

from __future__ import annotations

from datetime import date

import pytest

from etl.alert.events import AlertEvent, AreaChange
from etl.alert.rules import Directory, RulesError, body_format, council_directory, load_rules, parse_rules
from etl.cli import main

DIRECTORY = Directory(
    names={
        "80487": ("Barnet",),
        "80490": ("Bromley",),
        "80418": ("Norfolk",),
        "80481": ("Leeds",),
        "2532287": ("Bournemouth, Christchurch & Poole", "BCP"),
    },
    region={"80487": "London", "80490": "London", "80418": "East of England", "80481": "Yorkshire and The Humber"},
    neighbours={"80487": ("80490", "80481")},
)

ISSUE_EXAMPLE = """\
targets:
  newsroom: "json://hooks.example.org/ofsted"
  cs-team: "mailtos://user:pass@example.org?to=cs@example.org"
rules:
  - target: newsroom
    regions: [London]            # ONS region names
    direction: declined          # improved | declined | any
    events: [grade_change]
  - target: cs-team
    councils: ["80487"]          # URNs or names
    neighbours_of: "80487"       # a council's statistical neighbours
    cadence: weekly
"""


def event(urn="80487", kind="grade_change", *changes) -> AlertEvent:
    return AlertEvent(
        event_id=f"report:{urn}{kind}",
        kind=kind,
        urn=urn,
        council=DIRECTORY.names[urn][0],
        published=date(2026, 5, 1),
        url=None,
        noticed_at=None,
        changes=tuple(AreaChange(a, old, new, d, a) for a, old, new, d in changes),
    )


DECLINE = ("overall_effectiveness", "good", "inadequate", "declined")
IMPROVE = ("help_and_protection", "requires_improvement", "good", "improved")


def test_the_issue_example_parses_with_formats_by_target_kind():
    newsroom, team = parse_rules(ISSUE_EXAMPLE, DIRECTORY)
    assert (newsroom.target, newsroom.format, newsroom.cadence) == ("newsroom", "text", "immediate")
    assert (team.target, team.format, team.cadence) == ("cs-team", "html", "weekly")
    assert team.councils == {"80487", "80490", "80481"}, "the council and its statistical neighbours"
    assert body_format("slack://a/b/c") == "markdown" and body_format("workflows://h/a/b") == "markdown"


def test_direction_declined_matches_a_report_with_one_declined_area_among_improvements():
    newsroom, _ = parse_rules(ISSUE_EXAMPLE, DIRECTORY)
    assert newsroom.matches(event("80487", "grade_change", IMPROVE, DECLINE), DIRECTORY)
    assert not newsroom.matches(event("80487", "grade_change", IMPROVE), DIRECTORY)
    assert not newsroom.matches(event("80418", "grade_change", DECLINE), DIRECTORY), "not in London"
    assert not newsroom.matches(event("80487", "focused_visit"), DIRECTORY), "events: grade_change only"


def test_change_filters_must_hold_for_one_same_change():
    (rule,) = parse_rules(
        "rules:\n  - target: json://h/x\n    areas: [help_and_protection]\n    direction: declined\n", DIRECTORY
    )
    assert not rule.matches(event("80487", "grade_change", IMPROVE, DECLINE), DIRECTORY)
    assert rule.matches(
        event("80487", "grade_change", ("help_and_protection", "good", "inadequate", "declined")), DIRECTORY
    )
    assert not rule.matches(event("80487", "inspection"), DIRECTORY), "no changes: no match for a change filter"


def test_grades_to_or_from_and_explicit_to():
    either, to = parse_rules(
        "rules:\n  - target: json://h/x\n    grades: [inadequate]\n"
        "  - target: json://h/y\n    grades: {to: [inadequate]}\n",
        DIRECTORY,
    )
    out_of_inadequate = event("80487", "grade_change", ("in_care", "inadequate", "good", "improved"))
    assert either.matches(out_of_inadequate, DIRECTORY) and not to.matches(out_of_inadequate, DIRECTORY)
    assert to.matches(event("80487", "grade_change", DECLINE), DIRECTORY)


def test_a_rule_without_filters_takes_every_kind_and_names_resolve_loosely():
    everything, by_name = parse_rules(
        "rules:\n  - target: json://h/x\n"
        "  - target: json://h/y\n    councils: [bournemouth christchurch and poole, BROMLEY]\n",
        DIRECTORY,
    )
    assert all(everything.matches(event("80418", k), DIRECTORY) for k in ("jtai", "retraction", "new_council"))
    assert by_name.councils == {"2532287", "80490"}


def test_the_shipped_reference_gives_regions_neighbours_other_names_and_successors():
    directory = council_directory()
    london, bristol, northants = parse_rules(
        "rules:\n  - target: json://h/a\n    regions: [London]\n"
        "  - target: json://h/b\n    councils: [Bristol]\n    neighbours_of: Barnet\n"
        "  - target: json://h/c\n    councils: [Northamptonshire]\n",
        directory,
    )
    assert london.matches(event("80487", "jtai"), directory) and not london.matches(event("80418", "jtai"), directory)
    assert directory.urn_for("Bristol, City of") in bristol.councils
    assert set(directory.neighbours_of("80487")) <= bristol.councils and "80487" not in bristol.councils
    assert {"121939", "2637539", "2637548"} <= northants.councils, "a council stands for its successors"


BROKEN = """\
targets:
  newsroom: "json://hooks.example.org/ofsted"
  secret: "nonsense://user:hunter2@example.org"
rules:
  - target: newsroom
    direction: worse
  - target: nobody
    councils: [Barnett]
    cadence: hourly
  - regions: [Narnia]
    events: [grade_change, gossip]
    colour: blue
"""


def test_every_problem_is_reported_with_line_rule_key_and_what_is_wrong():
    with pytest.raises(RulesError) as caught:
        parse_rules(BROKEN, DIRECTORY, source="rules.yaml")
    problems = caught.value.problems
    expected = [
        "rules.yaml:3: target 'secret': not a valid Apprise URL",
        "rules.yaml:6: rule 1, key 'direction': 'worse' not one of: improved, declined, any",
        "rules.yaml:7: rule 2, key 'target': no target named 'nobody' (targets: newsroom)",
        "rules.yaml:8: rule 2, key 'councils': unknown council(s): 'Barnett'",
        "rules.yaml:9: rule 2, key 'cadence': 'hourly' not one of: immediate, daily, weekly",
        "rules.yaml:10: rule 3, key 'regions': 'Narnia' not one of:",
        "rules.yaml:11: rule 3, key 'events': 'gossip' not one of: grade_change,",
        "rules.yaml:12: rule 3: unknown key 'colour'",
        "rules.yaml:10: rule 3: no `target`",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in problems), (want, problems)
    assert "hunter2" not in str(caught.value), "a URL's secrets never appear in errors"


def test_not_yaml_is_an_error_with_its_line():
    with pytest.raises(RulesError, match=r"rules.yaml:3: not valid YAML: mapping values are not allowed here"):
        parse_rules("rules:\n  - target: x\n  - target: a: b\n", DIRECTORY, source="rules.yaml")


def test_alert_urls_stay_everything_immediately_and_the_connection_may_name_targets(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - target: desk\n    events: [jtai]\n")
    rules = load_rules(
        DIRECTORY,
        urls=["json://h/all"],
        rules_file=str(path),
        connection_extra={"targets": {"desk": "json://h/desk"}, "rules": [{"target": "desk", "cadence": "daily"}]},
    )
    assert [(r.url, r.cadence, sorted(r.events)) for r in rules] == [
        ("json://h/all", "immediate", []),
        ("json://h/desk", "daily", []),
        ("json://h/desk", "immediate", ["jtai"]),
    ]


def test_ofsted_alerts_check_command(tmp_path, monkeypatch, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    # an empty warehouse knows no names, regions or neighbours: URNs only
    good.write_text(
        ISSUE_EXAMPLE.replace("regions: [London]", "councils: [80490]").replace('neighbours_of: "80487"', "")
    )
    bad.write_text(BROKEN)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    monkeypatch.delenv("OFSTED_ALERT_URLS", raising=False)
    assert main(["alerts", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:6: rule 1, key 'direction'" in err and "hunter2" not in err
    assert main(["alerts", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "2 rule(s), valid" in out and "cs-team (html, weekly)" in out and "pass" not in out


def test_the_ofsted_alerts_connection_holds_targets_and_rules_for_the_dag(monkeypatch):
    import json

    from etl.config import airflow_settings

    monkeypatch.setenv(
        "AIRFLOW_CONN_OFSTED_ALERTS",
        json.dumps(
            {
                "conn_type": "apprise",
                "extra": {
                    "config": {"path": "json://h/all"},
                    "targets": {"desk": "json://h/desk"},
                    "rules": [{"target": "desk", "regions": ["London"], "cadence": "daily"}],
                },
            }
        ),
    )
    monkeypatch.delenv("OFSTED_ALERT_URLS", raising=False)
    settings = airflow_settings()
    rules = load_rules(council_directory(), urls=settings.alert_urls, connection_extra=settings.alert_config)
    assert [(r.target, r.cadence, sorted(r.regions)) for r in rules][1:] == [("desk", "daily", ["London"])]
    assert rules[0].url == "json://h/all" and not rules[0].events
