"""Progress of a long loop: a bar on a terminal, log lines (every tenth) elsewhere, e.g. in Airflow."""
from __future__ import annotations

import logging
import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def track(items: Iterable[T], total: int, unit: str, *, show_bar: bool | None = None,
          logger: logging.Logger | None = None) -> Iterator[T]:
    """Yield `items`, reporting progress; `show_bar=None` means "when stderr is a terminal"."""
    if show_bar is None:
        show_bar = sys.stderr.isatty()
    if show_bar:
        from tqdm import tqdm
        yield from tqdm(items, total=total, unit=unit, file=sys.stderr)
        return
    logger = logger or logging.getLogger(__name__)
    step = max(total // 10, 1)
    for i, item in enumerate(items, 1):
        if i % step == 0 or i == total:
            logger.info("%s: %d/%d", unit, i, total)
        yield item
