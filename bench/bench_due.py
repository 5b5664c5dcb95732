"""Back-test of the due windows (etl/due.py): at every month end from January 2019 to December
2025, each council's window from what was published by then, against the inspection that came
next. Prints the share of next inspections inside their window and the windows' median width
(goals: >= 80% inside, median width <= 12 months); then the windows given before the COVID-19
pause for an inspection it pushed back apart from the others, bounded windows alone, the widths
(mean, share wider than 12 months, the windows given just after a restart, and the median if the
pause's open-ended windows counted as unbounded), and the share by the last grade and by year.

    .venv/bin/python bench/bench_due.py [--corpus ../shared/corpus] [--baseline]

The history is the real one: every council's graded inspections in the dev corpus
(labels.jsonl: framework, dates, grades; index.csv: council and publication date). Reading it
here is a bench's privilege; the product reads only the warehouse. --baseline also scores rules
by the last grade alone: the framework's 30 to 42 months after the last inspection, and the
12-month window after it that fits this history best (tuned in-sample).

A prediction is scored when its outcome is known: the next inspection happened by the corpus'
last inspection, or the window closed before then without one (a miss). A window still open at
the corpus' end with no inspection yet is left out (not yet known). Councils in monitoring
(inadequate: re-inspected when ready) have no window; they are counted apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl import due  # noqa: E402
from etl.england import month_ends  # noqa: E402


def corpus_inspections(corpus: Path) -> list[due.Inspection]:
    index = {r["file"]: r for r in csv.DictReader(open(corpus / "index.csv", encoding="utf-8"))}
    out = []
    for line in open(corpus / "labels.jsonl", encoding="utf-8"):
        label = json.loads(line)
        row = index.get(label["source"])
        if not (label.get("is_report") and label.get("framework") and row and label.get("inspection_end")):
            continue
        out.append(
            due.Inspection(
                row["urn"],
                label["framework"],
                date.fromisoformat(label["inspection_end"]),
                date.fromisoformat(row["published"]) if row.get("published") else None,
                label["judgements"].get("overall_effectiveness"),
            )
        )
    return out


def baseline(opens: int = 30):
    """Rules by the last grade alone: a 12-month window opening `opens` months after the last
    inspection (30: the framework's timing; monitoring for inadequate, as in etl/due.py)."""

    def predict(inspections, councils, as_at):
        out = due.windows(inspections, councils, as_at)
        last = {}
        for i in sorted((i for i in inspections if i.known_on <= as_at), key=lambda i: i.ended):
            last[i.urn] = i
        for urn, d in out.items():
            if d.status == due.WINDOW:
                i = last[urn]
                out[urn] = due.Due(
                    urn, as_at, due.WINDOW, due.months(i.ended, opens), due.months(i.ended, opens + 12), "grade"
                )
        return out

    return predict


def existing(urns, day):
    """The councils of `urns` existing on `day` (the shipped reference's abolitions)."""
    from etl import reference

    abolished = {c.urn: c.abolished for c in reference.councils()}
    return sorted(u for u in urns if not abolished.get(u) or abolished[u] > day)


def backtest(inspections, predict, first=date(2019, 1, 31), last=date(2025, 12, 31)):
    urns = {i.urn for i in inspections}
    by_council = defaultdict(list)
    for i in sorted(inspections, key=lambda i: i.ended):
        by_council[i.urn].append(i)
    data_end = max(i.ended for i in inspections)
    scored, monitoring = [], Counter()
    for as_at in month_ends(first, last):
        for urn, d in predict(inspections, existing(urns, as_at), as_at).items():
            seen = [i for i in by_council[urn] if i.known_on <= as_at]
            if not seen:
                continue
            nxt = next((i for i in by_council[urn] if i.ended > seen[-1].ended), None)
            if d.status == due.MONITORING:
                monitoring["predictions"] += 1
                continue
            if d.status != due.WINDOW:
                monitoring["no window"] += 1
                continue
            if nxt is None and (d.latest is None or d.latest >= data_end):
                continue  # not yet known
            inside = nxt is not None and d.earliest <= nxt.ended and (d.latest is None or nxt.ended <= d.latest)
            across = any(as_at < start <= (nxt.ended if nxt else data_end) for start, _ in due.PAUSES)
            scored.append((as_at, seen[-1].overall, d, inside, across))
    return scored, monitoring


def report(title, scored, monitoring):
    inside = sum(s[3] for s in scored)
    widths = [(s[2].latest - s[2].earliest).days / due.MONTH for s in scored if s[2].latest]
    open_ended = sum(1 for s in scored if s[2].latest is None)
    print(
        f"{title}: {len(scored)} windows scored, {inside / len(scored):.1%} inside; median width"
        f" {median(widths):.1f} months ({open_ended} open-ended during a pause, not in the width);"
        f" monitoring: {monitoring['predictions']} predictions without a window;"
        f" no window: {monitoring['no window']}"
    )
    unforeseen = [s for s in scored if s[4]]
    rest = [s for s in scored if not s[4]]
    print(
        f"  given before the COVID-19 pause for an inspection after it began: {len(unforeseen)} windows,"
        f" {sum(s[3] for s in unforeseen) / max(1, len(unforeseen)):.0%} inside; all others: {len(rest)},"
        f" {sum(s[3] for s in rest) / max(1, len(rest)):.1%} inside"
    )
    bounded = [s for s in scored if s[2].latest]
    foreseen = [s for s in bounded if not s[4]]
    print(
        f"  bounded windows only (a latest date): {len(bounded)}, {sum(s[3] for s in bounded) / len(bounded):.1%}"
        f" inside; of them not crossing the pause unforeseen: {len(foreseen)},"
        f" {sum(s[3] for s in foreseen) / max(1, len(foreseen)):.1%} inside"
    )
    wide = [w for w in widths if w > 12.5]
    restart = [s for s in bounded if "resumed on" in s[2].rule]
    print(
        f"  widths: mean {sum(widths) / len(widths):.1f} months, {len(wide) / len(widths):.0%} wider than 12"
        f" (mean {sum(wide) / max(1, len(wide)):.1f}); given in the {due.RESTART_MONTHS} months after a"
        f" restart (latest date {due.RESTART_LATER} months later): {len(restart)},"
        f" {sum(s[3] for s in restart) / max(1, len(restart)):.1%} inside; counting the open-ended as"
        f" unbounded, the median width of all windows would be {median(widths + [float('inf')] * open_ended):.1f}"
    )
    for key, name in ((lambda s: s[1] or "none", "last grade"), (lambda s: s[0].year, "year")):
        groups = defaultdict(list)
        for s in scored:
            groups[key(s)].append(s[3])
        print(f"  by {name}: " + ", ".join(f"{k} {sum(v) / len(v):.0%} of {len(v)}" for k, v in sorted(groups.items())))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--baseline", action="store_true")
    args = ap.parse_args()
    inspections = corpus_inspections(args.corpus)
    print(
        f"history: {len(inspections)} graded inspections of {len({i.urn for i in inspections})} councils"
        f" ({min(i.ended for i in inspections)} to {max(i.ended for i in inspections)}), {args.corpus}"
    )
    report("queue and pace (etl/due.py)", *backtest(inspections, due.windows))
    if args.baseline:
        report("last grade alone (30-42 months)", *backtest(inspections, baseline()))
        tuned = max(range(24, 67, 2), key=lambda m: sum(s[3] for s in backtest(inspections, baseline(m))[0]))
        report(
            f"last grade alone, tuned on this history ({tuned}-{tuned + 12} months)",
            *backtest(inspections, baseline(tuned)),
        )


if __name__ == "__main__":
    main()
