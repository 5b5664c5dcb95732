"""One-off initialisation of the production stack, run by docker compose's `airflow-init` service and
by scripts/distributed_test.py, from the same environment:

0. refuse secrets too weak to run with (the JWT secret: at least 64 bytes);
1. create the Airflow metadata database if missing, and the warehouse's own least-privilege role
   and database (PostgreSQL; with the superuser of OFSTED_DB_ADMIN_URL);
2. `airflow db migrate`;
3. the admin user's password for Airflow's simple auth manager (from AIRFLOW_ADMIN_PASSWORD);
4. `ofsted migrate`: create or upgrade the warehouse schema, as the warehouse role.

Idempotent: safe to run on every deploy and upgrade.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

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


MIN_JWT_SECRET_BYTES = 64  # Airflow signs task tokens with HS512: a shorter key is brute-forceable


def check_secrets(env) -> None:
    secret = env.get("AIRFLOW__API_AUTH__JWT_SECRET", "")
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise SystemExit(
            f"AIRFLOW_JWT_SECRET is {len(secret.encode())} bytes; it must be at least "
            f'{MIN_JWT_SECRET_BYTES} (python -c "import secrets; print(secrets.token_urlsafe(64))")'
        )


def ensure_warehouse(admin_url: str, warehouse_url: str) -> None:
    """The warehouse's role (LOGIN, no superuser, no CREATEDB/CREATEROLE) with the URL's password,
    and its database owned by that role; objects an earlier version created as another user are
    handed to it. With the admin's own user in the URL, only the database is ensured."""
    admin, url = urlsplit(_plain_postgres_url(admin_url)), urlsplit(_plain_postgres_url(warehouse_url))
    if not url.scheme.startswith("postgresql"):
        return  # e.g. a DuckDB warehouse: created on first connect
    role, name = unquote(url.username or ""), url.path.lstrip("/")
    if role == unquote(admin.username or ""):
        return ensure_database(warehouse_url)
    password = unquote(url.password or "")
    with psycopg.connect(urlunsplit(admin._replace(path="/postgres")), autocommit=True) as conn:
        verb = "ALTER" if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(role), sql.Literal(password)
            )
        )
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(role)))
            print(f"created database {name} owned by {role}", flush=True)
        else:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(role)))
    with psycopg.connect(urlunsplit(admin._replace(path=f"/{name}")), autocommit=True) as conn:
        for kind, obj in conn.execute(
            "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S', 'p')"
            " AND pg_get_userbyid(c.relowner) <> %s",
            (role,),
        ).fetchall():
            conn.execute(
                sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind), sql.Identifier(obj), sql.Identifier(role))
            )


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
    check_secrets(env)
    ensure_database(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    warehouse = env.get("AIRFLOW_CONN_OFSTED_WAREHOUSE") or env.get("OFSTED_WAREHOUSE_URL")
    if warehouse:
        ensure_warehouse(env.get("OFSTED_DB_ADMIN_URL") or env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], warehouse)
    run("airflow", "db", "migrate")
    write_admin_password(env)
    run("ofsted", "migrate")
    chown_volumes(env)
    print("airflow-init: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
