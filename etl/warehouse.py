"""The warehouse connection: one thin adapter over DuckDB (embedded default) and PostgreSQL
(production), named by one URL, plus versioned schema migrations.

All SQL in the project uses `?` placeholders and a dialect subset both engines run; the
adapter rewrites placeholders for psycopg. Values are always bound, never formatted in.
Migrations are the numbered files in `etl/sql/migrations/` (`NNN_name.sql`), applied in order
and recorded in `schema_migrations`; a sibling `NNN_name.duckdb.sql` or `NNN_name.postgresql.sql`
holds what only one engine has (PostgreSQL's text search columns), applied right after it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "sql" / "migrations"
# an arbitrary constant: the Postgres advisory lock key that serialises migrations
MIGRATION_LOCK_KEY = 0x0F57ED


class WarehouseError(RuntimeError):
    """The warehouse URL or schema is not usable. The adapter raises its own errors (this and
    the classes below), never an engine's: callers need not know which engine answered."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be opened now: the server does not answer, or another process holds
    the DuckDB file past the wait."""


class MissingTable(WarehouseError):
    """A statement names a table or view the warehouse lacks: it is not migrated (that far)."""


class StatementFailed(WarehouseError):
    """The engine refused a statement (the engine's message; its error is the __cause__)."""


def _engine_errors(engine: str) -> tuple[type[Exception], Callable[[Exception], bool]]:
    """An engine's base error class, and whether one of its errors says "no such table or view"
    (DuckDB's CatalogException also says "already exists")."""
    if engine == "duckdb":
        import duckdb

        return duckdb.Error, lambda e: isinstance(e, duckdb.CatalogException) and "does not exist" in str(e)
    import psycopg

    return psycopg.Error, lambda e: isinstance(e, psycopg.errors.UndefinedTable)


def _own_error(exc: Exception, missing: Callable[[Exception], bool]) -> WarehouseError:
    return (MissingTable if missing(exc) else StatementFailed)(str(exc))


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(f"ofsted:{name}".encode()).digest()[:8], "big", signed=True)


def _duckdb_path(url: str) -> str:
    rest = url[len("duckdb://") :]
    if rest in ("", "/:memory:", ":memory:"):
        return ":memory:"
    return rest  # duckdb:///abs/path -> /abs/path; duckdb://rel/path -> rel/path


def _to_pyformat(sql: str) -> str:
    """`?` -> `%s` and `%` -> `%%` outside quoted strings and identifiers (psycopg's style)."""
    out, quote = [], None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def split_statements(script: str) -> list[str]:
    """A migration file's statements: split on `;` ending a line, `--` comments dropped."""
    lines = [re.sub(r"--.*$", "", line) for line in script.splitlines()]
    text = "\n".join(lines)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


class Warehouse:
    """An open connection. Use as a context manager; `transaction()` makes a block atomic."""

    def __init__(self, url: str, engine: str, conn: Any):
        self.url, self.engine, self._conn = url, engine, conn
        self._in_tx = False
        self._sql_cache: dict[str, str] = {}
        self._types_cache: dict[str, dict[str, str]] = {}
        self._error, self._missing = _engine_errors(engine)

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All-or-nothing block. Nested calls join the outer transaction."""
        if self._in_tx:
            yield self
            return
        self._in_tx = True
        try:
            if self.engine == "postgresql":
                with self._conn.transaction():
                    yield self
            else:
                self._conn.execute("BEGIN TRANSACTION")
                try:
                    yield self
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        finally:
            self._in_tx = False

    @contextmanager
    def exclusive(self, name: str) -> Iterator[Warehouse]:
        """Hold the warehouse-wide lock `name` for the block: one holder at a time across every
        process and machine (a PostgreSQL session advisory lock; others wait). A no-op on
        DuckDB, whose file has one writing process at a time anyway. Re-entrant."""
        if self.engine != "postgresql":
            yield self
            return
        key = _lock_key(name)
        self.execute("SELECT pg_advisory_lock(?)", [key])
        try:
            yield self
        finally:
            if self._conn is not None and not self._conn.closed:
                self.execute("SELECT pg_advisory_unlock(?)", [key])

    # -- statements --------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        if self.engine == "duckdb":
            return sql
        cached = self._sql_cache.get(sql)
        if cached is None:
            cached = self._sql_cache[sql] = _to_pyformat(sql)
        return cached

    def _run(self, sql: str, params: Sequence[Any]):
        try:
            if self.engine == "duckdb":
                return self._conn.execute(sql, list(params) if params else None)
            cur = self._conn.cursor()
            cur.execute(self._sql(sql), tuple(params) if params else None)
            return cur
        except self._error as exc:
            raise _own_error(exc, self._missing) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        cur = self._run(sql, params)
        if self.engine == "postgresql":
            cur.close()

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cur = self._run(sql, params)
        rows = [tuple(r) for r in cur.fetchall()]
        if self.engine == "postgresql":
            cur.close()
        return rows

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def has_table(self, name: str) -> bool:
        """Whether the schema has this table or view (a warehouse not migrated that far has not)."""
        return bool(self.fetchall("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]))

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Column names and rows, for output that needs headers."""
        cur = self._run(sql, params)
        names = [d[0] for d in cur.description] if cur.description else []
        rows = [tuple(r) for r in cur.fetchall()]
        if self.engine == "postgresql":
            cur.close()
        return names, rows

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        conflict: Sequence[str] | None = None,
        update: Sequence[str] = (),
        update_where: str | None = None,
    ) -> int:
        """Bulk INSERT in one statement: each column is bound as one array and unnested (both
        engines zip equal-length unnests), so 3,000 rows cost one round trip and one plan.
        With `conflict`, an upsert: ON CONFLICT (conflict) DO UPDATE SET update...
        [WHERE update_where] or DO NOTHING; an `update` item is a column (set from EXCLUDED) or
        a whole "col = expr". Rows must be unique on the conflict key (both engines reject
        repeats within one statement)."""
        rows = list(rows)
        if not rows:
            return 0
        types = self._column_types(table)
        unnests = ", ".join(f"unnest(CAST(? AS {types[c]}[]))" for c in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {unnests}"
        if conflict:
            if update:
                sets = ", ".join(c if "=" in c else f"{c} = EXCLUDED.{c}" for c in update)
                sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
                if update_where:
                    sql += f" WHERE {update_where}"
            else:
                sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
        self.execute(sql, [list(col) for col in zip(*rows)])
        return len(rows)

    def copy(self, sql: str):
        """PostgreSQL's `COPY ... FROM STDIN` as psycopg's writer (`with wh.copy(sql) as c:
        c.write(data)`), for bulk rows an INSERT's parameters would cost more to parse."""
        if self.engine != "postgresql":
            raise NotImplementedError("COPY FROM STDIN is PostgreSQL's")
        return self._conn.cursor().copy(sql)

    def _column_types(self, table: str) -> dict[str, str]:
        """Column -> SQL type name, as the engine reports it (usable in CAST on that engine)."""
        types = self._types_cache.get(table)
        if types is None:
            types = self._types_cache[table] = dict(
                self.fetchall(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name = ? AND table_schema = current_schema()",
                    [table],
                )
            )
            if not types:
                raise MissingTable(f"no table {table!r} in the warehouse: run `ofsted migrate`")
        return types

    def executescript(self, script: str) -> None:
        for stmt in split_statements(script):
            self.execute(stmt)


def _connect_duckdb(url: str, lock_wait: float) -> Any:
    import duckdb

    path = _duckdb_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path)
        except duckdb.IOException as exc:
            # one writer process per file: another stage holds it; wait for it to close
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise WarehouseUnavailable(f"cannot open the warehouse {path}: {exc}") from exc
        except duckdb.Error as exc:  # not a DuckDB file, say
            raise WarehouseUnavailable(f"cannot open the warehouse {path}: {exc}") from exc
            log.info("warehouse %s is busy; retrying in %.1fs", path, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def exists(url: str) -> bool:
    """False for a DuckDB file not created yet (connecting would create it)."""
    from etl.config import normalise_db_url

    url = normalise_db_url(url)
    return not url.startswith("duckdb:") or _duckdb_path(url) == ":memory:" or Path(_duckdb_path(url)).exists()


def connect(url: str, *, lock_wait: float = 120.0) -> Warehouse:
    """Open the warehouse named by `url`: duckdb:///path/file.duckdb or postgresql://...
    A DuckDB file is locked by one process at a time, so open it per operation and close it
    (use `with connect(url) as wh:`); a busy file is retried for up to `lock_wait` seconds."""
    from etl.config import normalise_db_url
    from etl.redact import redact

    url = normalise_db_url(url)
    if url.startswith("duckdb:"):
        return Warehouse(url, "duckdb", _connect_duckdb(url, lock_wait))
    if url.startswith("postgresql://"):
        import psycopg

        try:
            return Warehouse(url, "postgresql", psycopg.connect(url, autocommit=True))
        except psycopg.Error as exc:  # libpq quotes a malformed URL, password and all
            raise WarehouseUnavailable(f"cannot connect to the warehouse {redact(url)}: {redact(exc)}") from None
    raise WarehouseError(f"unsupported warehouse URL {redact(url)!r}: expected duckdb:///path or postgresql://...")


# -- migrations ------------------------------------------------------------------------
# (old version, new version, name): migrations renumbered so the files sort in the order they apply
RENUMBERED = ((17, 9, "summary_views"),)


def migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str, Path]]:
    """(version, name, path) of every `NNN_name.sql`, in order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        if re.fullmatch(r"\d+_\w+\.(duckdb|postgresql)\.sql", path.name):
            continue  # one engine's part of a migration: applied with it
        m = re.fullmatch(r"(\d+)_(\w+)\.sql", path.name)
        if not m:
            raise WarehouseError(f"migration file name not NNN_name.sql: {path.name}")
        found.append((int(m.group(1)), m.group(2), path))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"duplicate migration versions in {directory}")
    return found


def _lock_and_ensure_table(wh: Warehouse) -> None:
    if wh.engine == "postgresql":
        # serialises concurrent migrators; released at the end of the transaction
        wh.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY])
    wh.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    for old, new, name in RENUMBERED:  # a migration applied under its old number keeps its record
        wh.execute("UPDATE schema_migrations SET version = ? WHERE version = ? AND name = ?", [new, old, name])


def schema_version(wh: Warehouse) -> int:
    with wh.transaction():
        _lock_and_ensure_table(wh)
        row = wh.fetchone("SELECT MAX(version) FROM schema_migrations")
    return row[0] or 0 if row else 0


def migrate(wh: Warehouse, *, target: int | None = None) -> int:
    """Apply pending migrations in order (each in its own transaction, under a Postgres
    advisory lock so two processes can race safely); returns the schema version."""
    from datetime import datetime

    version = 0
    for number, name, path in migrations():
        if target is not None and number > target:
            break
        with wh.transaction():
            _lock_and_ensure_table(wh)
            if wh.fetchone("SELECT 1 FROM schema_migrations WHERE version = ?", [number]):
                version = number
                continue
            log.info("warehouse: applying migration %03d_%s", number, name)
            wh.executescript(path.read_text(encoding="utf-8"))
            engine_part = path.with_suffix(f".{wh.engine}.sql")
            if engine_part.exists():
                wh.executescript(engine_part.read_text(encoding="utf-8"))
            wh._types_cache.clear()  # columns may have changed
            wh.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [number, name, datetime.now()],
            )
            version = number
    return schema_version(wh) if version == 0 else max(version, schema_version(wh))
