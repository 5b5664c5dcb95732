"""Subscriptions: who receives which events, how often, in which format.

A rules file (YAML, `OFSTED_ALERT_RULES`; or the same keys in the `ofsted_alerts` Airflow
connection's extra) names targets (Apprise URLs) and lists rules. A rule matches an event when
every filter it sets matches:
- which councils: `councils` (URNs or names) and `neighbours_of` (a council's statistical
  neighbours) together name a set of councils; `regions` (ONS region names) must also hold;
- which changes: `areas`, `direction` and `grades` must all hold for one changed area of the
  report (the message still lists all its changes); an event with no changes matches no rule
  that sets them (`direction: any` sets nothing);
- `events`: the event kinds (default: every kind); a `priority_action` letter also goes to
  rules that choose its kind (`focused_visit`, `monitoring_visit`, `jtai`).
`cadence` is immediate (default), daily or weekly (one digest per period). Every URL in
`OFSTED_ALERT_URLS` is a rule with no filters: everything, immediately.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml

from etl.alert.events import EVENT_KINDS, AlertEvent
from etl.councils import Council, CouncilNotFound
from etl.councils import CouncilDirectory as CouncilLookup
from etl.graded import FRAMEWORK_TRACKED
from etl.records import AREA_SEND_OUTCOMES, GRADES

CADENCES = ("immediate", "daily", "weekly")
DIRECTIONS = ("improved", "declined", "any")
AREAS = tuple(sorted(set().union(*FRAMEWORK_TRACKED.values())))
RULE_KEYS = ("target", "councils", "regions", "neighbours_of", "areas", "direction", "grades", "events", "cadence")
# Apprise schemes whose services render Markdown (chat); email gets HTML; the rest plain text
MARKDOWN_SCHEMES = {
    "slack",
    "workflow",
    "workflows",
    "discord",
    "mmost",
    "mmosts",
    "rocket",
    "rockets",
    "matrix",
    "matrixs",
    "zulip",
    "gchat",
    "tgram",
    "ntfy",
    "ntfys",
    "guilded",
    "revolt",
}
HTML_SCHEMES = {"mailto", "mailtos"}


class RulesError(ValueError):
    """The rules are not usable; `problems` lists each one (where, rule, key, what is wrong)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("alert rules are not valid:\n" + "\n".join(f"  {p}" for p in problems))


class CouncilDirectory(Protocol):
    """What the rules need to know about councils (names, regions, statistical neighbours)."""

    def urn_for(self, key: str) -> str | None: ...
    def closest(self, key: str) -> list[str]: ...
    def with_successors(self, urn: str) -> set[str]: ...
    def region_of(self, urn: str) -> str | None: ...
    def neighbours_of(self, urn: str) -> tuple[str, ...]: ...
    def regions(self) -> set[str]: ...


def channel_id(url: str) -> str:
    """A stable name for a target that says only its scheme and a fingerprint: Apprise URLs
    carry keys in any part (`prowl://KEY`, `pover://user@TOKEN`, `json://host/path?token=`),
    so no part of the host, user, password, path or query is shown, stored or logged."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    scheme = scheme if re.fullmatch(r"[a-z][a-z0-9+.-]{0,19}", scheme) else "apprise"
    return f"{scheme}#{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def body_format(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    return "html" if scheme in HTML_SCHEMES else "markdown" if scheme in MARKDOWN_SCHEMES else "text"


@dataclass(frozen=True)
class Rule:
    target: str  # the target's name (or the URL's channel id)
    url: str
    cadence: str = "immediate"
    councils: frozenset[str] | None = None  # URNs; None: any council
    regions: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    direction: str = "any"
    grades_to: frozenset[str] = frozenset()
    grades_from: frozenset[str] = frozenset()
    grades_either: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()  # empty: every kind

    @property
    def format(self) -> str:
        return body_format(self.url)

    @property
    def filters_changes(self) -> bool:
        return bool(self.areas or self.direction != "any" or self.grades_to or self.grades_from or self.grades_either)

    def matches(self, event: AlertEvent, directory: CouncilDirectory) -> bool:
        # a letter setting out areas for priority action is news to whoever follows its kind too
        if self.events and event.kind not in self.events and event.letter_kind not in self.events:
            return False
        if self.councils is not None and event.urn not in self.councils:
            return False
        if self.regions and directory.region_of(event.urn) not in self.regions:
            return False
        return not self.filters_changes or any(self._change_matches(c) for c in event.changes)

    def _change_matches(self, change) -> bool:
        return (
            (not self.areas or change.area in self.areas)
            and self.direction in ("any", change.direction)
            and (not self.grades_to or change.grade in self.grades_to)
            and (not self.grades_from or change.previous_grade in self.grades_from)
            and (not self.grades_either or {change.grade, change.previous_grade} & self.grades_either)
        )


# -- reading ------------------------------------------------------------------------------
@dataclass
class _Reader:
    """Validates one rules document, collecting every problem with its line."""

    source: str
    directory: CouncilDirectory
    targets: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, node, where: str, message: str) -> None:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        self.problems.append(f"{self.source}{line}: {where}{message}")


class _ComplexKey(Exception):
    """A mapping key that is a list or a mapping (YAML's `? [a, b]`): no rule has such a key."""

    def __init__(self, node):
        super().__init__("complex key")
        self.node = node


def _mapping(node) -> dict[str, tuple[Any, Any]]:
    """key -> (key node, value node) of a YAML mapping node."""
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise _ComplexKey(k)
    return {k.value: (k, v) for k, v in node.value}


def _construct(node) -> Any:
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, TypeError):  # a list or mapping as a key inside the value: unhashable
        raise _ComplexKey(node) from None


def parse_rules(
    text: str, directory: CouncilDirectory, *, source: str = "rules", extra_targets: dict[str, str] | None = None
) -> list[Rule]:
    """Rules from a YAML (or JSON) document; raises RulesError listing every problem."""
    reader = _Reader(source, directory, targets=dict(extra_targets or {}))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RulesError([f"{source}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise RulesError([f"{source}:{root.start_mark.line + 1}: expected a mapping with `targets` and `rules`"])
    try:
        return _read_document(reader, root)
    except _ComplexKey as exc:
        raise RulesError(
            [f"{source}:{exc.node.start_mark.line + 1}: a key must be a plain name (this one is a list or a mapping)"]
        ) from None


def _read_document(reader: _Reader, root) -> list[Rule]:
    top = _mapping(root)
    for key, (knode, _) in top.items():
        if key not in ("targets", "rules"):
            reader.problem(knode, "", f"unknown key {key!r} (expected targets, rules)")
    if "targets" in top:
        _read_targets(reader, top["targets"][1])
    rules = []
    if "rules" in top:
        node = top["rules"][1]
        if not isinstance(node, yaml.SequenceNode):
            reader.problem(node, "", "`rules` must be a list of rules")
        else:
            rules = [r for i, n in enumerate(node.value, 1) if (r := _read_rule(reader, i, n))]
    if reader.problems:
        raise RulesError(reader.problems)
    return rules


def _read_targets(reader: _Reader, node) -> None:
    if not isinstance(node, yaml.MappingNode):
        reader.problem(node, "", "`targets` must map names to Apprise URLs")
        return
    for name, (_, vnode) in _mapping(node).items():
        url = _construct(vnode)
        if not isinstance(url, str) or not valid_apprise_url(url):
            reader.problem(vnode, f"target {name!r}: ", "not a valid Apprise URL")  # never echo the URL: secrets
        else:
            reader.targets[name] = url


def valid_apprise_url(url: str) -> bool:
    import apprise

    return apprise.Apprise().add(url)


def _read_rule(reader: _Reader, index: int, node) -> Rule | None:
    if not isinstance(node, yaml.MappingNode):
        reader.problem(node, f"rule {index}: ", "a rule must be a mapping of keys (target, councils, ...)")
        return None
    before = len(reader.problems)
    fields: dict[str, Any] = {}
    keys = _mapping(node)
    for key, (knode, vnode) in keys.items():
        where = f"rule {index}, key {key!r}: "
        if key not in RULE_KEYS:
            reader.problem(knode, f"rule {index}: ", f"unknown key {key!r} (expected one of {', '.join(RULE_KEYS)})")
            continue
        try:
            fields.update(_READERS[key](reader, _construct(vnode)))
        except ValueError as exc:
            reader.problem(vnode, where, str(exc))
    if "target" not in keys:
        reader.problem(node, f"rule {index}: ", "no `target` (a target's name or an Apprise URL)")
    if "neighbours_of" in fields:  # councils and neighbours_of name one set of councils
        fields["councils"] = fields.get("councils", frozenset()) | fields.pop("neighbours_of")
    return Rule(**fields) if len(reader.problems) == before else None


def _strings(value: Any, what: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in items):
        raise ValueError(f"expected {what} (a name or a list of them)")
    return [str(v).strip() for v in items]


def _one_of(value: Any, allowed: Iterable[str], what: str) -> list[str]:
    values = _strings(value, what)
    allowed = tuple(allowed)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise ValueError(f"{', '.join(map(repr, wrong))} not one of: {', '.join(allowed)}")
    return values


def _target(reader: _Reader, value: Any) -> dict:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a target's name or an Apprise URL")
    if value in reader.targets:
        return {"target": value, "url": reader.targets[value]}
    if "://" in value:
        if not valid_apprise_url(value):
            raise ValueError("not a valid Apprise URL")
        return {"target": channel_id(value), "url": value}
    known = ", ".join(sorted(reader.targets)) or "none defined"
    raise ValueError(f"no target named {value!r} (targets: {known})")


def _councils(reader: _Reader, value: Any) -> dict:
    urns, unknown = set(), []
    for key in _strings(value, "councils (URNs or names)"):
        urn = reader.directory.urn_for(key)
        (urns.update(reader.directory.with_successors(urn)) if urn else unknown.append(key))
    if unknown:
        hints = [
            f"{k!r} (closest: {', '.join(close)})" if (close := reader.directory.closest(k)) else repr(k)
            for k in unknown
        ]
        raise ValueError(f"unknown council(s): {', '.join(hints)}")
    return {"councils": frozenset(urns)}


def _neighbours(reader: _Reader, value: Any) -> dict:
    urns = set()
    for council in _councils(reader, value)["councils"]:
        neighbours = reader.directory.neighbours_of(council)
        if not neighbours:
            raise ValueError(f"no statistical neighbours known for {council}")
        urns.update(neighbours)
    return {"neighbours_of": frozenset(urns)}


def _grades(reader: _Reader, value: Any) -> dict:
    """`[inadequate]` (to or from), or `{to: [...], from: [...]}`."""
    if isinstance(value, dict):
        wrong = set(value) - {"to", "from"}
        if wrong:
            raise ValueError(f"grades takes `to` and `from`, not {', '.join(sorted(wrong))}")
        return {f"grades_{k}": frozenset(_one_of(v, GRADES + AREA_SEND_OUTCOMES, "grades")) for k, v in value.items()}
    return {"grades_either": frozenset(_one_of(value, GRADES + AREA_SEND_OUTCOMES, "grades"))}


def _single(value: Any, allowed: tuple[str, ...], key: str) -> dict:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{value!r} not one of: {', '.join(allowed)}")
    return {key: value}


_READERS = {
    "target": _target,
    "councils": _councils,
    "neighbours_of": _neighbours,
    "regions": lambda r, v: {"regions": frozenset(_one_of(v, sorted(r.directory.regions()), "ONS region names"))},
    "areas": lambda r, v: {"areas": frozenset(_one_of(v, AREAS, "areas"))},
    "direction": lambda r, v: _single(v, DIRECTIONS, "direction"),
    "grades": _grades,
    "events": lambda r, v: {"events": frozenset(_one_of(v, EVENT_KINDS, "event kinds"))},
    "cadence": lambda r, v: _single(v, CADENCES, "cadence"),
}


# -- every source at once -------------------------------------------------------------------
def load_rules(
    directory: CouncilDirectory,
    *,
    urls: Iterable[str] = (),
    rules_file: str | None = None,
    connection_extra: str | dict | None = None,
) -> list[Rule]:
    """The subscriptions in force: OFSTED_ALERT_URLS (everything, immediately), the rules file,
    and the `ofsted_alerts` connection's extra (its `targets` may be used by the file's rules)."""
    rules = [Rule(target=channel_id(u), url=u) for u in urls]
    extra = (
        json.loads(connection_extra)
        if isinstance(connection_extra, str) and connection_extra
        else connection_extra or {}
    )
    extra_targets = extra.get("targets") or {}
    if extra.get("rules"):
        rules += parse_rules(
            json.dumps({"targets": extra_targets, "rules": extra["rules"]}),
            directory,
            source="connection ofsted_alerts",
        )
    if rules_file:
        path = Path(rules_file)
        if not path.is_file():
            raise RulesError([f"{rules_file}: no such file (OFSTED_ALERT_RULES)"])
        rules += parse_rules(
            path.read_text(encoding="utf-8"),
            directory,
            source=str(path),
            extra_targets={k: v for k, v in extra_targets.items() if isinstance(v, str)},
        )
    return rules


def rules_from_settings(settings, directory: CouncilDirectory, rules_file: str | None = None) -> list[Rule]:
    """The subscriptions the settings name (a rules file given here replaces OFSTED_ALERT_RULES)."""
    return load_rules(
        directory,
        urls=settings.alert_urls,
        rules_file=rules_file or settings.alert_rules or None,
        connection_extra=settings.alert_config or None,
    )


# -- councils by name ---------------------------------------------------------------------
@dataclass
class Directory:
    """A CouncilDirectory from plain mappings: names (URN -> names), regions, neighbours, and
    successors (a council named in a rule also stands for the councils that replaced it)."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region: dict[str, str] = field(default_factory=dict)
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)
    successors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        self._lookup = CouncilLookup(
            [Council(urn, ns[0]) for urn, ns in self.names.items() if ns],
            [(n, urn, "also known as") for urn, ns in self.names.items() for n in ns],
        )

    def urn_for(self, key: str) -> str | None:
        """A URN as given (a rule may name a council before the site lists it), or the council
        a name names exactly: a rules file keeps its meaning, so no prefixes here."""
        key = str(key).strip()
        if key.isdigit():
            return key
        try:
            return self._lookup.resolve(key, prefix=False).council.urn
        except CouncilNotFound:
            return None

    def closest(self, key: str) -> list[str]:
        return [c.label() for c in self._lookup.closest(key)]

    def with_successors(self, urn: str) -> set[str]:
        found, todo = set(), [urn]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(self.successors.get(current, ()))
        return found

    def region_of(self, urn: str) -> str | None:
        return self.region.get(urn)

    def neighbours_of(self, urn: str) -> tuple[str, ...]:
        return self.neighbours.get(urn, ())

    def regions(self) -> set[str]:
        return set(self.region.values())


def council_directory(wh=None) -> Directory:
    """The shipped council reference (ONS names and other names in use, regions, statistical
    neighbours, successors) plus the names the site lists in the warehouse, when one is given."""
    from etl import reference

    refs = reference.councils()
    names = {c.urn: (c.name, *c.also_known_as) for c in refs}
    if wh is not None:
        for urn, name in wh.fetchall("SELECT urn, name FROM councils"):
            names[urn] = (*names.get(urn, ()), name)
    return Directory(
        names=names,
        region={c.urn: c.region_name for c in refs},
        neighbours={c.urn: tuple(c.statistical_neighbours) for c in refs},
        successors={c.urn: tuple(c.successors) for c in refs if c.successors},
    )
