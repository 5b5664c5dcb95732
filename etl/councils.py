"""Finding a council from what a person types: its URN, its name, a unique beginning of its
name, or a name it was known by (the reference's also-known-as names, a predecessor's name
from the reorganisations, the name the site lists). Names compare as people write them: case,
punctuation, apostrophes, "&"/"and", "City of" and spacing do not matter.

Every command that takes a council (`ofsted query`, `crawl`/`run --council`, `review`,
`search`), the DAG's `councils` parameter, the alert rules and the view's search use one
`CouncilDirectory`. What cannot be told apart, or matches nothing, is a `CouncilNotFound`
that names the closest councils (difflib's ratio, also against the later words of a name:
bench/bench_councils.py measures it), never an empty answer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from etl.reference import name_key

MAX_INPUT = 100  # characters: longer is no council's name
CLOSEST = 5  # councils an error names
AMBIGUOUS_SHOWN = 10  # councils an ambiguous name's error lists
FUZZY_CUTOFF = 0.6  # difflib ratio below which a name is not "close"
SEARCH_CUTOFF = 0.75  # the same for the view's search box, where most text is not a name


@dataclass(frozen=True)
class Council:
    urn: str
    name: str
    region: str | None = None
    abolished: date | None = None
    successors: tuple[str, ...] = ()

    def label(self) -> str:
        gone = f", abolished {self.abolished.isoformat()}" if self.abolished else ""
        return f"{self.name} ({self.urn}{gone})"


@dataclass(frozen=True)
class Found:
    council: Council
    how: str  # "urn", "name", or how the text led to it ("also known as 'Hull'", ...)

    @property
    def exact(self) -> bool:
        return self.how in ("urn", "name")


class CouncilNotFound(ValueError):
    """No one council answers to the text: `closest` are the councils it may have meant."""

    def __init__(self, text: str, reason: str, closest: Iterable[Council] = (), *, ambiguous: bool = False):
        self.text, self.reason, self.closest, self.ambiguous = text, reason, tuple(closest), ambiguous
        hint = f"; closest: {', '.join(c.label() for c in self.closest)}" if self.closest and not ambiguous else ""
        super().__init__(reason + hint)


@dataclass(frozen=True)
class _Name:
    key: str
    text: str
    urn: str
    how: str  # "name", "also known as", "listed by the site as", "predecessor"


class CouncilDirectory:
    """Every council one may name, and every name each answers to."""

    def __init__(self, councils: Iterable[Council], names: Iterable[tuple[str, str, str]] = ()):
        """`councils`; `names`: further (name, urn, how) a council answers to, `how` as a
        person reads it ("also known as", "predecessor", ...)."""
        self.by_urn = {c.urn: c for c in councils}
        entries = [(c.name, c.urn, "name") for c in self.by_urn.values()] + list(names)
        self._names: dict[str, list[_Name]] = {}
        for text, urn, how in entries:
            key = name_key(text)
            if key and urn in self.by_urn:
                bucket = self._names.setdefault(key, [])
                if all(n.urn != urn for n in bucket):
                    bucket.append(_Name(key, text, urn, how))

    # -- building ----------------------------------------------------------------------
    @classmethod
    def from_reference(cls, wh=None) -> CouncilDirectory:
        """The shipped reference (names, other names, predecessors' names), plus, when a
        warehouse is given, the councils and names the site has listed there."""
        from etl import reference

        refs = reference.councils()
        councils = {c.urn: Council(c.urn, c.name, c.region_name, c.abolished, c.successors) for c in refs}
        names = [(aka, c.urn, "also known as") for c in refs for aka in c.also_known_as]
        # a predecessor the reference has no URN for stands for its successors
        names += [
            (r["predecessor_name"], r["successor_urn"], "predecessor")
            for r in reference.succession_rows()
            if not r["predecessor_urn"]
        ]
        if wh is not None:
            for urn, name in wh.fetchall("SELECT urn, name FROM councils"):
                councils.setdefault(urn, Council(urn, name))
                names.append((name, urn, "listed by the site as"))
        return cls(councils.values(), names)

    # -- lookup ------------------------------------------------------------------------
    def resolve(self, text: str, *, prefix: bool = True) -> Found:
        """The one council `text` names: a URN, a name or other name, or (with `prefix`) the
        unique beginning of one. Anything else raises CouncilNotFound with the closest."""
        given = " ".join(str(text).split())
        if not given:
            raise CouncilNotFound(given, "give a council: its URN (e.g. 80487) or name (e.g. Barnet)")
        if len(given) > MAX_INPUT:
            raise CouncilNotFound(given[:40] + "…", f"a council's name is at most {MAX_INPUT} characters")
        if given.isascii() and given.isdigit():
            if given in self.by_urn:
                return Found(self.by_urn[given], "urn")
            raise CouncilNotFound(given, f"no council with URN {given}", self._closest_urns(given))
        key = name_key(given)
        if not re.search(r"[^\W_]", given.replace("&", "")) or not key:
            raise CouncilNotFound(given, f"{given!r} is no council's name or URN")
        exact = self._names.get(key, [])
        if exact:
            return self._one(given, exact, "names")
        starts = [n for k, ns in self._names.items() if k.startswith(key) for n in ns] if prefix else []
        if starts:
            return self._one(given, starts, "begins the names of", how=lambda n: f"beginning of {n.text!r}")
        raise CouncilNotFound(given, f"no council named {given!r}", self.closest(given))

    def _one(self, given: str, names: list[_Name], verb: str, how=None) -> Found:
        urns = list(dict.fromkeys(n.urn for n in names))
        if len(urns) > 1:
            councils = sorted((self.by_urn[u] for u in urns), key=lambda c: (c.abolished is not None, c.name))
            shown = ", ".join(c.label() for c in councils[:AMBIGUOUS_SHOWN])
            more = f" and {len(councils) - AMBIGUOUS_SHOWN} more" if len(councils) > AMBIGUOUS_SHOWN else ""
            raise CouncilNotFound(
                given, f"{given!r} {verb} {len(urns)} councils: {shown}{more}; say which", councils, ambiguous=True
            )
        best = min(names, key=lambda n: n.how != "name")
        describe = how(best) if how else ("name" if best.how == "name" else f"{best.how} {best.text!r}")
        return Found(self.by_urn[urns[0]], describe)

    def closest(self, text: str, n: int = CLOSEST, cutoff: float = FUZZY_CUTOFF) -> list[Council]:
        """The councils `text` most likely meant, best first: names it begins or has as a word,
        then names within difflib's ratio (a name's later words too: "Fulham")."""
        key = name_key(text)
        if not key:
            return []
        scores: dict[str, float] = {}
        matcher = difflib.SequenceMatcher(b=key, autojunk=False)
        for name_text, names in self._names.items():
            if name_text.startswith(key) or f" {key}" in f" {name_text}":
                score = 2.0 - len(name_text) / 1000  # shorter names first
            else:
                score = max(self._ratio(matcher, tail) for tail in _tails(name_text))
            for entry in names:
                scores[entry.urn] = max(scores.get(entry.urn, 0.0), score)
        ranked = sorted((s, self.by_urn[u].name, u) for u, s in scores.items() if s >= cutoff)
        return [self.by_urn[u] for _, _, u in sorted(ranked, key=lambda r: (-r[0], r[1]))[:n]]

    @staticmethod
    def _ratio(matcher: difflib.SequenceMatcher, candidate: str) -> float:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < FUZZY_CUTOFF or matcher.quick_ratio() < FUZZY_CUTOFF:
            return 0.0
        return matcher.ratio()

    def _closest_urns(self, urn: str, n: int = 3) -> list[Council]:
        return [self.by_urn[u] for u in difflib.get_close_matches(urn, list(self.by_urn), n=n, cutoff=0.6)]

    def search(self, text: str, limit: int = 10, cutoff: float = SEARCH_CUTOFF) -> list[Found]:
        """Councils for a search box, best first: the one `resolve` finds, then every other
        name that begins with, holds or is close to the text (closer than an error's
        suggestions need be: a box also gets words meant for the reports' text)."""
        try:
            first = [self.resolve(text)]
        except CouncilNotFound as exc:  # an ambiguous name: every council it names
            first = [Found(c, "named") for c in exc.closest] if exc.ambiguous else []
        seen = {f.council.urn for f in first}
        rest = [Found(c, "close") for c in self.closest(text, n=limit, cutoff=cutoff) if c.urn not in seen]
        return (first + rest)[:limit]


def run_councils(keys: Iterable[str], directory: Callable[[], CouncilDirectory]) -> list[str]:
    """A run's councils (`crawl`/`run --council`, the DAG's `councils`) as URNs. A name must
    name one council; a URN is taken as given, known or not: the site decides (it may list a
    council the reference does not have yet, and the crawl says when it has no such council).
    `directory` is called, once, only when a name needs it (reading it opens the warehouse)."""
    directory, urns = cache(directory), []
    for key in keys:
        text = str(key).strip()
        urns.append(text if text.isascii() and text.isdigit() else directory().resolve(text).council.urn)
    return urns


def _tails(key: str) -> list[str]:
    """The key and each of its endings that starts at a word: 'hammersmith and fulham',
    'and fulham', 'fulham'."""
    words = key.split(" ")
    return [" ".join(words[i:]) for i in range(len(words))]


def directory_for(warehouse_url: str | None) -> CouncilDirectory:
    """The directory a command uses: the reference and the warehouse's councils when the
    warehouse can be read now; the reference alone before any run (or while it is busy)."""
    import logging

    from etl.warehouse import connect, exists

    if warehouse_url:
        try:
            if exists(warehouse_url):
                with connect(warehouse_url, lock_wait=5) as wh:
                    if wh.has_table("councils"):
                        return CouncilDirectory.from_reference(wh)
        except Exception as exc:  # the reference still answers for every council it knows
            logging.getLogger(__name__).info("council names from the reference only: %s", type(exc).__name__)
    return CouncilDirectory.from_reference()
