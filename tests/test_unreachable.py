"""A site that cannot be reached at all is not flaky: no retries, one line that names the URL,
the cause and what to check, and a distinct exit code, through `ofsted crawl|run`. Once the
site has answered, the same errors are passing faults and are retried."""

from __future__ import annotations

import subprocess
import sys

import pytest

from etl.config import Settings
from etl.http import EXIT_UNREACHABLE, FetchError, PoliteSession, SiteUnreachable
from tests.support.fakesite import FakeOfstedSite
from tests.support.unreachable import INVALID_HOST_URL, BadCertificateServer, closed_port

UNREACHABLE_LIMIT = 30  # seconds: the bound; a subprocess past it fails the test


def _settings(url: str, tmp_path, **extra) -> Settings:
    env = {
        "OFSTED_SITE_URL": url,
        "OFSTED_DATA_DIR": str(tmp_path),
        "OFSTED_MAX_RETRIES": "5",
        "OFSTED_BACKOFF_BASE": "2",
        "OFSTED_CONNECT_TIMEOUT": "5",
        **extra,
    }
    return Settings.from_env(env)


@pytest.fixture(params=["unresolvable name", "closed port", "bad certificate"])
def unreachable_site(request, tmp_path):
    """(URL of a site that cannot be reached, words the message must use for the cause)."""
    if request.param == "unresolvable name":
        yield INVALID_HOST_URL, "does not resolve"
    elif request.param == "closed port":
        yield f"http://127.0.0.1:{closed_port()}", "refused"
    else:
        with BadCertificateServer(tmp_path) as server:
            yield server.url, "certificate verify failed: self-signed certificate"


def _check_line(text: str, url: str, cause: str) -> None:
    lines = [line for line in text.splitlines() if "cannot reach" in line]
    assert len(lines) == 1, text[-3000:]
    line = lines[0]
    assert url in line and cause in line, line
    for what in ("network", "proxy", "OFSTED_SITE_URL"):
        assert what in line, line
    assert "Traceback" not in text


def test_the_first_request_to_an_unreachable_site_is_not_retried(unreachable_site, tmp_path):
    url, cause = unreachable_site
    with PoliteSession.from_settings(_settings(url, tmp_path)) as session:
        with pytest.raises(SiteUnreachable) as raised:
            session.get(url + "/search")
        assert session.requests_made == 1, "nothing that cannot succeed is retried"
        with pytest.raises(SiteUnreachable):
            session.get(url + "/provider/44/80487")
        assert session.requests_made == 1, "once unreachable, the session sends nothing more"
    _check_line(str(raised.value), url, cause)


def test_a_proxy_that_refuses_is_named_as_the_cause(tmp_path, monkeypatch):
    with FakeOfstedSite(councils=1) as site:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("NO_PROXY", "")
        settings = Settings.from_env(site.env(OFSTED_DATA_DIR=str(tmp_path)))
        with PoliteSession.from_settings(settings) as session, pytest.raises(SiteUnreachable) as raised:
            session.get(site.url + "/search")
        assert session.requests_made == 1 and not site.log, "the site itself saw nothing"
    assert "proxy refused" in str(raised.value) and "HTTP_PROXY is set" in str(raised.value)


def test_once_the_site_has_answered_a_refused_connection_is_retried(tmp_path):
    site = FakeOfstedSite(councils=1).start()
    settings = Settings.from_env(site.env(OFSTED_DATA_DIR=str(tmp_path), OFSTED_MAX_RETRIES="2"))
    with PoliteSession.from_settings(settings) as session:
        assert session.get(site.url + "/search").status == 200
        site.stop()  # the site goes away mid-run: a passing fault, retried
        for adapter in session.session.adapters.values():
            adapter.close()  # no kept-alive connection to the stopped server
        with pytest.raises(FetchError) as raised:
            session.get(site.url + "/search")
        assert not isinstance(raised.value, SiteUnreachable)
        assert session.requests_made == 1 + 3


@pytest.mark.parametrize("command", ["run", "crawl"])
def test_ofsted_run_and_crawl_stop_at_once_with_the_line_and_exit_code(command, unreachable_site, tmp_path):
    url, cause = unreachable_site
    env = {
        "OFSTED_SITE_URL": url,
        "OFSTED_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "OFSTED_BACKOFF_BASE": "2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", command], env=env, capture_output=True, text=True, timeout=UNREACHABLE_LIMIT
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stderr[-3000:]
    _check_line(done.stderr, url, cause)


def test_run_dag_checks_the_site_before_airflow_starts(unreachable_site, tmp_path):
    """`make run` (scripts/run_dag.py): the same line and exit code, before Airflow starts."""
    from tests.support.airflow_fixtures import ROOT, airflow_env

    url, cause = unreachable_site
    home = tmp_path / "airflow"
    env = airflow_env(home, OFSTED_SITE_URL=url, OFSTED_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_dag.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=UNREACHABLE_LIMIT,
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stdout[-3000:] + done.stderr[-3000:]
    _check_line(done.stderr, url, cause)
    assert not (home / "run-ofsted_ingest.log").exists(), "Airflow was never started"


def test_make_run_says_so_before_setting_up_airflow(tmp_path):
    from tests.support.airflow_fixtures import ROOT, airflow_env

    url = f"http://127.0.0.1:{closed_port()}"
    home = tmp_path / "airflow"
    env = airflow_env(home, OFSTED_SITE_URL=url, OFSTED_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=UNREACHABLE_LIMIT,
    )
    assert done.returncode != 0 and "Error 69" in done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    _check_line(done.stderr, url, "refused")
    assert not (home / "airflow.db").exists(), "Airflow's metadata database was not set up"
