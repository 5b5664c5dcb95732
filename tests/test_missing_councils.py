"""A run asked for councils the site does not list, and one whose page fails: through `make run`
(Airflow's dag.test) and `ofsted run`, against the fake site. The missing council is named in
one line as soon as the listing is read, the others are crawled, the report repeats the line,
the command exits 1 and the operators are paged with the report; the failing page never fails
the crawl task (no Airflow retry) and is read again by the next run."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from etl.warehouse import connect
from tests.support.airflow_fixtures import ROOT, airflow_env
from tests.support.fakesite import FakeOfstedSite, Fault
from tests.support.synth_reports import listing_pdf
from tests.support.webhook import WebhookReceiver

MISSING = "no council 80557 on the site"
BARNET, BURY = "80487", "80443"


@pytest.fixture
def site():
    """Barnet, and Bury whose page answers 500 whatever the retries."""
    with FakeOfstedSite(councils=0, publications=False, pdf_factory=listing_pdf) as site:
        site.add_council(BARNET, "Barnet")
        site.add_publication(BARNET, "inspection", date(2019, 7, 1))
        site.add_council(BURY, "Bury")
        site.add_publication(BURY, "focused_visit", date(2021, 3, 4))
        site.inject(f"/provider/44/{BURY}", Fault.http(500, times=None))
        yield site


def rows(url: str, sql: str) -> list[tuple]:
    with connect(url) as wh:
        return wh.fetchall(sql)


def check_run(out: str, site, warehouse: str, ops: WebhookReceiver) -> None:
    report = out[out.index("rating changes") :]
    assert f"  {MISSING}" in report.splitlines(), "the report repeats the line"
    assert f"  unread page  {BURY} Bury: " in report and "HTTP 500" in report
    assert rows(warehouse, "SELECT DISTINCT urn FROM publications") == [(BARNET,)], "Barnet is crawled"
    assert rows(warehouse, "SELECT count(*) FROM reports")[0][0] == 1
    # the failed page is noted in the crawl state: the next run reads it again
    assert rows(warehouse, f"SELECT failed_at IS NOT NULL FROM council_pages WHERE urn = '{BURY}'") == [(True,)]
    assert site.requests["/provider/44/80557"] == 0, "not on the site: no page of its own is tried"
    [notice] = ops.messages
    assert notice["title"] == "ofsted_ingest: pages or files need attention"
    message = " ".join(notice["message"].split())  # rendered as a list for the operators' channel
    assert MISSING in message and f"unread page {BURY} Bury" in message


@pytest.mark.xdist_group("airflow_e2e")
@pytest.mark.timeout(900)
def test_make_run_names_the_missing_council_crawls_the_others_and_exits_non_zero(site, airflow_home, tmp_path):
    warehouse = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with WebhookReceiver() as ops:
        env = airflow_env(
            airflow_home,
            **site.env(
                OFSTED_DATA_DIR=str(tmp_path),
                OFSTED_WAREHOUSE_URL=warehouse,
                OFSTED_OPS_ALERT_URLS=ops.apprise_url,
                OFSTED_RETRY_DELAY="0.1",
            ),
        )
        conf = json.dumps({"councils": [BARNET, "80557", BURY]})
        done = subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), "run", f"CONF={conf}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=800,
        )
        out = done.stdout
        assert done.returncode != 0 and "Error 1" in done.stderr, out[-4000:] + done.stderr[-3000:]
        # said while discover runs, before any download: one line, the council's URN in it
        said = out.index(f"      {MISSING}")
        assert out.index("  > discover") < said < out.index("  ok discover") < out.index("  > download")
        # one try: the failing page fails neither the task nor the run
        assert "(try 2)" not in out and "FAILED" not in out and "finished: success" in out
        check_run(out, site, warehouse, ops)


def test_ofsted_run_names_the_missing_council_crawls_the_others_and_exits_non_zero(site, tmp_path):
    warehouse = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with WebhookReceiver() as ops:
        env = {
            **site.env(
                OFSTED_DATA_DIR=str(tmp_path), OFSTED_WAREHOUSE_URL=warehouse, OFSTED_OPS_ALERT_URLS=ops.apprise_url
            ),
            "PATH": "",
        }
        command = [sys.executable, "-m", "etl.cli", "run", "--council", BARNET, "--council", "80557", "--council", BURY]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
        # said once the listing is read, before any council page or file is fetched
        said = done.stderr.index(MISSING)
        assert said < done.stderr.index("to fetch or revalidate"), done.stderr[-3000:]
        check_run(done.stdout, site, warehouse, ops)
        assert rows(warehouse, "SELECT status FROM pipeline_runs") == [("success",)], "the others were crawled"

        # the next run, the site's fault passed: Bury's page is read again, nothing is missing
        site.faults.clear()
        again = subprocess.run(command[:-4] + ["--council", BURY], env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert "unread page" not in again.stdout and "on the site" not in again.stdout + again.stderr
        assert rows(warehouse, "SELECT DISTINCT urn FROM publications ORDER BY urn") == [(BURY,), (BARNET,)]
        assert rows(warehouse, f"SELECT failed_at FROM council_pages WHERE urn = '{BURY}'") == [(None,)]
        assert len(ops.messages) == 1, "a clean run pages no one"


def test_ofsted_crawl_names_the_missing_council_and_exits_non_zero(site, tmp_path):
    env = {**site.env(OFSTED_DATA_DIR=str(tmp_path)), "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", "crawl", "--council", "80557", "--council", BARNET],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert MISSING in done.stderr and f"  {MISSING}" in done.stdout.splitlines()
    assert "1 councils, 1 council pages read, 1 publications listed; 1 new files stored" in done.stdout
