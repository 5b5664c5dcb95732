"""The view as an Airflow 3 plugin: it loads without import errors, and on Airflow's own app
factory every page answers 401 without credentials and 200 with a token, showing the warehouse;
review actions are refused to a read-only user. Runs Airflow in a subprocess (its configuration
is per process) with a migrated SQLite metadata database in a temporary AIRFLOW_HOME."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.airflow_fixtures import ROOT, airflow_env
from tests.support.warehouse_fixtures import load_sample

pytestmark = pytest.mark.xdist_group("airflow_view")

USERS = {"admin": ("admin", "admin-pw"), "reader": ("viewer", "reader-pw")}
PAGES = [
    "/ofsted-ratings/",
    "/ofsted-ratings/councils",
    "/ofsted-ratings/councils/80487",
    "/ofsted-ratings/changes",
    "/ofsted-ratings/changes.atom",
    "/ofsted-ratings/councils/80487/changes.atom",
    "/ofsted-ratings/councils.csv",
    "/ofsted-ratings/ofsted-ratings.xlsx",
    "/ofsted-ratings/reviews",
    "/ofsted-ratings/england/over-time",
    "/ofsted-ratings/england/over-time.csv",
    "/ofsted-ratings/search?q=Barnet",
]

PROBE = r"""
import json, sys
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import create_app

pages, users = json.loads(sys.argv[1]), json.loads(sys.argv[2])
client = TestClient(create_app(apps="core"))
out = {"anonymous": {p: client.get(p).status_code for p in pages}, "pages": {}, "tokens": {}}
for name, (_, password) in users.items():
    got = client.post("/auth/token", json={"username": name, "password": password})
    out["tokens"][name] = got.status_code
    token = got.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    out["pages"][name] = {p: [r.status_code, r.text] for p in pages for r in [client.get(p, headers=headers)]}
    # the UI's frame sends the session cookie, not a header
    out["pages"][name]["cookie"] = client.get(pages[0], cookies={"_token": token}).status_code
    out["pages"][name]["accept_without_form_token"] = client.post(
        "/ofsted-ratings/reviews/unknown-report/accept", data={"why": "checked"}, headers=headers).status_code
    # the form's token: tied to the viewer and the cookie the reviews page sets
    from etl.web.auth import CSRF_COOKIE, csrf_token
    client.get("/ofsted-ratings/reviews", headers=headers)
    form = {"why": "checked", "csrf": csrf_token(client.cookies.get(CSRF_COOKIE, ""), name)}
    out["pages"][name]["accept"] = client.post("/ofsted-ratings/reviews/unknown-report/accept",
                                               data=form, headers=headers).status_code
    out["pages"][name]["accept_null_origin"] = client.post("/ofsted-ratings/reviews/unknown-report/accept",
                                                           data=form, headers={**headers, "Origin": "null"}).status_code
    answer = client.get(pages[0], headers=headers)
    out["pages"][name]["headers"] = {k: answer.headers.get(k) for k in ("content-security-policy", "x-content-type-options")}
out["static"] = client.get("/ofsted-ratings/static/view.css").status_code
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def airflow_view(airflow_home, tmp_path_factory):
    """Every page fetched through Airflow's app factory, per user, against the sample warehouse."""
    from etl.warehouse import connect, migrate

    home = airflow_home
    url = f"duckdb:///{tmp_path_factory.mktemp('view_wh')}/warehouse.duckdb"
    with connect(url) as wh:
        migrate(wh)
        load_sample(wh)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({name: pw for name, (_, pw) in USERS.items()}))
    env = airflow_env(
        home,
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        OFSTED_WAREHOUSE_URL=url,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(f"{n}:{r}" for n, (r, _) in USERS.items()),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(PAGES), json.dumps(USERS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), env


def test_plugin_loads_without_import_errors(airflow_view):
    _, env = airflow_view
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "plugins", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    plugins = json.loads(done.stdout[done.stdout.index("[") :])
    ours = [p for p in plugins if p["name"] == "ofsted_ratings"]
    assert ours, plugins
    assert "ofsted-ratings/" in json.dumps(ours[0]["external_views"])
    assert "/ofsted-ratings" in json.dumps(ours[0]["fastapi_apps"])
    assert "error" not in (done.stderr.lower() + done.stdout.lower())


def test_plugin_file_stays_light(tmp_path):
    """Every Airflow component imports plugins/: ours defers the app (FastAPI, the warehouse) to
    its first request."""
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); import json; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('etl', 'duckdb', 'psycopg', 'pdfplumber', 'pandas'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "plugins" / "ofsted_ratings.py")],
        env=airflow_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_every_page_needs_authentication(airflow_view):
    out, _ = airflow_view
    assert out["anonymous"] == {p: 401 for p in PAGES}
    assert out["static"] == 200  # CSS carries no data: public, as Airflow serves mounted static files


def test_every_page_answers_with_a_token_and_shows_the_warehouse(airflow_view):
    out, _ = airflow_view
    assert out["tokens"] == {"admin": 201, "reader": 201}
    for user in USERS:
        pages = out["pages"][user]
        assert {p: pages[p][0] for p in PAGES} == {p: 200 for p in PAGES}, user
        assert pages["cookie"] == 200
    barnet = out["pages"]["reader"]["/ofsted-ratings/councils/80487"][1]
    assert "<h1>Barnet</h1>" in barnet and 'id="stepchart"' in barnet
    assert 'action="/ofsted-ratings/search"' in barnet, "the search box on every page, under the mount"
    assert 'href="/ofsted-ratings/councils/80487"' in out["pages"]["reader"]["/ofsted-ratings/search?q=Barnet"][1]
    # inadequate from the 2013 SIF inspection until the 2019 ILACS one (so in 2017), good from 2019
    rows = history_rows(barnet)
    assert ["Overall effectiveness", "Inadequate", "2013-12-06", "2019-05-24", "SIF"] in rows
    assert ["Overall effectiveness", "Good", "2019-05-24", "2024-03-08", "ILACS 2018"] in rows
    assert "/ofsted-ratings/councils/80487" in out["pages"]["reader"]["/ofsted-ratings/councils"][1]


def history_rows(html: str) -> list[list[str]]:
    """The council page's history table (the step chart's text twin), cell texts per row."""
    from bs4 import BeautifulSoup

    table = BeautifulSoup(html, "html.parser").select_one("details.history table")
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]


def test_review_actions_are_refused_to_read_only_users(airflow_view):
    out, _ = airflow_view
    assert out["pages"]["reader"]["accept"] == 403
    assert out["pages"]["admin"]["accept"] == 404  # allowed, but there is no such report
    assert out["pages"]["admin"]["accept_without_form_token"] == 403
    assert out["pages"]["admin"]["accept_null_origin"] == 403  # a sandboxed frame's post


def test_the_view_under_airflow_sends_its_content_security_policy(airflow_view):
    out, _ = airflow_view
    headers = out["pages"]["reader"]["headers"]
    policy = headers["content-security-policy"]
    # framed by Airflow's UI (the same origin), by no one else; scripts only from static/
    assert "frame-ancestors 'self'" in policy and "script-src 'self';" in policy
    assert headers["x-content-type-options"] == "nosniff"
