"""The production topology as docker-compose.yml describes it, for running without Docker.

scripts/distributed_test.py takes each Airflow service's command and environment from the compose
file through this module, so the processes CI tests and the containers operators deploy cannot
drift apart. Only what differs between containers and processes on one host is changed:
service host names become loopback addresses, container paths become local folders, and ports
that several processes would share on one host get their own values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# The Airflow services the distributed test runs as processes (airflow-init runs once first).
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
# Ports with a fixed value inside each container that would collide between processes on one host.
PER_PROCESS_PORTS = {
    "airflow-apiserver": "AIRFLOW__API__PORT",
    "airflow-scheduler": "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "airflow-triggerer": "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    "airflow-worker": "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
}
CONTAINER_HOME = "/opt/airflow"  # AIRFLOW_HOME in the image
CONTAINER_PROJECT = "/opt/ofsted"  # the project's source tree in the image (Dockerfile)

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, and $$ for a literal $
_VAR = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    with open(path) as f:
        return yaml.safe_load(f)  # safe_load resolves the `<<: *anchor` merge keys


def variables_used(text: str) -> set[str]:
    """Every ${VAR} a compose file reads from the environment / .env."""
    return {m["name"] for m in _VAR.finditer(text) if m["name"]}


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Docker Compose's variable substitution, for the forms the compose file uses."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m["name"], m["op"], m["arg"]
        value = variables.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op and op.endswith("?") and unset:
            raise KeyError(f"{name}: {arg or 'required variable is not set'}")
        if op and op.endswith("-") and unset:
            return arg
        return value or ""

    return _VAR.sub(sub, str(value))


def service_environment(compose: Mapping[str, Any], service: str, variables: Mapping[str, str]) -> dict[str, str]:
    env = compose["services"][service].get("environment") or {}
    return {key: interpolate(val, variables) for key, val in env.items()}


def service_command(compose: Mapping[str, Any], service: str) -> list[str]:
    command = compose["services"][service]["command"]
    return list(command) if isinstance(command, list) else command.split()


def localise(value: str, addresses: Mapping[str, str], paths: Mapping[str, str]) -> str:
    """Container view → one-host view: `postgres:5432` → `127.0.0.1:5432`, /opt/airflow/x → tmp/x.
    One pass, longest match first (/opt/airflow/dags before /opt/airflow), so no replacement is
    replaced again."""
    mapping = {**addresses, **paths}
    pattern = "|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True))
    return re.sub(pattern, lambda m: mapping[m.group(0)], value) if mapping else value


def local_service(
    compose: Mapping[str, Any],
    service: str,
    variables: Mapping[str, str],
    addresses: Mapping[str, str],
    paths: Mapping[str, str],
) -> tuple[list[str], dict[str, str]]:
    """The service's (command, environment) as a process on this host."""
    env = {k: localise(v, addresses, paths) for k, v in service_environment(compose, service, variables).items()}
    command = [localise(arg, addresses, paths) for arg in service_command(compose, service)]
    return command, env
