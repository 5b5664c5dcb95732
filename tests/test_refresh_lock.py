"""Refreshes are serialised across processes: a PostgreSQL advisory lock per name
(`Warehouse.exclusive`); DuckDB's single writer already serialises. (Concurrent alert senders
are kept apart by per-message claims: tests/test_alert_delivery.py.)"""
from __future__ import annotations

import threading
import time

import pytest

from etl import changes
from etl.warehouse import connect, migrate
from tests.support.warehouse_fixtures import fresh_postgres_url, load_sample


@pytest.fixture
def pg_url():
    with fresh_postgres_url() as url:
        with connect(url) as wh:
            migrate(wh)
            load_sample(wh, refresh=False)
        yield url


def in_parallel(url: str, work, n: int = 4) -> list[BaseException]:
    barrier, errors = threading.Barrier(n), []

    def one(i: int) -> None:
        try:
            with connect(url) as wh:
                barrier.wait()
                work(wh, i)
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_refreshes_on_postgres_all_succeed_with_one_history(pg_url):
    for round_ in range(5):
        errors = in_parallel(pg_url, lambda wh, i: changes.refresh(wh, f"run-{round_}-{i}"))
        assert errors == []
    with connect(pg_url) as wh:
        rows = wh.fetchone("SELECT COUNT(*) FROM rating_history")[0]
        changes.refresh(wh, "check")
        assert wh.fetchone("SELECT COUNT(*) FROM rating_history")[0] == rows > 0


def test_exclusive_blocks_a_second_holder_until_the_first_lets_go(pg_url):
    order: list[str] = []
    with connect(pg_url) as first, connect(pg_url) as second:
        with first.exclusive("changes"):
            t = threading.Thread(target=lambda: (second.exclusive("changes").__enter__(), order.append("second")))
            t.start()
            time.sleep(0.3)
            order.append("first done")
        t.join(5)
        assert order == ["first done", "second"]
        with first.exclusive("alerts"):         # other names are independent
            pass


def test_exclusive_is_a_no_op_on_duckdb(tmp_path):
    with connect(f"duckdb:///{tmp_path}/w.duckdb") as wh:
        with wh.exclusive("changes"):
            with wh.exclusive("changes"):
                wh.execute("SELECT 1")
