"""Run ofsted_ingest (or another of the project's DAGs) once through Airflow (dag.test(): tasks
run in one process against the metadata database of $AIRFLOW_HOME), for a person at a terminal.

    python scripts/run_dag.py [--dag ofsted_ingest|ofsted_export] [--conf JSON]

- First, one request to the site (OFSTED_SITE_URL): when it cannot be reached at all, one line
  says why and what to check, and the script exits 69 within seconds, before Airflow starts.
- Airflow runs in a child process whose own output goes to a log file under $AIRFLOW_HOME (its
  path is printed); the terminal shows each task as it starts and ends, the counts, a bar for
  downloads and parsing, and the run's summary at the end.
- Ctrl-C or SIGTERM stops the run at once (the child and its parsers are killed: the landing
  store and the warehouse only ever hold whole files and committed loads), marks it stopped in
  the warehouse, and exits 130; the next run picks up where it ended.

Exit 0 when the run succeeded, 1 when it failed or went on without a council asked for that the
site does not list (the report says which), 69 when the site cannot be reached, 130 when stopped. `make run` uses it; so do the end-to-end tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
SUMMARY_TASK = {"ofsted_ingest": "finish", "ofsted_export": "export"}  # the task whose XCom sums the run up
EXIT_FAILED, EXIT_STOPPED = 1, 130

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- the child: Airflow, with its output in the log file --------------------------------------
def run_summary(dag_id: str, run_id: str) -> tuple[list[str], int]:
    """The lines of what the summary task returned (its XCom: ofsted_ingest's run report,
    etl.pipeline.RunSummary), if it ran, or why the run was skipped; and the exit code the
    report calls for."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    def xcom(task_id: str, key: str):
        query = XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=task_id, key=key)
        with create_session() as session:
            row = session.scalars(query).first()
            return XComModel.deserialize_value(row) if row else None

    value = xcom(SUMMARY_TASK[dag_id], "return_value")
    if dag_id != "ofsted_ingest":
        return [json.dumps(value)] if value else [], 0
    if not value:
        skipped = xcom("start_or_skip", "skipped")
        return [f"run {run_id} skipped: {skipped}"] if skipped else [], 0
    from etl.pipeline import RunSummary

    report = RunSummary.from_dict(value)
    return report.lines(), report.exit_code()


def task_events():
    """An Airflow listener: each task's start and end, as events for the supervising process."""
    from airflow.listeners import hookimpl

    from etl.http import SiteUnreachable
    from etl.progress import emit
    from etl.redact import redact

    class TaskEvents:
        @hookimpl
        def on_task_instance_running(self, previous_state, task_instance):
            emit(
                {
                    "event": "task",
                    "state": "running",
                    "run_id": task_instance.run_id,
                    "task": task_instance.task_id,
                    "map_index": task_instance.map_index,
                    "try": task_instance.try_number,
                }
            )

        @hookimpl
        def on_task_instance_success(self, previous_state, task_instance):
            emit(
                {
                    "event": "task",
                    "state": "success",
                    "task": task_instance.task_id,
                    "map_index": task_instance.map_index,
                }
            )

        @hookimpl
        def on_task_instance_failed(self, previous_state, task_instance, error):
            cause = getattr(error, "__cause__", None)
            unreachable = isinstance(error, SiteUnreachable) or isinstance(cause, SiteUnreachable)
            emit(
                {
                    "event": "task",
                    "state": "failed",
                    "task": task_instance.task_id,
                    "map_index": task_instance.map_index,
                    "unreachable": unreachable,
                    "error": redact(str(error) if unreachable else f"{type(error).__name__}: {error}")[:500],
                }
            )

    return TaskEvents()


def child(args) -> int:
    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.sdk.listener import get_listener_manager

    from etl.progress import emit

    get_listener_manager().add_listener(task_events())
    bag = BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS)  # as Airflow parses them: dags/ importable
    if bag.import_errors:
        emit({"event": "note", "text": f"DAG import errors: {bag.import_errors}"})
        return 2
    run = bag.dags[args.dag].test(run_conf=json.loads(args.conf))
    lines, exit_code = run_summary(args.dag, run.run_id)
    emit(
        {
            "event": "summary",
            "dag": args.dag,
            "run_id": run.run_id,
            "state": str(run.state),
            "lines": lines,
            "exit": exit_code,
        }
    )
    return 0 if str(run.state) == "success" else EXIT_FAILED


# -- the parent: what the person at the terminal sees -----------------------------------------
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Site text (council names, titles, error messages quoting it) as the terminal shows it:
    control characters, an escape sequence's start among them, become U+FFFD."""
    return CONTROL.sub("\ufffd", text)


class Screen:
    """Task lines, notes and a bar; plain lines when stdout is not a terminal."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.bar = None
        self.started: dict[tuple[str, int], float] = {}

    def line(self, text: str) -> None:
        self.close_bar()
        print(printable(text), flush=True)

    def progress(self, task: str, done: int, total: int) -> None:
        if not self.tty or total <= 0:
            return
        if self.bar is None or self.bar.total != total or self.bar.desc != task:
            self.close_bar()
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=task, unit="", file=sys.stdout, leave=False)
        self.bar.update(done - self.bar.n)

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def task(self, event: dict) -> None:
        key = (event["task"], event.get("map_index", -1))
        name = event["task"] + (f"[{key[1]}]" if key[1] is not None and key[1] >= 0 else "")
        if event["state"] == "running":
            self.started[key] = time.monotonic()
            retry = f" (try {event['try']})" if event.get("try", 1) > 1 else ""
            self.line(f"  > {name}{retry}")
        else:
            took = time.monotonic() - self.started.get(key, time.monotonic())
            mark = "ok" if event["state"] == "success" else "FAILED"
            error = f": {event['error']}" if event.get("error") else ""
            self.line(f"  {mark} {name} ({took:.1f} s){error}")


def log_path(dag: str) -> Path:
    home = Path(os.environ.get("AIRFLOW_HOME") or ROOT / ".airflow")
    home.mkdir(parents=True, exist_ok=True)
    return home / f"run-{dag}.log"


def reachable_or_exit() -> int | None:
    """The site check before Airflow starts: the exit code when it cannot be reached."""
    from etl.config import Settings
    from etl.http import EXIT_UNREACHABLE, SiteUnreachable, check_reachable

    try:
        check_reachable(Settings.from_env())
    except SiteUnreachable as exc:
        print(f"ofsted_ingest: {exc}", file=sys.stderr, flush=True)
        return EXIT_UNREACHABLE
    return None


def mark_stopped(run_id: str | None) -> str:
    """The warehouse's record of a run killed before it finished: stopped, not running."""
    if not run_id:
        return "the run had not started"
    from etl.config import Settings, normalise_db_url
    from etl.load import stop_run
    from etl.warehouse import connect

    url = Settings.from_env().warehouse_url
    if os.environ.get("AIRFLOW_CONN_OFSTED_WAREHOUSE"):  # the DAG's warehouse, where defined
        url = normalise_db_url(os.environ["AIRFLOW_CONN_OFSTED_WAREHOUSE"])
    try:
        with connect(url) as wh:
            stop_run(wh, run_id)
    except Exception as exc:  # noqa: BLE001 - the person must still get their terminal back
        return f"could not mark run {run_id} stopped: {exc}"
    return f"run {run_id} marked stopped"


def supervise(args) -> int:
    from etl.http import EXIT_UNREACHABLE
    from etl.progress import PROGRESS_FD
    from etl.redact import redact

    if args.dag == "ofsted_ingest" and not args.no_check:
        code = reachable_or_exit()
        if code is not None:
            return code
    log = log_path(args.dag)
    screen = Screen()
    screen.line(f"Running {args.dag} through Airflow; Airflow's own log: {log}")
    read_end, write_end = os.pipe()
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--dag", args.dag, "--conf", args.conf],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            env={**os.environ, PROGRESS_FD: str(write_end)},
            start_new_session=True,
        )
    os.close(write_end)
    stop = {"signal": None}

    def on_signal(signum, frame):
        # killed outright: Airflow's task runner only calls on_kill() on SIGTERM, and a task
        # interrupted any gentler would run its failure callback (a false alarm to operators)
        stop["signal"] = signum
        _kill_group(proc)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    run_id, summary, unreachable, current = None, None, None, ""
    try:
        with os.fdopen(read_end) as events:
            for raw in events:
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                kind = event.get("event")
                if kind == "task":
                    run_id = run_id or event.get("run_id")
                    current = event["task"]
                    if event["state"] == "failed" and event.get("unreachable"):
                        unreachable = event["error"]
                    if stop["signal"] is None:  # a task ended by the stop is not a failure
                        screen.task(event)
                elif kind == "progress":
                    screen.progress(current, event["done"], event["total"])
                elif kind == "note":
                    screen.line(f"      {redact(event['text'])}")
                elif kind == "summary":
                    summary = event
        code = proc.wait()
    finally:
        _kill_group(proc)  # parsers a killed run left behind
        for s, handler in previous.items():
            signal.signal(s, handler)
        screen.close_bar()
    if stop["signal"] is not None:
        print(
            f"\nstopped ({signal.Signals(stop['signal']).name}): {mark_stopped(run_id)}; "
            "the next run picks up where this one ended",
            flush=True,
        )
        return EXIT_STOPPED
    if summary is None:
        print(f"\n=== {args.dag} did not finish (exit {code}): see {log} ===", flush=True)
        return EXIT_UNREACHABLE if unreachable else (code or EXIT_FAILED)
    print(f"\n=== {args.dag} {summary['run_id']} finished: {summary['state']} ===")
    print(printable("\n".join(summary["lines"])) or "(no summary: the run did not finish)")
    if unreachable:
        print(f"{args.dag}: {printable(unreachable)}", file=sys.stderr, flush=True)
        return EXIT_UNREACHABLE
    return summary.get("exit", 0) if summary["state"] == "success" else EXIT_FAILED


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dag", default="ofsted_ingest", choices=sorted(SUMMARY_TASK))
    ap.add_argument("--conf", default="{}", help='run parameters, e.g. {"councils": ["80487"]}')
    ap.add_argument("--no-check", action="store_true", help="skip the reachability check of the site")
    ap.add_argument(
        "--check-only",
        action="store_true",
        help="only check that the site can be reached (exit 0, or 69 with the reason)",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.check_only:
        return reachable_or_exit() or 0
    return child(args) if args.child else supervise(args)


if __name__ == "__main__":
    sys.exit(main())
