"""Geometry for the server-rendered SVG: the England hex map and a council's step chart.
Templates draw the shapes (autoescaped); this module only computes where they go."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from etl import grades
from etl.graded import FOUR_POINT, ON_FOUR_POINT
from etl.web.data import looked_at

# grade -> rung on the step chart, the four-point scale's (adequate, 2012-13 only, sits where
# requires improvement does)
GRADE_LEVEL = {g: len(FOUR_POINT) - FOUR_POINT.index(ON_FOUR_POINT[g]) for g in ON_FOUR_POINT}
LEVEL_LABELS = {
    4: ("Outstanding",),
    3: ("Good",),
    2: ("Requires improvement", "or adequate (2012–13)"),
    1: ("Inadequate",),
}
FRAMEWORK_SHORT = {f: label for f, label in grades.FRAMEWORK_LABELS.items() if not f.startswith("area_send")}
# every framework as a page names it (the area SEND inspections beside the children's services ones)
FRAMEWORK_LABELS = {**FRAMEWORK_SHORT, "area_send_2016": "Area SEND", "area_send_2023": "Area SEND"}
VISIT_SHORT = {"focused_visit": "FV", "monitoring_visit": "MV", "jtai": "JTAI"}
# one line style per tracked area: colour and dash, so lines differ without colour too
LINE_STYLES = (
    ("#1d3f8f", ""),
    ("#b1358a", "6 3"),
    ("#2b7a77", "2 3"),
    ("#8a5a00", "9 3 2 3"),
    ("#555555", "12 4"),
    ("#6b3fa0", "4 4"),
    ("#9c2f2f", "1 2"),
    ("#3d7a2f", "8 2 2 2 2 2"),
)


@dataclass
class Hex:
    cell: dict  # what the map says about the council: urn, name, grade, label, href, ...
    points: str
    x: float
    y: float


def hexagon(cx: float, cy: float, size: float) -> str:
    """Pointy-top hexagon's points around its centre."""
    return " ".join(
        f"{cx + size * math.cos(math.radians(60 * i - 30)):.1f},{cy + size * math.sin(math.radians(60 * i - 30)):.1f}"
        for i in range(6)
    )


def hex_map(cells: list[dict], size: float = 14.0) -> dict:
    """Cells (with q, r) laid out "odd-r" (odd rows shifted right; rows count upwards, as
    HexJSON's do) -> hexagons and the drawing's size."""
    if not cells:
        return {"hexes": [], "width": 0, "height": 0}
    w, h = math.sqrt(3) * size, 1.5 * size
    top = max(c["r"] for c in cells)
    left = min(c["q"] for c in cells)
    hexes = []
    for c in cells:
        cx = w * (c["q"] - left + 0.5 * (c["r"] % 2)) + w / 2 + 1
        cy = h * (top - c["r"]) + size + 1
        hexes.append(Hex(c, hexagon(cx, cy, size * 0.98), round(cx, 1), round(cy, 1)))
    width = max(x.x for x in hexes) + w / 2 + 2
    height = max(x.y for x in hexes) + size + 2
    return {"hexes": hexes, "width": round(width, 1), "height": round(height, 1)}


@dataclass
class Series:
    area: str
    label: str
    colour: str
    dash: str
    path: str
    points: list[dict] = field(default_factory=list)


def step_chart(
    history: list[dict],
    inspections: list[dict],
    labels: dict[str, str],
    areas: tuple[str, ...],
    *,
    today: date | None = None,
    width: int = 900,
    start_year: int = 2012,
    visits: list[dict] = (),
) -> dict:
    """History rows (area, grade, valid_from, valid_to) -> one stepped line per area in `areas`,
    grade over time; inspections (framework, inspection_end) -> marks saying which framework
    judged when; visits (kind, inspection_end or published, priority_actions) -> ticks along the
    foot of the chart, those that set out areas for priority action marked as such."""
    today = today or date.today()
    left, right, top, rung = 200, 20, 34, 44
    height = top + rung * 4 + 40
    first = min([date(start_year, 1, 1)] + [h["valid_from"] for h in history])
    t0, t1 = date(first.year, 1, 1).toordinal(), date(today.year + 1, 1, 1).toordinal()

    def x(day: date) -> float:
        return round(left + (width - left - right) * (day.toordinal() - t0) / (t1 - t0), 1)

    areas = [a for a in areas if any(h["area"] == a for h in history)]
    series = []
    for i, area in enumerate(areas):
        offset = (i - (len(areas) - 1) / 2) * 4  # keep equal grades' lines apart
        colour, dash = LINE_STYLES[i % len(LINE_STYLES)]
        path, points, previous_end = [], [], None
        for row in (h for h in history if h["area"] == area):
            if row["grade"] not in GRADE_LEVEL:  # "not read": a gap in the line (the table says why)
                previous_end = None
                continue
            y = round(top + rung * (4 - GRADE_LEVEL[row["grade"]]) + rung / 2 + offset, 1)
            x0, x1 = x(row["valid_from"]), x(row["valid_to"] or today)
            # a step up or down where the previous grade ended; a new start after a gap
            path.append(f"V{y}" if previous_end == row["valid_from"] else f"M{x0},{y}")
            path.append(f"H{x1}")
            previous_end = row["valid_to"]
            points.append(
                {
                    "x": x0,
                    "y": y,
                    "grade": row["grade"],
                    "since": row["valid_from"],
                    "framework": row.get("framework") or "",
                    "predecessor": row.get("predecessor"),
                }
            )
        series.append(Series(area, labels.get(area, area), colour, dash, " ".join(path), points))
    marks = [
        {
            "x": x(i["inspection_end"]),
            "label": FRAMEWORK_LABELS.get(i["framework"], i["framework"]),
            "date": i["inspection_end"],
            "end": x(i["inspection_end"]) > width - right - 80,
        }
        for i in inspections
    ]
    _stagger(marks)
    visit_marks = [
        {
            "x": x(day),
            "label": VISIT_SHORT.get(v["kind"], v["kind"]),
            "date": day,
            "kind": v["kind"],
            "ended": v.get("inspection_end"),
            "looked_at": looked_at(v),
            "actions": v.get("priority_actions") or 0,
        }
        for v in visits
        if (day := v.get("inspection_end") or v.get("published")) and day.toordinal() >= t0
    ]
    years = [{"x": x(date(y, 1, 1)), "year": y} for y in range(first.year, today.year + 1)]
    rungs = [{"y": top + rung * (4 - level) + rung / 2, "lines": LEVEL_LABELS[level]} for level in (4, 3, 2, 1)]
    return {
        "width": width,
        "height": height,
        "series": series,
        "marks": marks,
        "years": years,
        "rungs": rungs,
        "visits": visit_marks,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + rung * 4,
        "today": x(today),
    }


def _stagger(marks: list[dict], label_width: float = 72) -> None:
    """Each mark's label row (0 or 1): one that would overlap the label before it on its row
    (an area SEND inspection months after an ILACS one) goes up a row."""
    ends: list[float] = [float("-inf"), float("-inf")]
    for m in sorted(marks, key=lambda m: m["x"]):
        left = m["x"] - label_width if m["end"] else m["x"]
        m["row"] = 0 if left >= ends[0] else 1
        ends[m["row"]] = max(ends[m["row"]], (m["x"] if m["end"] else m["x"] + label_width))


# the bands of the grade-share chart, bottom up: good or better at the bottom, so the top of the
# "good" band reads as the share of councils good or outstanding
SHARE_BANDS = ("outstanding", "good", "requires_improvement", "inadequate")


# a month with fewer councils graded than this is greyed out: shares of a handful say little
# (December 2013: 4 councils, "50% good")
FEW_GRADED = 10


def share_chart(rows: list[dict], *, mark: date | None = None, width: int = 900, start_year: int = 2012) -> dict:
    """grade_distribution rows (as_at, councils, a count per grade), oldest first -> one stacked
    band per grade, its share of the councils graded at each month end (months with none graded
    leave a gap; months with fewer than FEW_GRADED are greyed out), the councils graded at each
    31 March along the top, and a hover target per month with its counts; `mark`: a date to
    draw a vertical line at."""
    left, right, top, height = 56, 16, 30, 240
    bottom = top + height
    last = max([r["as_at"] for r in rows] + [mark or date(start_year, 12, 31)])
    t0, t1 = date(start_year, 1, 1).toordinal(), date(last.year + 1, 1, 1).toordinal()

    def x(day: date) -> float:
        return round(left + (width - left - right) * (day.toordinal() - t0) / (t1 - t0), 1)

    def y(share: float) -> float:
        return round(bottom - height * share, 1)

    runs = _runs(rows)
    bands = []
    for grade in SHARE_BANDS:
        below = SHARE_BANDS[: SHARE_BANDS.index(grade)]
        polygons = []
        for few, run in runs:
            lower = [(x(r["as_at"]), y(sum(r[g] for g in below) / r["councils"])) for r in run]
            upper = [(x(r["as_at"]), y(sum(r[g] for g in (*below, grade)) / r["councils"])) for r in run]
            polygons.append({"points": " ".join(f"{px},{py}" for px, py in upper + lower[::-1]), "few": few})
        bands.append({"grade": grade, "polygons": polygons})
    months, previous = [], None
    for r in rows:  # each month from the end of the one before to its own end
        x1 = x(r["as_at"])
        x0 = x(previous) if previous else x1 - (width - left - right) / ((t1 - t0) / 30.4)
        months.append({"x": round(x0, 1), "width": round(x1 - x0, 1), "row": r, "few": r["councils"] < FEW_GRADED})
        previous = r["as_at"]
    counts = [
        {"x": x(r["as_at"]), "councils": r["councils"], "few": r["councils"] < FEW_GRADED}
        for r in rows
        if r["as_at"].month == 3 and r["councils"]
    ]
    return {
        "width": width,
        "height": bottom + 28,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": bottom,
        "bands": bands,
        "mark": x(mark) if mark else None,
        "months": months,
        "counts": counts,
        "few": FEW_GRADED,
        "gridlines": [{"y": y(p / 100), "label": f"{p}%"} for p in (0, 25, 50, 75, 100)],
        "years": [{"x": x(date(yr, 1, 1)), "year": yr} for yr in range(start_year, last.year + 1)],
    }


def _runs(rows: list[dict]) -> list[tuple[bool, list[dict]]]:
    """Runs of consecutive months with councils graded, each (greyed out, its months), split
    where the count crosses FEW_GRADED; the month before a split starts the next run too, so
    the bands stay joined."""
    runs, run, few = [], [], False
    for r in rows:
        if not r["councils"]:
            if run:
                runs.append((few, run))
            run = []
            continue
        if run and (r["councils"] < FEW_GRADED) != few:
            runs.append((few, run))
            run = [run[-1]]
        if len(run) <= 1:  # a run starts here: greyed out or not by this month's count
            few = r["councils"] < FEW_GRADED
        run.append(r)
    if run:
        runs.append((few, run))
    return runs


def year_bars(counts: dict[str, int], *, height: int = 90, bar: int = 26, gap: int = 6) -> dict:
    """Publications by year (year -> count, as etl.search's counts give them) -> one bar per
    year from the first to the last, empty years included, so a phrase's spread reads at a
    glance. Years not known ("unknown") are left to the table beside the chart."""
    years = sorted(int(y) for y in counts if str(y).isdigit())
    if not years:
        return {"bars": [], "width": 0, "height": 0}
    left, base = 4, height + 16  # 16 above the tallest bar for its count
    most = max(counts[str(y)] for y in years)
    bars = []
    for i, year in enumerate(range(years[0], years[-1] + 1)):
        n = counts.get(str(year), 0)
        h = round(height * n / most, 1) if most else 0
        bars.append(
            {
                "year": year,
                "count": n,
                "x": left + i * (bar + gap),
                "y": round(base - h, 1),
                "h": h,
                "label_y": round(base - h - 4, 1),
                "width": bar,
            }
        )
    return {"bars": bars, "width": left + len(bars) * (bar + gap), "height": base + 18, "base": base}
