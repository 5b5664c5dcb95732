"""The production topology without containers: Airflow's api-server, scheduler, dag-processor,
triggerer and two Celery workers as separate processes against the local PostgreSQL and Redis,
with the warehouse in PostgreSQL and a landing store the workers share.

Each process runs the command and environment of its service in docker-compose.yml (see
scripts/compose_topology.py). The test triggers `ofsted_ingest` against the fake Ofsted site
through the REST API, twice, each time with a fault injected mid-run:

1. SIGKILL one Celery worker (and every process under it, as when a container dies) while its
   download tasks are half-way through their batches: each has stored a file in the landing
   store that it has not yet reported. The tasks are retried on the surviving worker, and
   those files must still reach the warehouse;
2. in a second run that re-parses every file, restart the scheduler while tasks run.

Each run must succeed, and the warehouse must then hold exactly what the fake site serves
(publications, files, reports, judgements), with no duplicate key in any table. Everything started is stopped, and the databases, Redis keys and
temporary folder are removed, even on failure or Ctrl-C.

With --pace it measures instead (a benchmark, no faults): a first and a repeat run against a
fake site of --councils councils, each run's wall time (the run's start to end), the requests
the site received and the pace ratio = wall time / (requests / rate).

    .venv/bin/python scripts/distributed_test.py [--councils 4] [--dags DIR] [--keep]
    .venv/bin/python scripts/distributed_test.py --pace --councils 150 --requests-per-second 2
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis
import requests
from cryptography.fernet import Fernet
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compose_topology as topo  # noqa: E402

ROOT = topo.ROOT
sys.path.insert(0, str(ROOT))
DAG_ID = "ofsted_ingest"
PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
WORKERS = ("worker1", "worker2")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GiveUp(RuntimeError):
    """Waiting any longer is pointless: a process we started exited, or the run ended."""


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll check() until it returns something truthy; its last exception explains a timeout."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except GiveUp:
            raise
        except Exception as exc:  # noqa: BLE001 — keep polling; report the last error on timeout
            last = exc
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last!r})" if last else "")
    )


# --------------------------------------------------------------------------- processes
@dataclass
class Processes:
    """Every process we start gets its own session (process group) and log file; stop() ends the
    group and any descendant that left it (Airflow puts each task in a process group of its own)."""

    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        self.procs[name] = proc
        log(f"started {name} (pid {proc.pid}): {' '.join(cmd)}")
        return proc

    def tree(self, name: str) -> list[psutil.Process]:
        try:
            leader = psutil.Process(self.procs[name].pid)
            return [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    @staticmethod
    def _sigkill(processes: list[psutil.Process]) -> None:
        for p in processes:
            try:
                p.kill()  # psutil checks the pid was not reused meanwhile
            except psutil.NoSuchProcess:
                pass

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything under it: a container dying."""
        self._sigkill(self.tree(name))
        self.procs[name].wait(timeout=30)

    def stop(self, name: str, timeout: float = 30) -> None:
        proc = self.procs.get(name)
        if proc is None:
            return
        tree = self.tree(name)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in {timeout:.0f}s; killing it")
        self._sigkill(tree)  # stragglers, including tasks in process groups of their own
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            try:
                self.stop(name, timeout=20)
            except Exception as exc:  # noqa: BLE001 — stop the rest regardless
                log(f"stopping {name}: {exc!r}")

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None and n != "airflow-init"}
        if dead:
            raise GiveUp(f"processes exited unexpectedly: {dead} (logs in {self.log_dir})")


# --------------------------------------------------------------------------- REST API
class Api:
    def __init__(self, base: str, user: str, password: str):
        self.base, self.session = base, requests.Session()
        self.user, self.password = user, password

    def login(self) -> None:
        r = self.session.post(
            f"{self.base}/auth/token", json={"username": self.user, "password": self.password}, timeout=30
        )
        r.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(self, method: str, path: str, **kw: Any) -> Any:
        r = self.session.request(method, f"{self.base}/api/v2{path}", timeout=30, **kw)
        if r.status_code == 401:  # token expired: log in again once
            self.login()
            r = self.session.request(method, f"{self.base}/api/v2{path}", timeout=30, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None

    def health(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/api/v2/monitor/health", timeout=10).json()

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})[
            "task_instances"
        ]


# --------------------------------------------------------------------------- the fake site
ILACS_AREAS = {
    "ilacs_2018": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"),
    "ilacs_2023": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"),
}
GRADES = ("outstanding", "good", "requires_improvement", "inadequate")


def build_site(councils: int, file_delay: float):
    """Per council: two graded inspections (grades change between them) and a focused-visit letter,
    each file's first answer `file_delay` seconds late (retries are quick). Returns the site (not
    yet serving) and what the warehouse must hold after a run."""
    from tests.support.fakesite import KNOWN_COUNCILS, FakeOfstedSite, Fault
    from tests.support.synth_reports import letter_pdf, report_pdf

    site = FakeOfstedSite(councils=0, publications=False)
    expected = {"publications": 0, "stored_files": 0, "reports": 0, "graded_reports": 0, "judgements": 0}
    for i in range(councils):
        urn, name = KNOWN_COUNCILS[i]
        site.add_council(urn, name)
        for n, (framework, end) in enumerate(
            (("ilacs_2018", date(2019, 3, 1 + i)), ("ilacs_2023", date(2023, 6, 1 + i)))
        ):
            grades = {area: GRADES[(i + n + k) % len(GRADES)] for k, area in enumerate(ILACS_AREAS[framework])}
            site.add_publication(
                urn,
                "inspection",
                end + timedelta(days=45),
                report_pdf(framework, name, grades, inspection_start=end - timedelta(days=11), inspection_end=end),
            )
            expected["graded_reports"] += 1
            expected["judgements"] += len(grades)
        site.add_publication(
            urn,
            "focused_visit",
            date(2021, 2, 1 + i),
            letter_pdf("focused_visit", name, visit_start=date(2020, 12, 1 + i), visit_end=date(2020, 12, 2 + i)),
        )
        expected["publications"] += 3
        expected["stored_files"] += 3
        expected["reports"] += 3  # every stored file gets one row in reports (letters: not graded)
    for file_id in site.files:
        site.inject(f"/v1/file/{file_id}", Fault.delay(file_delay))
    return site, expected


def build_pace_site(councils: int):
    """The fake site's default publications (3-6 per council) for the pace benchmark."""
    from tests.support.fakesite import FakeOfstedSite

    return FakeOfstedSite(councils=councils), {}


# --------------------------------------------------------------------------- warehouse checks
# Natural keys of the warehouse tables (DESIGN.md, "Warehouse"): a duplicate is two rows with one key.
TABLE_KEYS = {
    "reports": ("report_id",),
    "judgements": ("report_id", "area"),
    "publications": ("url",),
    "stored_files": ("sha256", "url"),
    "rating_history": ("urn", "area", "valid_from"),
    "change_events": ("change_id",),
}


def warehouse_figures(url: str) -> dict[str, dict[str, int]]:
    """Rows and duplicate keys per table (tables not yet created count as 0)."""
    figures = {}
    with psycopg.connect(url) as conn:
        graded = "SELECT count(*) FROM reports WHERE framework IS NOT NULL"
        if conn.execute("SELECT to_regclass('reports')").fetchone()[0] is not None:
            figures["graded_reports"] = {"rows": conn.execute(graded).fetchone()[0], "duplicates": 0}
        for table, key in TABLE_KEYS.items():
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                figures[table] = {"rows": 0, "duplicates": 0}
                continue
            cols = sql.SQL(", ").join(map(sql.Identifier, key))
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            dups = conn.execute(
                sql.SQL("SELECT count(*) FROM (SELECT {c} FROM {t} GROUP BY {c} HAVING count(*) > 1) d").format(
                    c=cols, t=sql.Identifier(table)
                )
            ).fetchone()[0]
            figures[table] = {"rows": rows, "duplicates": dups}
    return figures


# --------------------------------------------------------------------------- the test
class DistributedTest:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.tag = f"ofsted_dt_{secrets.token_hex(4)}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.tag}_"))
        (self.tmp / "proc-logs").mkdir()
        self.procs = Processes(self.tmp / "proc-logs")
        self.compose = topo.load_compose()
        self.redis_db: int | None = None
        self.ports = {svc: free_port() for svc in topo.PER_PROCESS_PORTS}
        self.worker_ports = {w: free_port() for w in WORKERS}
        self.site, self.expected = (
            build_pace_site(args.councils) if args.pace else build_site(args.councils, args.file_delay)
        )
        # the test's own ".env": fresh secrets, databases of its own, the fake site
        self.variables = {
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "unused-with-trust-auth",
            "AIRFLOW_DB": f"{self.tag}_airflow",
            "WAREHOUSE_DB": f"{self.tag}_warehouse",
            # the warehouse's own role, as in production (a role of this test's own: roles are server-wide)
            "WAREHOUSE_USER": f"{self.tag}_warehouse",
            "WAREHOUSE_PASSWORD": secrets.token_urlsafe(16),
            # the broker password goes with the container address (the local Redis has none)
            "REDIS_PASSWORD": secrets.token_urlsafe(16),
            "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW_ADMIN_USER": "admin",
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "AIRFLOW_UID": "",  # processes run as this user already: nothing to chown
            "AIRFLOW_WORKER_CONCURRENCY": "2",  # a 2-core machine: keep the pool small
            "AIRFLOW_HEARTBEAT_TIMEOUT": str(args.heartbeat_timeout),
            "AIRFLOW_QUEUED_TIMEOUT": "60",
            "OFSTED_SITE_URL": self.site.url,
            "OFSTED_ALLOWED_HOSTS": self.site.allowed_hosts,
            "OFSTED_REQUESTS_PER_SECOND": str(args.requests_per_second),
            # one file at a time, each slow, so a worker can be killed between a download task's
            # first stored file and its return. OFSTED_BATCH_SIZE is only a floor: a download batch
            # holds about pipeline.DOWNLOAD_TASK_SECONDS of requests at the rate (download_batches),
            # so at the default 10/s every file of the fake site falls in one download task
            "OFSTED_CONCURRENCY": "2" if args.pace else "1",
            "OFSTED_BATCH_SIZE": "25" if args.pace else "2",
            # a schedule that cannot fire during the test (last Feb 29 precedes the DAG's start
            # date): the only runs are the ones the test triggers
            "OFSTED_SCHEDULE": "0 0 29 2 *",
            "OFSTED_RETRY_DELAY": "5",  # seconds before a failed task's retry
        }
        self.api = Api(
            f"http://127.0.0.1:{self.ports['airflow-apiserver']}", "admin", self.variables["AIRFLOW_ADMIN_PASSWORD"]
        )
        self.results: dict[str, Any] = {"expected": self.expected}

    # ---- environment
    def service(self, name: str, port: int | None = None) -> tuple[list[str], dict[str, str]]:
        """The compose service's command and environment, on this host."""
        addresses = {
            "postgres:5432": f"{PG_HOST}:{PG_PORT}",
            f":{self.variables['REDIS_PASSWORD']}@redis:6379/0": f"127.0.0.1:{REDIS_PORT}/{self.redis_db}",
            "airflow-apiserver:8080": f"127.0.0.1:{self.ports['airflow-apiserver']}",
        }
        paths = {
            topo.CONTAINER_HOME: str(self.tmp),
            f"{topo.CONTAINER_HOME}/dags": str(self.args.dags),
            topo.CONTAINER_PROJECT: str(ROOT),
        }
        cmd, env = topo.local_service(self.compose, name, self.variables, addresses, paths)
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "HOME": os.environ.get("HOME", str(self.tmp)),
                "AIRFLOW_HOME": str(self.tmp),  # the image's AIRFLOW_HOME
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT),  # this tree's `etl`, whichever tree the venv was installed from
                # test-speed knobs, not in the compose file: look for dead workers' tasks more often,
                # one api-server worker process on a 2-core machine
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
                "AIRFLOW__API__WORKERS": "1",
            }
        )
        # every process must reach the api-server on its port; each server gets a port of its own
        env[topo.PER_PROCESS_PORTS["airflow-apiserver"]] = str(self.ports["airflow-apiserver"])
        if name in topo.PER_PROCESS_PORTS:
            env[topo.PER_PROCESS_PORTS[name]] = str(port or self.ports[name])
        if cmd and cmd[0] == "python":
            cmd[0] = sys.executable
        return cmd, env

    def warehouse_url(self) -> str:
        return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{self.variables['WAREHOUSE_DB']}"

    # ---- setup
    def pick_redis_db(self) -> None:
        for db in range(15, 0, -1):  # an empty database, claimed with a marker key
            client = redis.Redis(port=REDIS_PORT, db=db)
            if client.set(f"{self.tag}:claim", "1", nx=True) and client.dbsize() == 1:
                self.redis_db = db
                return
            client.delete(f"{self.tag}:claim")
        raise RuntimeError("no empty Redis database (1-15) for the broker")

    def init(self) -> None:
        started = time.monotonic()
        cmd, env = self.service("airflow-init")
        proc = self.procs.start("airflow-init", cmd, env, self.tmp)
        if proc.wait(timeout=600) != 0:
            raise RuntimeError(f"airflow-init failed (log: {self.procs.log_dir / 'airflow-init.log'})")
        self.results["init_seconds"] = round(time.monotonic() - started, 1)

    def start_airflow(self) -> None:
        for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
            self.procs.start(name, *self.service(name), self.tmp)
        for worker in WORKERS:
            self.start_worker(worker)

    def start_worker(self, worker: str) -> None:
        cmd, env = self.service("airflow-worker", self.worker_ports[worker])
        self.procs.start(worker, [*cmd, "--celery-hostname", f"{worker}@%h"], env, self.tmp)

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            self.procs.check_alive()
            h = self.api.health()
            return all(
                (h.get(k) or {}).get("status") == "healthy"
                for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            )

        wait_for("every Airflow component healthy", healthy, 240, 2)
        for worker in WORKERS:
            wait_for(
                f"{worker} ready", lambda w=worker: b" ready." in (self.procs.log_dir / f"{w}.log").read_bytes(), 120
            )
        self.api.login()
        wait_for(f"DAG {DAG_ID} parsed", lambda: self.api.call("GET", f"/dags/{DAG_ID}"), 180, 2)
        errors = self.api.call("GET", "/importErrors")
        if errors.get("total_entries"):
            raise RuntimeError(f"DAG import errors: {errors}")
        self.api.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})

    # ---- runs
    def trigger(self, conf: dict[str, Any]) -> str:
        run = self.api.call("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        log(f"triggered {run['dag_run_id']} with conf {conf}")
        return run["dag_run_id"]

    def wait_finished(self, run_id: str, timeout: float) -> str:
        def finished() -> str | None:
            self.procs.check_alive()
            state = self.api.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        return wait_for(f"run {run_id}", finished, timeout, 2)

    def running_task(self, run_id: str, task_ids: tuple[str, ...]) -> tuple[dict[str, Any], str] | None:
        """A running instance of one of task_ids and the worker whose process tree runs it."""
        for ti in self.api.task_instances(run_id):
            if ti["state"] != "running" or ti["task_id"] not in task_ids or not ti.get("pid"):
                continue
            for worker in WORKERS:
                if worker in self.procs.procs and any(p.pid == ti["pid"] for p in self.procs.tree(worker)):
                    return ti, worker
        if self.api.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"] in ("success", "failed"):
            raise GiveUp(f"run {run_id} ended before any of {task_ids} could be interrupted")
        return None

    def workers_that_ran(self, run_id: str, ti: dict[str, Any], attempt: int) -> list[str]:
        """Workers whose log shows them executing this attempt of the task (its log path)."""
        path = f"run_id={run_id}/task_id={ti['task_id']}/map_index={ti['map_index']}/attempt={attempt}.log"
        return [w for w in WORKERS if path in (self.procs.log_dir / f"{w}.log").read_text(errors="replace")]

    def task_summary(self, run_id: str) -> dict[str, Any]:
        tis = self.api.task_instances(run_id)
        name = lambda t: t["task_id"] + (f"[{t['map_index']}]" if t["map_index"] >= 0 else "")  # noqa: E731
        return {
            "tasks": len(tis),
            "states": sorted({t["state"] for t in tis if t["state"]}),
            "retried": sorted(f"{name(t)} x{t['try_number']}" for t in tis if (t.get("try_number") or 0) > 1),
        }

    def landed(self, urls: list[str]) -> int:
        """How many of these URLs the workers' shared landing store holds (a manifest entry each)."""
        from etl.landing import url_key

        return sum((self.tmp / "data" / "landing" / "manifest" / f"{url_key(u)}.json").exists() for u in urls)

    def batch_urls(self, run_id: str, map_index: int) -> list[str]:
        """The publication URLs of one mapped download task (from discover's XCom)."""
        value = self.api.call(
            "GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/discover/xcomEntries/return_value"
        )["value"]
        batches = json.loads(value) if isinstance(value, str) else value
        return [p["url"] for p in batches[map_index]]

    def run_with_worker_kill(self) -> None:
        started = time.monotonic()
        run_id = self.trigger({})

        def download_with_a_stored_file():
            found = self.running_task(run_id, ("download",))
            return found if found and self.landed(self.batch_urls(run_id, found[0]["map_index"])) else None

        ti, worker = wait_for("a download task that has stored a file", download_with_a_stored_file, 300, 0.25)
        before = warehouse_figures(self.warehouse_url())
        urls = self.batch_urls(run_id, ti["map_index"])
        self.results["killed_batch"] = {"files": len(urls), "in_landing_store": self.landed(urls)}
        task = f"{ti['task_id']}[{ti['map_index']}]"
        log(f"SIGKILL {worker} and every process under it while it runs {task} (pid {ti['pid']})")
        self.procs.kill(worker)
        del self.procs.procs[worker]
        state = self.wait_finished(run_id, self.args.run_timeout)
        self.results["worker_kill"] = {
            "run_id": run_id,
            "state": state,
            "killed": worker,
            "killed_task": task,
            "retried_on": self.workers_that_ran(run_id, ti, attempt=ti["try_number"] + 1),
            "rows_before": before,
            "rows_after": warehouse_figures(self.warehouse_url()),
            "seconds": round(time.monotonic() - started, 1),
            **self.task_summary(run_id),
        }
        log(f"worker-kill run: {state}")

    def run_with_scheduler_restart(self) -> None:
        """Re-parse everything (real work again, on the same warehouse) and restart the scheduler
        while it runs: the warehouse must come out exactly as it went in."""
        started = time.monotonic()
        before = warehouse_figures(self.warehouse_url())
        run_id = self.trigger({"reparse": True})
        ti, _ = wait_for("a parse task running", lambda: self.running_task(run_id, ("parse", "load")), 300, 0.25)
        task = f"{ti['task_id']}[{ti['map_index']}]"
        log(f"restarting the scheduler while {task} runs")
        self.procs.stop("airflow-scheduler", timeout=60)
        self.procs.start("airflow-scheduler", *self.service("airflow-scheduler"), self.tmp)
        state = self.wait_finished(run_id, self.args.run_timeout)
        self.results["scheduler_restart"] = {
            "run_id": run_id,
            "state": state,
            "running_task": task,
            "rows_before": before,
            "rows_after": warehouse_figures(self.warehouse_url()),
            "seconds": round(time.monotonic() - started, 1),
            **self.task_summary(run_id),
        }
        log(f"scheduler-restart run: {state}")

    def run_pace(self) -> None:
        """A first run, then a repeat: wall time (the run's own start and end), requests at the site."""
        from datetime import datetime

        rate = self.args.requests_per_second
        for label in ("first run", "repeat run"):
            self.site.reset_counters()
            run_id = self.trigger({})
            state = self.wait_finished(run_id, self.args.run_timeout)
            run = self.api.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            wall = (datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])).total_seconds()
            requests = sum(self.site.requests.values())
            floor = requests / rate
            self.results[label] = {
                "state": state,
                "wall": round(wall, 1),
                "requests": requests,
                "downloaded": self.site.files_served,
                "ratio": round(wall / floor, 2) if floor else None,
            }
            log(
                f"PACE {label}: {state}, requests={requests} downloaded={self.site.files_served} wall={wall:.1f}s "
                f"floor={floor:.1f}s pace ratio={wall / floor if floor else float('nan'):.2f}"
            )

    # ---- verdict
    def verdict(self) -> list[str]:
        problems = []
        for scenario in ("worker_kill", "scheduler_restart"):
            res = self.results[scenario]
            if res["state"] != "success":
                problems.append(f"{scenario}: the run ended {res['state']}")
            problems += [
                f"{scenario}: {fig['duplicates']} duplicate keys in {table}"
                for table, fig in res["rows_after"].items()
                if fig["duplicates"]
            ]
            got = {table: res["rows_after"].get(table, {}).get("rows") for table in self.expected}
            if got != self.expected:
                problems.append(f"{scenario}: warehouse holds {got}, the fake site serves {self.expected}")
        kill = self.results["worker_kill"]
        if not self.results["killed_batch"]["in_landing_store"] or kill["rows_before"]["stored_files"]["rows"]:
            problems.append(
                "worker_kill: the killed task had no stored-but-unrecorded file, so the fault was not exercised"
            )
        if kill["retried_on"] != [w for w in WORKERS if w != kill["killed"]]:
            problems.append(
                f"worker_kill: {kill['killed_task']}'s retry ran on {kill['retried_on']}, not the surviving worker"
            )
        if self.site.files_served < self.expected["publications"]:
            problems.append(f"only {self.site.files_served} report files were downloaded")
        return problems

    def run(self) -> int:
        started = time.monotonic()
        log(f"work folder {self.tmp}; databases {self.variables['AIRFLOW_DB']}, {self.variables['WAREHOUSE_DB']}")
        self.pick_redis_db()
        self.site.start()
        log(
            f"Redis database {self.redis_db}; api-server port {self.ports['airflow-apiserver']}; fake site {self.site.url}"
        )
        self.init()
        self.start_airflow()
        self.wait_healthy()
        self.results["startup_seconds"] = round(time.monotonic() - started, 1)
        if self.args.pace:
            self.run_pace()
            print("RESULT " + json.dumps(self.results), flush=True)
            return 0 if all(self.results[r]["state"] == "success" for r in ("first run", "repeat run")) else 1
        self.run_with_worker_kill()
        self.run_with_scheduler_restart()
        self.results["total_seconds"] = round(time.monotonic() - started, 1)
        self.results["problems"] = problems = self.verdict()
        print("RESULT " + json.dumps(self.results), flush=True)
        kill = self.results["worker_kill"]
        batch = self.results["killed_batch"]
        log(
            f"worker kill ({kill['killed']} during {kill['killed_task']}, {batch['in_landing_store']} of its "
            f"{batch['files']} files stored, {kill['rows_before']['stored_files']['rows']} files recorded): "
            f"reports {kill['rows_before']['reports']['rows']} "
            f"before the kill, {kill['rows_after']['reports']['rows']} after the run (expected "
            f"{self.expected['reports']}); judgements {kill['rows_before']['judgements']['rows']} → "
            f"{kill['rows_after']['judgements']['rows']}; duplicates found: "
            f"{sum(f['duplicates'] for f in kill['rows_after'].values())}; retried: {', '.join(kill['retried'])} "
            f"on {', '.join(kill['retried_on']) or 'no worker'}"
        )
        for p in problems:
            log(f"PROBLEM: {p}")
        log("PASSED" if not problems else "FAILED")
        return 1 if problems else 0

    # ---- teardown
    def cleanup(self) -> None:
        self.procs.stop_all()
        if self.site._threads:  # stop() waits for serve_forever, so only once serving
            self.site.stop()
        for server in self.site._servers:
            server.server_close()
        with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", autocommit=True) as conn:
            for db in (self.variables["AIRFLOW_DB"], self.variables["WAREHOUSE_DB"]):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.variables["WAREHOUSE_USER"])))
        if self.redis_db is not None:
            redis.Redis(port=REDIS_PORT, db=self.redis_db).flushdb()
        if self.args.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def dump_logs(log_dir: Path, lines: int = 40) -> None:
    for path in sorted(log_dir.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"----- {path.name} (last {len(tail)} lines)\n" + "\n".join(tail), flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--councils", type=int, default=4, help="councils on the fake site")
    ap.add_argument("--dags", type=Path, default=ROOT / "dags", help="DAGs folder (default: the project's)")
    ap.add_argument("--requests-per-second", type=float, default=10)
    ap.add_argument(
        "--file-delay", type=float, default=4, help="seconds the fake site holds back each file's first answer"
    )
    ap.add_argument("--heartbeat-timeout", type=int, default=20, help="seconds before a dead worker's task is retried")
    ap.add_argument("--run-timeout", type=float, default=480, help="seconds a run may take")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs) afterwards")
    ap.add_argument("--pace", action="store_true", help="measure the pace of a first and a repeat run instead")
    return ap.parse_args(argv)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    test = DistributedTest(parse_args(argv))
    # SIGTERM (CI cancelling, the pytest wrapper's timeout) unwinds like Ctrl-C, through finally
    signal.signal(signal.SIGTERM, _interrupted)
    code = 1
    try:
        code = test.run()
    except BaseException as exc:
        log(f"FAILED: {exc!r}")
        dump_logs(test.procs.log_dir)
        if isinstance(exc, KeyboardInterrupt):
            code = 130
    finally:
        test.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
