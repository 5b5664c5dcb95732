"""docker-compose.yml, Dockerfile and .env.example, checked without Docker: the stack is
well-formed, secrets come only from .env, and the compose services are the processes that
scripts/distributed_test.py runs (it reads them from the compose file; see test_distributed.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import compose_topology as topo  # noqa: E402

AIRFLOW_COMMANDS = {
    "airflow-apiserver": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
}
SECRET_WORDS = ("PASSWORD", "SECRET", "FERNET", "TOKEN")
CONTAINER_NAMES = (
    "@postgres:",
    "//redis:",
    "@redis:",
    "//airflow-apiserver",
    topo.CONTAINER_HOME,
    topo.CONTAINER_PROJECT,
)


def dotenv(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.fixture(scope="module")
def compose() -> dict:
    return topo.load_compose()


@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    """.env.example with its empty secrets filled in, as an operator would."""
    return {
        k: v or (f"filled-{k.lower()}" if any(w in k for w in SECRET_WORDS) else "")
        for k, v in dotenv(topo.ENV_EXAMPLE).items()
    }


def test_every_service_is_present_and_long_running_ones_are_health_checked(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", *topo.AIRFLOW_SERVICES}
    for name, svc in services.items():
        if name != "airflow-init":
            assert svc["healthcheck"]["test"], name
    for name in AIRFLOW_COMMANDS:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy", name


def test_airflow_services_run_the_components_of_a_celery_deployment(compose):
    for name, command in AIRFLOW_COMMANDS.items():
        assert topo.service_command(compose, name) == command
    assert topo.service_command(compose, "airflow-init") == [
        "python",
        f"{topo.CONTAINER_PROJECT}/scripts/airflow_init.py",
    ]
    assert (ROOT / "scripts" / "airflow_init.py").is_file()
    # worker scale-out: no fixed container name or host port that a second replica would clash on
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_every_airflow_component_shares_the_secrets_and_settings(example_env, compose):
    """One environment for all: differing JWT secrets or Fernet keys make workers fail their
    token checks or fail to read connections."""
    envs = {name: topo.service_environment(compose, name, example_env) for name in topo.AIRFLOW_SERVICES}
    common = envs["airflow-scheduler"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert common["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:{example_env['REDIS_PASSWORD']}@redis:6379/0"
    assert common["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert common["AIRFLOW_CONN_OFSTED_WAREHOUSE"].endswith(f"@postgres:5432/{example_env['WAREHOUSE_DB']}")
    assert common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"@postgres:5432/{example_env['AIRFLOW_DB']}")
    for name, env in envs.items():
        shared = {k: v for k, v in env.items() if k in common}
        assert shared == common, f"{name} differs from the scheduler"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == example_env["AIRFLOW_JWT_SECRET"]
        assert env["AIRFLOW__CORE__FERNET_KEY"] == example_env["AIRFLOW_FERNET_KEY"]


def test_health_checks_probe_the_ports_the_services_listen_on(example_env, compose):
    env = topo.service_environment(compose, "airflow-apiserver", example_env)
    api_test = " ".join(compose["services"]["airflow-apiserver"]["healthcheck"]["test"])
    assert f"localhost:{env['AIRFLOW__API__PORT']}/api/v2/monitor/health" in api_test
    assert compose["services"]["airflow-apiserver"]["ports"] == [
        "${AIRFLOW_API_BIND:-127.0.0.1}:${AIRFLOW_API_PORT:-8080}:8080"
    ]
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "localhost:8974/health" in " ".join(compose["services"]["airflow-scheduler"]["healthcheck"]["test"])


def test_secrets_come_only_from_env_variables(compose):
    text = topo.COMPOSE_FILE.read_text()
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS) and not key.endswith("_FILE"):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}.{key} must be a required ${{VAR}}"
    # credentials inside URLs too: user:password@ only as variables
    for _, password in re.findall(r"://([^:/@\s]*):([^@\s]*)@", text):
        assert password.startswith("${") and password.endswith("}"), f"literal password in a URL: {password}"


def test_env_example_lists_every_variable_and_commits_no_secret(example_env, compose):
    used = topo.variables_used(topo.COMPOSE_FILE.read_text())
    listed = dotenv(topo.ENV_EXAMPLE)
    assert used - set(listed) == set(), "variables the compose file reads but .env.example does not list"
    assert all(not v for k, v in listed.items() if any(w in k for w in SECRET_WORDS)), "secrets must be empty"
    # with .env.example filled in, every ${VAR:?...} resolves (compose would refuse to start otherwise)
    for name in compose["services"]:
        topo.service_environment(compose, name, example_env)


def test_a_missing_secret_stops_compose_with_its_message(compose):
    with pytest.raises(KeyError, match="set AIRFLOW_JWT_SECRET in .env"):
        topo.service_environment(
            compose,
            "airflow-scheduler",
            {"POSTGRES_PASSWORD": "x", "AIRFLOW_FERNET_KEY": "k", "AIRFLOW_API_SECRET_KEY": "s"},
        )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("${A}", "1"),
        ("${B:-d}", "d"),
        ("${B-d}", "d"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("x$${HOSTNAME}y", "x${HOSTNAME}y"),
        ("${A}:${A}", "1:1"),
    ],
)
def test_interpolation_follows_compose(value, expected):
    assert topo.interpolate(value, {"A": "1", "E": ""}) == expected


def test_the_local_topology_leaves_no_container_address_behind(example_env, compose):
    """What distributed_test.py maps (host names, paths) covers every container-only value."""
    addresses = {
        "postgres:5432": "127.0.0.1:5432",
        f":{example_env['REDIS_PASSWORD']}@redis:6379/0": "127.0.0.1:6379/9",
        "airflow-apiserver:8080": "127.0.0.1:18080",
    }
    paths = {topo.CONTAINER_HOME: "/tmp/home", topo.CONTAINER_PROJECT: str(ROOT)}
    for name in topo.AIRFLOW_SERVICES:
        command, env = topo.local_service(compose, name, example_env, addresses, paths)
        leftovers = [f"{k}={v}" for k, v in env.items() for c in CONTAINER_NAMES if c in v]
        leftovers += [arg for arg in command for c in CONTAINER_NAMES if c in arg]
        assert leftovers == [], name
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/9"
    assert env["OFSTED_LANDING"] == "/tmp/home/data/landing"
    for svc, key in topo.PER_PROCESS_PORTS.items():
        assert svc in compose["services"] and key.startswith("AIRFLOW__")


def test_dockerfile_installs_the_locked_dependencies_then_the_project():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    lock, project = (
        text.index("--require-hashes --no-deps -r /opt/ofsted/requirements.lock"),
        text.index("pip install --no-deps /opt/ofsted\n"),
    )
    assert lock < project
    # the paths the compose file relies on
    assert "COPY scripts /opt/ofsted/scripts" in text and "COPY dags /opt/airflow/dags" in text
    assert "COPY plugins /opt/airflow/plugins" in text  # the ratings view in the Airflow UI
    assert "AIRFLOW_HOME=/opt/airflow" in text
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # everything is left out of the build context unless re-included
    assert not any(line.startswith("!") and ".env" in line for line in ignored)


def test_localise_maps_longest_paths_first_and_only_once():
    paths = {"/opt/airflow": "/tmp/h", "/opt/airflow/dags": "/repo/dags", "/repo": "/never"}
    assert topo.localise("/opt/airflow/dags:/opt/airflow/logs", {}, paths) == "/repo/dags:/tmp/h/logs"
    assert topo.localise("redis://redis:6379/0", {"redis:6379/0": "127.0.0.1:6379/7"}, {}) == "redis://127.0.0.1:6379/7"


# -- issue 10: production hardening ------------------------------------------------------
def test_the_api_is_published_on_loopback_unless_told_otherwise(compose):
    [mapping] = compose["services"]["airflow-apiserver"]["ports"]
    assert topo.interpolate(mapping, {}) == "127.0.0.1:8080:8080"
    assert dotenv(topo.ENV_EXAMPLE)["AIRFLOW_API_BIND"] == "127.0.0.1"


def test_the_warehouse_has_its_own_role_not_the_superuser(example_env, compose):
    env = topo.service_environment(compose, "airflow-scheduler", example_env)
    warehouse = urlsplit(env["AIRFLOW_CONN_OFSTED_WAREHOUSE"])
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert warehouse.username == example_env["WAREHOUSE_USER"] != metadata.username
    assert warehouse.password == example_env["WAREHOUSE_PASSWORD"] != metadata.password
    init = topo.service_environment(compose, "airflow-init", example_env)
    assert urlsplit(init["OFSTED_DB_ADMIN_URL"]).username == metadata.username


def test_redis_requires_the_password_the_broker_url_carries(example_env, compose):
    redis_service = compose["services"]["redis"]
    assert "--requirepass" in " ".join(redis_service["command"])
    assert topo.service_environment(compose, "redis", example_env)["REDIS_PASSWORD"] == example_env["REDIS_PASSWORD"]
    assert "$$REDIS_PASSWORD" in " ".join(redis_service["healthcheck"]["test"])
    broker = topo.service_environment(compose, "airflow-worker", example_env)["AIRFLOW__CELERY__BROKER_URL"]
    assert urlsplit(broker).password == example_env["REDIS_PASSWORD"]


def test_init_refuses_a_jwt_secret_under_64_bytes():
    import airflow_init

    with pytest.raises(SystemExit, match="at least 64"):
        airflow_init.check_secrets({"AIRFLOW__API_AUTH__JWT_SECRET": "x" * 63})
    with pytest.raises(SystemExit, match="at least 64"):
        airflow_init.check_secrets({})
    airflow_init.check_secrets({"AIRFLOW__API_AUTH__JWT_SECRET": "é" * 32})  # 64 bytes
    assert "64" in dotenv_comments("AIRFLOW_JWT_SECRET")


def dotenv_comments(key: str) -> str:
    """The comment lines just above `key` in .env.example."""
    lines = topo.ENV_EXAMPLE.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key}="))
    above = []
    for line in reversed(lines[:at]):
        if not line.startswith("#"):
            break
        above.append(line)
    return "\n".join(above)


def test_init_creates_a_least_privilege_warehouse_role_that_owns_its_database():
    import uuid

    import airflow_init
    import psycopg

    from etl.warehouse import connect, migrate
    from tests.support.warehouse_fixtures import PG_ADMIN_URL

    tag = f"ofsted_t_{uuid.uuid4().hex[:8]}"
    server = PG_ADMIN_URL.rsplit("/", 1)[0]  # postgresql://postgres@host:port
    warehouse = f"postgresql://{tag}:pw-{tag}@{server.split('@', 1)[1]}/{tag}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{tag}"')  # an older stack's warehouse ...
        with psycopg.connect(f"{server}/{tag}", autocommit=True) as old:
            old.execute("CREATE TABLE legacy (x INTEGER)")  # ... with a table the superuser made
        for _ in range(2):  # idempotent
            airflow_init.ensure_warehouse(PG_ADMIN_URL, warehouse)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            role = admin.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = %s", (tag,)
            ).fetchone()
            owner = admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (tag,)
            ).fetchone()
        assert role == (False, False, False, True) and owner == (tag,)
        with connect(warehouse) as wh:  # the role runs the schema
            assert migrate(wh) >= 4
            wh.execute("INSERT INTO legacy VALUES (1)")
            assert wh.fetchone("SELECT current_user")[0] == tag
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{tag}"')
