"""How long `ofsted --help` (and a query's --help) takes: the command line imports only what a
command needs, inside the command (etl/cli). Prints the median and fastest of N runs.

    .venv/bin/python bench/bench_cli.py [N] [OFSTED_EXECUTABLE]
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
OFSTED = sys.argv[2] if len(sys.argv) > 2 else str(Path(sys.executable).with_name("ofsted"))


def timed(argv: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (user + system: steadier on a busy machine) of each run."""
    wall, cpu = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([OFSTED, *argv], stdout=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


if __name__ == "__main__":
    for argv in (["--help"], ["query", "--help"]):
        wall, cpu = timed(argv)
        print(
            f"ofsted {' '.join(argv)}: median {statistics.median(wall) * 1000:.0f} ms,"
            f" fastest {min(wall) * 1000:.0f} ms, CPU median {statistics.median(cpu) * 1000:.0f} ms ({RUNS} runs)"
        )
