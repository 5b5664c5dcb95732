"""Run ofsted_ingest (or another of the project's DAGs) once through Airflow (dag.test(): tasks
run in this process against the metadata database of $AIRFLOW_HOME), then print its summary.

    python scripts/run_dag.py [--dag ofsted_ingest|ofsted_export] [--conf JSON]

Exit 0 when the run succeeded. `make run` uses it; so do the end-to-end tests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"
SUMMARY_TASK = {"ofsted_ingest": "finish", "ofsted_export": "export"}  # the task whose XCom sums the run up


def run_summary(dag_id: str, run_id: str) -> list[str]:
    """The lines the summary task returned (its XCom), if it ran."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=SUMMARY_TASK[dag_id], key="return_value")
    with create_session() as session:
        row = session.scalars(query).first()
        value = XComModel.deserialize_value(row) if row else []
    return value if isinstance(value, list) else [json.dumps(value)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dag", default="ofsted_ingest", choices=sorted(SUMMARY_TASK))
    ap.add_argument("--conf", default="{}", help='run parameters, e.g. {"councils": ["80487"]}')
    args = ap.parse_args()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 2
    run = bag.dags[args.dag].test(run_conf=json.loads(args.conf))
    print(f"\n=== {args.dag}", run.run_id, "finished:", run.state, "===")
    print("\n".join(run_summary(args.dag, run.run_id)) or "(no summary: the run did not finish)")
    return 0 if str(run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
