"""`ofsted alerts check [FILE]` and `ofsted alerts preview [--since DATE]`."""
from __future__ import annotations

import sys
from datetime import date, timedelta

from etl.alert.rules import RulesError, council_directory, rules_from_settings
from etl.config import Settings

PREVIEW_DAYS = 30


def describe(rule) -> str:
    """A rule in words, without its URL (which may hold secrets)."""
    parts = [f"{k}={','.join(sorted(v))}" for k, v in (
        ("councils", rule.councils or ()), ("regions", rule.regions), ("areas", rule.areas),
        ("grades", rule.grades_either), ("grades_to", rule.grades_to), ("grades_from", rule.grades_from),
        ("events", rule.events)) if v]
    if rule.direction != "any":
        parts.append(f"direction={rule.direction}")
    return f"{rule.target} ({rule.format}, {rule.cadence}): " + (" ".join(parts) or "everything")


def alerts_command(args, settings: Settings) -> int:
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
    messages = preview(collect_events(wh, since=since), rules, directory)
    names = dict.fromkeys(r.target for r in rules)
    for target in names:
        got = messages.get(target, [])
        print(f"=== {target}: {len(got)} message(s) since {since.isoformat()}")
        for m in got:
            print(f"--- [{m.format}] {m.title}\n{m.body}\n")
    return 0
