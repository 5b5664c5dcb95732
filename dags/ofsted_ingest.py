"""ofsted_ingest: crawl -> download -> parse -> load -> detect changes -> alert, hourly.

Each run reads the search listing and only the council pages that moved, plus a share of the
rolling sweep (etl.crawl.pages_to_read). Runs never overlap: `max_active_runs=1`, and a run
that became due while another was in flight is skipped (its first task, `start_or_skip`),
not run late from a queue.

Thin on purpose: every step is a function in `etl.pipeline`. Nothing here touches the network
or a database at import time; `etl` modules are imported inside the tasks. Mapped tasks get
batches of references (URLs, landing-store paths) and never write the warehouse, so the
embedded DuckDB file (one writer at a time) works under any executor.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from ofsted_common import DAG_DEFAULTS, WAREHOUSE_ASSETS, default_args

SCHEDULE = os.environ.get("OFSTED_SCHEDULE", "@hourly")  # cron, preset, or "none" (manual runs only)
# The site sees one task at a time (discover, then each download batch in turn, never two runs),
# each at the full OFSTED_REQUESTS_PER_SECOND with a few threads: the configured rate is the
# pipeline's pace under dag.test, LocalExecutor and Celery alike (docs/operations.md, "Pace").


def _settings():
    """Settings from the environment; the Airflow connections, when defined, take precedence
    (etl.config.airflow_settings, which also hands their secrets to Airflow's log masker)."""
    from etl.config import airflow_settings

    return airflow_settings()


def notify_failure(context) -> None:
    """Task-level failure callback (set through default_args: the DAG-level one is unreliable in 3.x):
    the run is marked failed in the warehouse (its pipeline_runs row would stay 'running'), and
    the operators are told."""
    import logging

    from etl import pipeline
    from etl.alert import notify_operators
    from etl.config import Settings
    from etl.redact import redact

    ti = context["ti"]
    try:
        pipeline.finish(_settings(), context["run_id"], "failed")
    except Exception as exc:  # the warehouse may be what failed: the notice below still goes out
        logging.getLogger("ofsted_ingest").error("could not mark run %s failed: %s", context["run_id"], redact(exc))
    exception = context.get("exception")
    # the site cannot be reached: the one line that says so (and what to check) is the notice
    what = str(exception) if _unreachable(exception) else repr(exception)
    notify_operators(
        list(Settings.from_env().ops_alert_urls),
        f"ofsted_ingest failed: {ti.task_id}",
        f"Task {ti.task_id} (map index {ti.map_index}) of run {context['run_id']} failed "
        f"after {ti.try_number} tries: {redact(what)}",
    )


def _unreachable(exception) -> bool:
    from etl.http import SiteUnreachable

    return isinstance(exception, SiteUnreachable) or isinstance(getattr(exception, "__cause__", None), SiteUnreachable)


def _params() -> dict:
    return get_current_context()["params"]


def _run_id() -> str:
    return get_current_context()["run_id"]


def _collect(mapped) -> list:
    """Outputs of a mapped task, read by index: iterating probes one past the end, which
    Airflow logs as an error."""
    return [mapped[i] for i in range(len(mapped))] if mapped else []


@dag(
    dag_id="ofsted_ingest",
    schedule=SCHEDULE if SCHEDULE.lower() not in ("none", "manual", "") else None,
    **DAG_DEFAULTS,
    doc_md=__doc__,
    default_args=default_args(
        retry_exponential_backoff=2.0,
        max_retry_delay=timedelta(minutes=10),
        execution_timeout=timedelta(minutes=30),
        on_failure_callback=notify_failure,
    ),
    params={
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Backfill: only download reports published on or after this date.",
        ),
        "reparse": Param(False, type="boolean", description="Re-parse every stored file with this parser."),
        "councils": Param(
            [], type="array", description='Only these councils: URNs or names, e.g. ["Barnet", "80488"] (empty: all).'
        ),
        "historic_alerts": Param(
            False, type="boolean", description="Also alert for changes found by the first (baseline) run."
        ),
        "retry_quarantined": Param(
            False, type="boolean", description="Retry quarantined files now, not when their spacing is up."
        ),
    },
)
def ofsted_ingest():
    @task.short_circuit
    def start_or_skip() -> bool:
        """Skip this run (every task after this one) when another was in flight when this one
        became due: it would only queue behind it and read the same pages late."""
        import logging

        from etl import pipeline

        context = get_current_context()
        dag_run = context["dag_run"]
        # the warehouse's runs, not Airflow's run count: a run killed under dag.test (or `ofsted
        # run`) stays "running" in Airflow's metadata, while the warehouse records it stopped
        due = (dag_run.run_after or dag_run.start_date).astimezone().replace(tzinfo=None)  # warehouse time: local
        other = pipeline.overlapping_run(_settings(), dag_run.run_id, due)
        if other:
            why = f"{other} was in flight when it became due"
            logging.getLogger("ofsted_ingest").warning("run %s skipped: %s", dag_run.run_id, why)
            context["ti"].xcom_push(key="skipped", value=why)
        return not other

    @task
    def begin() -> None:
        from etl import pipeline

        settings = _settings()
        pipeline.begin(settings, _run_id())
        pipeline.check_freshness(settings)  # operators hear when runs have stopped succeeding

    @task(retries=4, max_active_tis_per_dag=1)
    def discover() -> list[list[dict]]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl import pipeline
        from etl.councils import CouncilNotFound
        from etl.http import SiteUnreachable
        from etl.records import iso_date, to_dict

        settings, params = _settings(), _params()
        since = iso_date(params["since"]) if params["since"] else None  # checked before any request
        try:
            found = pipeline.discover(settings, _run_id(), councils=params["councils"])
        except (SiteUnreachable, CouncilNotFound) as exc:  # a retry minutes later would fail the same way: fail now
            raise AirflowFailException(str(exc)) from exc
        wanted = [to_dict(p) for p in pipeline.to_download(found.publications, since)]
        get_current_context()["ti"].xcom_push(key="report", value=found.summary_fields())
        return pipeline.download_batches(wanted, settings)

    @task(retries=4, max_active_tis_per_dag=1)
    def download(batch: list[dict]) -> dict:
        from etl import pipeline
        from etl.records import Publication, from_dict, to_dict

        stored, quarantined = pipeline.download(
            _settings(), [from_dict(Publication, p) for p in batch], retry_quarantined=_params()["retry_quarantined"]
        )
        return {"stored": [to_dict(s) for s in stored], "quarantined": [to_dict(q) for q in quarantined]}

    @task(trigger_rule="none_failed", outlets=[WAREHOUSE_ASSETS["publications"]])
    def record_downloads(results: list[dict]) -> dict:
        from etl import pipeline
        from etl.records import Quarantined, StoredFile, from_dict

        results = _collect(results)
        stored = [from_dict(StoredFile, s) for r in results for s in r["stored"]]
        quarantined = [from_dict(Quarantined, q) for r in results for q in r["quarantined"]]
        return pipeline.downloads_part(stored, quarantined, pipeline.record_downloads(_settings(), stored, quarantined))

    @task(trigger_rule="none_failed")
    def plan_parse() -> list[list[dict]]:
        from etl import pipeline
        from etl.records import to_dict

        settings, params = _settings(), _params()
        files = pipeline.plan_parse(settings, reparse=params["reparse"], councils=params["councils"])
        return pipeline.batches([to_dict(f) for f in files], settings.batch_size)

    @task(retries=1)
    def parse(batch: list[dict]) -> list[dict]:
        from etl import pipeline
        from etl.records import StoredFile, from_dict, to_dict

        return [to_dict(r) for r in pipeline.parse(_settings(), [from_dict(StoredFile, f) for f in batch])]

    @task(trigger_rule="none_failed", outlets=[WAREHOUSE_ASSETS["reports"], WAREHOUSE_ASSETS["judgements"]])
    def load(parsed: list[list[dict]]) -> dict:
        from etl import pipeline
        from etl.records import ReportRecord, from_dict

        records = [from_dict(ReportRecord, r) for batch in _collect(parsed) for r in batch]
        return pipeline.records_part(records, pipeline.load_reports(_settings(), records, _run_id()))

    @task(trigger_rule="none_failed", outlets=[WAREHOUSE_ASSETS["rating_history"], WAREHOUSE_ASSETS["rating_changes"]])
    def detect_changes() -> dict:
        from etl import pipeline

        return pipeline.changes_part(pipeline.detect_changes(_settings(), _run_id()))

    @task
    def check() -> dict:
        """Data-quality checks on the loaded warehouse: reported by finish, never blocking alerts."""
        from etl import pipeline

        return {"failed_checks": pipeline.check_warehouse(_settings())}

    @task(retries=3)
    def alert() -> dict:
        from etl import pipeline

        return pipeline.alerts_part(pipeline.send_alerts(_settings(), include_baseline=_params()["historic_alerts"]))

    @task
    def finish(downloads: dict, loaded: dict, changes: dict, alerts: dict, checked: dict) -> dict:
        """Close the run and report it (etl.pipeline.RunSummary, built from each task's part):
        the log, the metrics, and the operators when something needs their attention. Returns
        the report, serialised (scripts/run_dag.py renders it for `make run`)."""
        import logging

        from etl import metrics, pipeline

        settings, context = _settings(), get_current_context()
        summary = pipeline.RunSummary(_run_id()).add(context["ti"].xcom_pull(task_ids="discover", key="report"))
        for part in (downloads, loaded, changes, checked, alerts):
            summary.add(part)
        pipeline.close_run(settings, summary)
        logging.getLogger("ofsted_ingest").info("\n".join(summary.lines()))
        started = context["dag_run"].start_date
        metrics.emit(summary.metrics(), (datetime.now(started.tzinfo) - started).total_seconds() if started else None)
        return summary.to_dict()

    batches = discover()
    start_or_skip() >> begin() >> batches
    downloads = record_downloads(download.expand(batch=batches))
    to_parse = plan_parse()
    downloads >> to_parse
    loaded = load(parse.expand(batch=to_parse))
    changes = detect_changes()
    loaded >> changes
    alerts = alert()
    changes >> alerts
    checked = check()
    changes >> checked
    finish(downloads, loaded, changes, alerts, checked)


ofsted_ingest()
