"""`ofsted alerts check [FILE]` and `ofsted alerts preview [--since DATE]`: the rules in
words, and what each target would have received (etl.alert)."""

from __future__ import annotations

import sys
from datetime import date, timedelta

from etl.cli.args import DATE, say

PREVIEW_DAYS = 30
BASELINE = "(baseline: a real run would not send this; `ofsted run --historic-alerts` would)"


def add(sub) -> None:
    p = sub.add_parser("alerts", help="check the alert rules, or preview what each target would receive")
    p.set_defaults(handler=command)
    actions = p.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate the rules file (line, rule, key, what is wrong)")
    check.add_argument("file", nargs="?", help="rules file (default: OFSTED_ALERT_RULES)")
    preview = actions.add_parser("preview", help="print the messages each target would have received")
    preview.add_argument(
        "--since", metavar="DATE", type=DATE, help=f"events published on/after DATE (default: {PREVIEW_DAYS} days ago)"
    )


def describe(rule) -> str:
    """A rule in words, without its URL (which may hold secrets)."""
    parts = [
        f"{k}={','.join(sorted(v))}"
        for k, v in (
            ("councils", rule.councils or ()),
            ("regions", rule.regions),
            ("areas", rule.areas),
            ("grades", rule.grades_either),
            ("grades_to", rule.grades_to),
            ("grades_from", rule.grades_from),
            ("events", rule.events),
        )
        if v
    ]
    if rule.direction != "any":
        parts.append(f"direction={rule.direction}")
    return f"{rule.target} ({rule.format}, {rule.cadence}): " + (" ".join(parts) or "everything")


def command(args, settings) -> int:
    from etl.alert.rules import RulesError, council_directory, rules_from_settings
    from etl.warehouse import connect, migrate

    with connect(settings.warehouse_url) as wh:
        migrate(wh)  # council names come from the warehouse
        directory = council_directory(wh)
        try:
            rules = rules_from_settings(settings, directory, getattr(args, "file", None))
        except RulesError as exc:
            print("\n".join(exc.problems), file=sys.stderr)
            return 1
        if args.action == "check":
            return _check(rules)
        if not rules:
            say(
                "alerts preview",
                "no alert target configured: set OFSTED_ALERT_RULES (a rules file) or OFSTED_ALERT_URLS",
            )
            return 2
        return _preview(wh, rules, directory, args.since or date.today() - timedelta(days=PREVIEW_DAYS))


def _check(rules) -> int:
    if not rules:
        print("no alert rules: set OFSTED_ALERT_RULES or OFSTED_ALERT_URLS")
        return 1
    print(f"{len(rules)} rule(s), valid:")
    for i, rule in enumerate(rules, 1):
        print(f"  {i}. {describe(rule)}")
    return 0


def _preview(wh, rules, directory, since: date) -> int:
    from etl.alert.delivery import preview
    from etl.alert.events import collect_events

    events = collect_events(wh, since=since)  # a real run sends the baseline's only when told to
    news = preview([e for e in events if not e.baseline], rules, directory)
    history = preview([e for e in events if e.baseline], rules, directory)
    for target in dict.fromkeys(r.target for r in rules):
        sent, unsent = news.get(target, []), history.get(target, [])
        print(
            f"=== {target}: {len(sent) + len(unsent)} message(s) since {since.isoformat()}"
            + (f", {len(unsent)} of them baseline (not sent by a real run)" if unsent else "")
        )
        for m, mark in [(m, "") for m in sent] + [(m, f"{BASELINE} ") for m in unsent]:
            print(f"--- [{m.format}] {mark}{m.title}\n{m.body}\n")
    return 0
