"""The council reference shipped with the product (sources, licences and corrections in
README.md beside this file): codes, regions, statistical neighbours, reorganisations and a
hex-map layout, keyed by Ofsted URN. Read from package data, never from outside the repository.

`sync(wh)` writes it to the warehouse's ref_* tables (every run's `begin`, and `ofsted reference`).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

DATA_DIR = Path(__file__).resolve().parent
HEX_LAYOUT = "odd-r"  # HexJSON: odd rows shifted right; q column, r row


@dataclass(frozen=True)
class CouncilRef:
    urn: str
    name: str
    also_known_as: tuple[str, ...]
    la_code: str  # DfE three-digit code
    ons_code: str  # ONS GSS code, current
    former_ons_codes: tuple[str, ...]  # earlier codes for the same area (recoded, same URN)
    region_code: str
    region_name: str
    la_type: str
    statistical_neighbours: tuple[str, ...]  # URNs, most similar first
    population_0_25: int | None
    predecessors: tuple[str, ...]  # URNs this council succeeded
    successors: tuple[str, ...]  # URNs that succeeded it
    abolished: date | None  # the day its successors took over

    @property
    def exists(self) -> bool:
        return self.abolished is None


class Succession(NamedTuple):
    predecessor_urn: str | None  # None: the predecessor has no URN in the reference
    successor_urn: str
    effective: date


class Region(NamedTuple):
    code: str
    name: str


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def succession_rows() -> tuple[dict[str, str], ...]:
    """successions.csv as read, including predecessors without a URN (names and ONS codes)."""
    return tuple(_read_csv("successions.csv"))


def successions() -> list[Succession]:
    return [
        Succession(r["predecessor_urn"] or None, r["successor_urn"], date.fromisoformat(r["effective"]))
        for r in succession_rows()
    ]


@lru_cache(maxsize=1)
def _councils() -> tuple[CouncilRef, ...]:
    rows = _read_csv("councils.csv")
    urn_of_la = {r["la_code"]: r["urn"] for r in rows}
    links = successions()
    out = []
    for r in rows:
        urn = r["urn"]
        ended = [s.effective for s in links if s.predecessor_urn == urn]
        out.append(
            CouncilRef(
                urn=urn,
                name=r["name"],
                also_known_as=_list(r["also_known_as"], ";"),
                la_code=r["la_code"],
                ons_code=r["ons_code"],
                former_ons_codes=_list(r["former_ons_codes"]),
                region_code=r["region_code"],
                region_name=r["region_name"],
                la_type=r["la_type"],
                statistical_neighbours=tuple(urn_of_la[code] for code in r["statistical_neighbours"].split()),
                population_0_25=int(r["population_0_25"]) if r["population_0_25"] else None,
                predecessors=tuple(s.predecessor_urn for s in links if s.successor_urn == urn and s.predecessor_urn),
                successors=tuple(s.successor_urn for s in links if s.predecessor_urn == urn),
                abolished=min(ended) if ended else None,
            )
        )
    return tuple(out)


def _list(value: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(sep) if p.strip())


def councils() -> list[CouncilRef]:
    """Every authority in the reference, current and abolished, in name order."""
    return sorted(_councils(), key=lambda c: c.name)


@lru_cache(maxsize=1)
def by_urn() -> dict[str, CouncilRef]:
    return {c.urn: c for c in _councils()}


def regions() -> list[Region]:
    """The nine English regions (ONS codes), in code order."""
    return sorted({Region(c.region_code, c.region_name) for c in _councils()})


def neighbours_of(urn: str) -> list[str]:
    """The council's statistical neighbours as URNs, most similar first ([] if unknown)."""
    council = by_urn().get(str(urn))
    return list(council.statistical_neighbours) if council else []


# -- names -------------------------------------------------------------------------------
# words a council's name is printed with or without ("London Borough of Sutton", "Durham County
# Council", "Bristol, City of", "the Royal Borough of Greenwich", "Dudley MBC")
_NAME_NOISE = frozenset("the of city council borough county metropolitan district royal mbc mdc".split())
_LONDON_BOROUGH = re.compile(r"\blondon borough of\b")


def name_key(name: str) -> str:
    """A name as a person types it, compared: case, '&'/'and', apostrophes, punctuation, spacing,
    'City of', 'Council of' and 'the' ignored; 'Saint' is 'St' (etl.councils looks names up by it)."""
    text = re.sub(r"['’`]", "", str(name).casefold())
    text = " ".join("and" if w == "&" else w for w in re.findall(r"[^\W_]+|&", text))
    text = re.sub(r"\b(city of|council of|the)\b", " ", text)
    text = re.sub(r"\bsaint\b", "st", text)
    return " ".join(re.findall(r"[^\W_]+", text))


def normalise_name(name: str) -> str:
    """A council's name as a document prints it, reduced to the words that tell it apart: its
    `name_key` without the words of `_NAME_NOISE` ("Borough", "Council", "London Borough of" ...)."""
    return " ".join(w for w in name_key(_LONDON_BOROUGH.sub(" ", name.lower())).split() if w not in _NAME_NOISE)


@lru_cache(maxsize=1)
def _known_names() -> dict[str, frozenset[str]]:
    """Every normalised name in the reference (names, also-known-as, predecessors without a
    URN) -> the URNs (or "name:" keys for those without one) it names."""
    out: dict[str, set[str]] = {}
    for c in _councils():
        for name in (c.name, *c.also_known_as):
            out.setdefault(normalise_name(name), set()).add(c.urn)
    for r in succession_rows():
        out.setdefault(normalise_name(r["predecessor_name"]), set()).add(
            r["predecessor_urn"] or "name:" + r["predecessor_name"]
        )
    return {name: frozenset(keys) for name, keys in out.items() if name}


def _family(urn: str | None) -> set[str]:
    """The council and the councils it succeeded or that succeeded it (keys of `_known_names`)."""
    council = by_urn().get(str(urn)) if urn else None
    if council is None:
        return set()
    out = {council.urn, *council.predecessors, *council.successors}
    out |= {
        "name:" + r["predecessor_name"]
        for r in succession_rows()
        if not r["predecessor_urn"] and r["successor_urn"] == council.urn
    }
    return out


def names_another_council(named: str | None, urn: str | None, listed: str | None = None) -> bool:
    """Whether `named` (the council a document names) is a council other than the one its
    listing files it under (`urn`, or the listing's name `listed` for a council the reference
    lacks), its predecessors and its successors. The reference's names found in `named` count,
    a name inside a longer one aside ("Somerset" in "North Somerset"); a name that is none of
    them ("the local area") is not another council, nor is the short form of a name that more
    than one council starts with ("Kingston")."""
    if not named or not (urn or listed):
        return False
    text = f" {normalise_name(named)} "
    found = []  # (start, end, keys) of every reference name in the text
    for name, keys in _known_names().items():
        start = text.find(f" {name} ")
        while start >= 0:
            found.append((start, start + len(name) + 1, keys))
            start = text.find(f" {name} ", start + 1)
    kept = [f for f in found if not any(o[0] <= f[0] and f[1] <= o[1] and o[1] - o[0] > f[1] - f[0] for o in found)]
    if not kept:  # a short form of one council's name only ("Newcastle")
        starts = [keys for name, keys in _known_names().items() if f" {name} ".startswith(text)]
        kept = [(0, 0, starts[0])] if len(starts) == 1 else []
    own = _family(urn)
    if any(keys & own for *_, keys in kept) or (listed and f" {normalise_name(listed)} " in text):
        return False
    return bool(kept)


# -- hex map ---------------------------------------------------------------------------
def _hex_neighbours(q: int, r: int) -> list[tuple[int, int]]:
    """The six cells around (q, r) in an odd-r layout: east, west, then the rows either side."""
    shift = r % 2  # odd rows sit half a cell to the right
    return [
        (q + 1, r),
        (q - 1, r),
        (q + shift, r + 1),
        (q - 1 + shift, r + 1),
        (q + shift, r - 1),
        (q - 1 + shift, r - 1),
    ]


def _nearest_free(start: tuple[int, int], taken: set[tuple[int, int]]) -> tuple[int, int]:
    """The first free cell in a breadth-first walk out from `start` (start itself if free)."""
    queue, seen = [start], {start}
    while True:
        cell = queue.pop(0)
        if cell not in taken:
            return cell
        for nxt in _hex_neighbours(*cell):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)


@lru_cache(maxsize=1)
def _layout() -> tuple[tuple[str, tuple[int, int]], ...]:
    with open(DATA_DIR / "upper-tier-hexmap.hexjson", encoding="utf-8") as f:
        hexjson = json.load(f)
    if hexjson.get("layout") != HEX_LAYOUT:
        raise ValueError(f"hex map layout {hexjson.get('layout')!r}, expected {HEX_LAYOUT!r}")
    cell_of_code = {code: (h["q"], h["r"]) for code, h in hexjson["hexes"].items()}
    refs = by_urn()
    placed: dict[str, tuple[int, int]] = {}
    for c in councils():  # a council keeps its cell under its current or a former code
        cell = next((cell_of_code[k] for k in (c.ons_code, *c.former_ons_codes) if k in cell_of_code), None)
        if cell is not None:
            placed[c.urn] = cell
    # an abolished council's cell passes to its successors: the first takes it, the others the
    # nearest free cells around it; a current council with no cell at all goes next to a
    # council of its region (never dropped from the map)
    taken = {cell for urn, cell in placed.items() if refs[urn].exists}
    for c in [c for c in councils() if c.exists and c.urn not in placed]:
        anchors = [placed[p] for p in c.predecessors if p in placed]
        anchors += [placed[o.urn] for o in councils() if o.region_code == c.region_code and o.urn in placed]
        placed[c.urn] = _nearest_free(anchors[0] if anchors else (0, 0), taken)
        taken.add(placed[c.urn])
    return tuple((urn, cell) for urn, cell in placed.items() if refs[urn].exists)


def hex_layout() -> dict[str, tuple[int, int]]:
    """URN -> (q, r) for every current council, one council per cell, in the HEX_LAYOUT
    ("odd-r") orientation of the shipped map."""
    return dict(_layout())


# -- warehouse -------------------------------------------------------------------------
_COUNCIL_COLS = (
    "urn",
    "name",
    "also_known_as",
    "la_code",
    "ons_code",
    "former_ons_codes",
    "region_code",
    "region_name",
    "la_type",
    "population_0_25",
    "abolished",
    "hex_q",
    "hex_r",
)
_NEIGHBOUR_COLS = ("urn", "neighbour_urn", "rank")
_SUCCESSION_COLS = ("predecessor_ons_code", "successor_urn", "predecessor_urn", "predecessor_name", "effective")


def sync(wh) -> int:
    """Make the warehouse's ref_* tables match the shipped reference, in one transaction:
    upserts then deletes, so two runs syncing at once both succeed. What derives from it (the
    history's codes, England's tables: etl.derived) follows at the next refresh (the run's).
    Returns the number of councils."""
    layout = hex_layout()
    council_rows = [
        (
            c.urn,
            c.name,
            "; ".join(c.also_known_as),
            c.la_code,
            c.ons_code,
            " ".join(c.former_ons_codes),
            c.region_code,
            c.region_name,
            c.la_type,
            c.population_0_25,
            c.abolished,
            *layout.get(c.urn, (None, None)),
        )
        for c in councils()
    ]
    neighbour_rows = [(c.urn, n, rank) for c in councils() for rank, n in enumerate(c.statistical_neighbours, 1)]
    succession = [
        (
            r["predecessor_ons_code"],
            r["successor_urn"],
            r["predecessor_urn"] or None,
            r["predecessor_name"],
            date.fromisoformat(r["effective"]),
        )
        for r in succession_rows()
    ]
    with wh.transaction():
        _replace(wh, "ref_councils", _COUNCIL_COLS, council_rows, ("urn",))
        _replace(wh, "ref_statistical_neighbours", _NEIGHBOUR_COLS, neighbour_rows, ("urn", "neighbour_urn"))
        _replace(wh, "ref_successions", _SUCCESSION_COLS, succession, ("predecessor_ons_code", "successor_urn"))
    return len(council_rows)


def _replace(wh, table: str, cols: tuple[str, ...], rows: list[tuple], key: tuple[str, ...]) -> None:
    wh.insert_rows(table, cols, rows, conflict=key, update=[c for c in cols if c not in key])
    wanted = {tuple(r[cols.index(k)] for k in key) for r in rows}
    stored = wh.fetchall(f"SELECT {', '.join(key)} FROM {table}")
    for gone in [k for k in stored if tuple(k) not in wanted]:
        wh.execute(f"DELETE FROM {table} WHERE " + " AND ".join(f"{k} = ?" for k in key), list(gone))


def unknown_councils(wh) -> list[tuple[str, str]]:
    """(urn, name) of councils the site lists that the reference lacks: loaded, and reported."""
    return wh.fetchall(
        "SELECT c.urn, c.name FROM councils c LEFT JOIN ref_councils rc ON rc.urn = c.urn"
        " WHERE rc.urn IS NULL ORDER BY c.urn"
    )
