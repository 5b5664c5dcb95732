"""One-off initialisation of the production stack, run by docker compose's `airflow-init` service and
by scripts/distributed_test.py, from the same environment:

1. create the Airflow metadata and warehouse databases if missing (PostgreSQL);
2. `airflow db migrate`;
3. the admin user's password for Airflow's simple auth manager (from AIRFLOW_ADMIN_PASSWORD);
4. `ofsted migrate`: create or upgrade the warehouse schema.

Idempotent: safe to run on every deploy and upgrade.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def _plain_postgres_url(url: str) -> str:
    """postgresql+psycopg2://… or postgres://… → postgresql://… (what psycopg accepts)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.split("+")[0] in ("postgresql", "postgres") else url


def ensure_database(url: str) -> None:
    """CREATE DATABASE for the url's database unless it exists (needs CREATEDB on the server)."""
    url = _plain_postgres_url(url)
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        return  # e.g. a DuckDB warehouse: created on first connect
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", flush=True)


def write_admin_password(env: os._Environ[str] | dict[str, str]) -> None:
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({env.get("AIRFLOW_ADMIN_USER", "admin"): env["AIRFLOW_ADMIN_PASSWORD"]}) + "\n")
    path.chmod(0o600)


def chown_volumes(env: os._Environ[str] | dict[str, str]) -> None:
    """In the container init runs as root; the other services run as AIRFLOW_UID:0."""
    uid = env.get("AIRFLOW_UID")
    if os.geteuid() != 0 or not uid:
        return
    home = Path(env.get("AIRFLOW_HOME", "/opt/airflow"))
    for sub in ("data", "logs", "auth"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", f"{uid}:0", str(home / sub)], check=True)


def run(*cmd: str) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> int:
    env = os.environ
    ensure_database(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    warehouse = env.get("AIRFLOW_CONN_OFSTED_WAREHOUSE") or env.get("OFSTED_WAREHOUSE_URL")
    if warehouse:
        ensure_database(warehouse)
    run("airflow", "db", "migrate")
    write_admin_password(env)
    run("ofsted", "migrate")
    chown_volumes(env)
    print("airflow-init: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
