"""Refreshes are serialised across processes: a PostgreSQL advisory lock per name
(`Warehouse.exclusive`); DuckDB's single writer already serialises. (Concurrent alert senders
are kept apart by per-message claims: tests/test_alert_delivery.py.)"""

from __future__ import annotations

import threading

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
        errors = in_parallel(pg_url, lambda wh, i, round_=round_: changes.refresh(wh, f"run-{round_}-{i}"))
        assert errors == []
    with connect(pg_url) as wh:
        rows = wh.fetchone("SELECT COUNT(*) FROM rating_history")[0]
        changes.refresh(wh, "check")
        assert wh.fetchone("SELECT COUNT(*) FROM rating_history")[0] == rows > 0


def _advisory_locks(wh) -> int:
    """Advisory locks held in this test's database (the server is shared with other tests)."""
    return wh.fetchone(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database ="
        " (SELECT oid FROM pg_database WHERE datname = current_database())"
    )[0]


def in_thread(work) -> threading.Thread:
    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def test_exclusive_blocks_a_second_holder_until_the_first_lets_go(pg_url):
    order: list[str] = []

    def takes(wh, name: str):
        def work():
            with wh.exclusive(name):
                order.append(f"{name} taken")

        return work

    with connect(pg_url) as first, connect(pg_url) as second, connect(pg_url) as third:
        with first.exclusive("changes"):
            waiting = in_thread(takes(second, "changes"))
            waiting.join(0.5)
            assert waiting.is_alive() and order == []  # blocked on the lock
            other = in_thread(takes(third, "alerts"))  # other names are independent
            other.join(5)
            assert not other.is_alive() and order == ["alerts taken"]
            order.append("first done")
        waiting.join(5)
        assert not waiting.is_alive()
        assert order == ["alerts taken", "first done", "changes taken"]
        assert _advisory_locks(first) == 0  # every holder let go


def test_exclusive_is_re_entrant_and_released_once_on_postgres(pg_url):
    with connect(pg_url) as wh, connect(pg_url) as other:
        with wh.exclusive("changes"):
            with wh.exclusive("changes"):  # the same session: no self-deadlock
                assert _advisory_locks(other) == 1
            assert _advisory_locks(other) == 1  # held until the outer block ends
        assert _advisory_locks(other) == 0


def test_exclusive_is_a_no_op_on_duckdb(tmp_path):
    """DuckDB's one writing process per file serialises already: the block runs at once and asks
    the engine nothing (pg_advisory_lock does not exist there: calling it would raise)."""
    with connect(f"duckdb:///{tmp_path}/w.duckdb") as wh:
        migrate(wh)
        with wh.exclusive("changes") as held:
            with held.exclusive("changes"):
                wh.execute(
                    "INSERT INTO pipeline_runs (run_id, started_at, status) VALUES ('r', CURRENT_TIMESTAMP, 'running')"
                )
        assert held is wh
        assert wh.fetchall("SELECT run_id FROM pipeline_runs") == [("r",)]
