"""Everything the site and its files say is untrusted (issue 20): a hostile stand-in of the
site (tests/support/fakesite.hostile_site: names with formulas, markup, chat mentions and
terminal escapes; links to javascript:, data: and a foreign host) run through the pipeline,
then every place that shows what it stored: the view, alerts, the workbook, the terminal."""

from __future__ import annotations

import io
from datetime import date

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from etl.config import Settings
from tests.support.fakesite import HOSTILE_LINKS, HOSTILE_NAMES, hostile_site

FIRST = next(iter(HOSTILE_NAMES))  # the council whose listings carry the hostile links
SERVED = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile site crawled, downloaded, parsed and loaded twice by `ofsted run`'s
    pipeline (DuckDB); yields (settings, first run's summary, second run's summary, site)."""
    from etl import pipeline
    from tests.support.synth_reports import listing_pdf

    tmp = tmp_path_factory.mktemp("hostile")
    with hostile_site(pdf_factory=listing_pdf) as site:
        settings = Settings.from_env(
            site.env(
                OFSTED_DATA_DIR=str(tmp),
                OFSTED_LANDING=str(tmp / "landing"),
                OFSTED_WAREHOUSE_URL=f"duckdb:///{tmp}/warehouse.duckdb",
            )
        )
        first = pipeline.run_once(settings)
        second = pipeline.run_once(settings)
        yield settings, first, second, site


def serve_client(settings, base_url: str = SERVED, token: str | None = None) -> TestClient:
    from etl.web.serve import create_standalone_app

    host = base_url.split("//")[1].rsplit(":", 1)[0]
    return TestClient(create_standalone_app(settings, token, host), base_url=base_url)


def hrefs(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [a.get("href") or "" for a in page.find_all(["a", "link", "area"])]


def foreign_or_script(href: str, settings) -> bool:
    from etl.http import host_allowed

    lowered = href.strip().lower()
    if lowered.startswith(("javascript:", "data:", "vbscript:")):
        return True
    return "://" in lowered and not host_allowed(href, settings.allowed_hosts) and not href.startswith(SERVED)


# -- row 1: one rule for links ---------------------------------------------------------------
def test_refused_links_are_stored_as_text_with_the_reason_reported_once_and_never_fetched(hostile):
    from etl.warehouse import connect

    settings, first, second, site = hostile
    with connect(settings.warehouse_url) as wh:
        refused = dict(wh.fetchall("SELECT url, link_refused FROM publications WHERE link_refused IS NOT NULL"))
        council_url = wh.fetchone("SELECT url FROM councils WHERE urn = ?", [FIRST])[0]
        fetched = {
            u for (u,) in wh.fetchall("SELECT url FROM stored_files UNION SELECT url FROM quarantined_downloads")
        }
    assert set(refused) == set(HOSTILE_LINKS.values())
    assert "not an http(s) link (javascript:)" in refused[HOSTILE_LINKS["javascript"]]
    assert "evil.example" in refused[HOSTILE_LINKS["foreign"]] and "not allowed" in refused[HOSTILE_LINKS["foreign"]]
    assert not fetched & set(refused)  # never requested, never quarantined
    # the search result's javascript: link is replaced by the council's page on the site itself
    assert council_url == f"{site.url}/provider/44/{FIRST}"
    assert len([r for r in first.refused_links]) == 3 and second.refused_links == []  # reported once
    assert any("link refused" in line for line in first.lines())


def test_the_view_shows_no_script_data_or_foreign_link_and_lists_refused_links_as_text(hostile):
    settings, *_ = hostile
    client = serve_client(settings)
    for path in ("/", "/councils", f"/councils/{FIRST}", "/changes", "/reviews"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        bad = [h for h in hrefs(answer.text) if foreign_or_script(h, settings)]
        assert bad == [], (path, bad)
        page = BeautifulSoup(answer.text, "html.parser")
        assert [s.get("src", "") for s in page.find_all("script")] == [
            s.get("src") for s in page.find_all("script", src=True)
        ]
        assert len(page.find_all("script")) == 1 and not page.find_all("img")
        assert not [a for tag in page.find_all(True) for a in tag.attrs if a.lower().startswith("on")]
    reviews = BeautifulSoup(client.get("/reviews").text, "html.parser").select("#refused tbody tr")
    assert len(reviews) == 3 and all("evil.example" in r.text or ":" in r.text for r in reviews)
    council = client.get(f"/councils/{FIRST}").text
    assert council.count("link not shown") == 3


def test_a_link_stored_before_the_rule_is_refused_when_shown(hostile):
    """Rows written before the fix (no reason stored) are checked again wherever they are shown:
    the view, the Atom feed, alert messages and the workbook."""
    from etl import export
    from etl.warehouse import connect

    settings, *_ = hostile
    with connect(settings.warehouse_url) as wh:
        refused = wh.fetchall("SELECT url, link_refused FROM publications WHERE link_refused IS NOT NULL")
        wh.execute("UPDATE publications SET link_refused = NULL")
        wh.execute("UPDATE councils SET url = ? WHERE urn = ?", [HOSTILE_LINKS["javascript"], FIRST])
        wh.execute("UPDATE reports SET url = ? WHERE urn = ?", [HOSTILE_LINKS["foreign"], FIRST])
        wh.execute("UPDATE rating_history SET report_url = ? WHERE urn = ?", [HOSTILE_LINKS["data"], FIRST])
        datasets = export.read_datasets(wh, export.SHEETS.values())
    client = serve_client(settings)
    try:
        check_shown_links(settings, client, datasets)
    finally:  # the module's warehouse, as the crawler left it, for the other tests
        with connect(settings.warehouse_url) as wh:
            for url, reason in refused:
                wh.execute("UPDATE publications SET link_refused = ? WHERE url = ?", [reason, url])


def check_shown_links(settings, client, datasets) -> None:
    from xml.etree import ElementTree as ET

    import openpyxl

    from etl import export
    from etl.alert.events import AlertEvent
    from etl.alert.messages import render

    for path in (f"/councils/{FIRST}", "/changes", "/reviews", "/councils"):
        assert [h for h in hrefs(client.get(path).text) if foreign_or_script(h, settings)] == [], path
    feed = ET.fromstring(client.get("/changes.atom").content)
    links = [link.get("href") for link in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert links and not [h for h in links if foreign_or_script(h, settings)]
    book = openpyxl.load_workbook(io.BytesIO(export.workbook(datasets, "duckdb", allowed_hosts=settings.allowed_hosts)))
    links = [c.hyperlink.target for ws in book.worksheets for row in ws.iter_rows() for c in row if c.hyperlink]
    assert links and not [u for u in links if foreign_or_script(u, settings)]
    event = AlertEvent(
        kind="focused_visit",
        event_id="e",
        urn=FIRST,
        council="X",
        published=date(2025, 1, 1),
        noticed_at=None,
        url=HOSTILE_LINKS["foreign"],
        title="Focused visit",
    )
    for fmt in ("text", "markdown", "html"):
        body = render(event, fmt, settings.allowed_hosts).body
        assert "evil.example" not in body and "Report link not available" in body


def test_the_view_sends_a_content_security_policy_and_nosniff(hostile):
    settings, *_ = hostile
    client = serve_client(settings)
    for path in ("/", "/reviews", "/static/view.css", "/councils.csv", "/nope"):
        headers = client.get(path).headers
        policy = headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert headers.get("x-content-type-options") == "nosniff", path


# -- row 2: `ofsted serve` cannot be driven from another page -------------------------------------
def held_report_id(settings) -> str:
    """A report put in the review queue (held) in the hostile warehouse."""
    from etl.warehouse import connect

    with connect(settings.warehouse_url) as wh:
        rid = wh.fetchone(
            "SELECT report_id FROM reports WHERE is_report AND framework IS NOT NULL"
            " AND urn = ? ORDER BY report_id LIMIT 1",
            [FIRST],
        )[0]
        wh.execute(
            "UPDATE reports SET needs_review = TRUE, review_flags = ? WHERE report_id = ?",
            ['["overall_effectiveness: table and body disagree"]', rid],
        )
    return rid


def form_token(client: TestClient) -> str:
    field = BeautifulSoup(client.get("/reviews").text, "html.parser").select_one("input[name=csrf]")
    return field["value"]


def test_serve_refuses_null_and_foreign_origins_foreign_hosts_and_posts_without_the_form_token(hostile):
    settings, *_ = hostile
    rid = held_report_id(settings)
    client = serve_client(settings)
    token = form_token(client)
    form = {"why": "checked", "csrf": token, "grade_overall_effectiveness": "inadequate"}
    url = f"/reviews/{rid}/grades"
    # a sandboxed iframe sends Origin: null; a page on another local port its own origin
    assert client.post(url, data=form, headers={"Origin": "null"}).status_code == 403
    assert client.post(url, data=form, headers={"Origin": "http://127.0.0.1:9999"}).status_code == 403
    # DNS rebinding: a foreign name resolving to us, with a matching Origin
    rebound = {"Host": "evil.example:8765", "Origin": "http://evil.example:8765"}
    assert client.post(url, data=form, headers=rebound).status_code == 421
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 421
    # a form without the token (or with another viewer's) is refused, even from our own origin
    assert client.post(url, data={**form, "csrf": ""}, headers={"Origin": SERVED}).status_code == 403
    stranger = serve_client(settings)
    stranger.get("/reviews")  # its own cookie: the token above is not tied to it
    assert stranger.post(url, data=form, headers={"Origin": SERVED}).status_code == 403
    # our own page's form goes through; localhost is a loopback name too
    assert client.post(url, data=form, headers={"Origin": SERVED}, follow_redirects=False).status_code == 303
    assert serve_client(settings, "http://localhost:8765").get("/").status_code == 200


def test_review_actions_apply_only_to_reports_in_the_review_queue(hostile):
    from etl import review
    from etl.warehouse import connect

    settings, *_ = hostile
    with connect(settings.warehouse_url) as wh:
        clear = wh.fetchone(
            "SELECT report_id FROM reports WHERE is_report AND NOT needs_review"
            " AND COALESCE(review_notes, '[]') = '[]' AND COALESCE(unread_areas, '[]') = '[]'"
            " AND report_id NOT IN (SELECT report_id FROM review_resolutions) LIMIT 1"
        )[0]
    client = serve_client(settings)
    form = {"why": "x", "csrf": form_token(client), "grade_overall_effectiveness": "inadequate"}
    assert client.post(f"/reviews/{clear}/grades", data=form).status_code == 404
    assert client.post(f"/reviews/{clear}/accept", data=form).status_code == 404
    with connect(settings.warehouse_url) as wh, pytest.raises(ValueError, match="not in the review queue"):
        review.set_grades(wh, clear, {"overall_effectiveness": "inadequate"}, who="x", why="y")


# -- row 3: no secret in a channel name ------------------------------------------------------------
# Apprise URLs with a key in each place a URL has: host, user, password, path, query
KEYED_URLS = {
    "prowl://Kh0stKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": ["Kh0stKey"],
    "pbul://Kh0stPushbulletKeyAAAAAAAAAAAAA": ["Kh0stPushbullet"],
    "opsgenie://Kh0stOpsgenieKey/": ["Kh0stOpsgenie"],
    "pover://Kus3rKeyAAAAAAAAAAAAAAAAAAAAAA@Kt0kenAAAAAAAAAAAAAAAAAAAAAA": ["Kus3rKey", "Kt0ken"],
    "mailto://ann:Kpa55word@mail.example.org": ["ann", "Kpa55word", "mail.example"],
    "slack://KpathA/KpathB/KpathC/#general": ["KpathA", "KpathB", "KpathC", "general"],
    "discord://123456/KwebhookToken": ["123456", "KwebhookToken"],
    "json://hooks.example.net:8080/Kp4th?token=Kqu3ry": ["hooks.example", "8080", "Kp4th", "Kqu3ry"],
}


@pytest.mark.parametrize("url", KEYED_URLS)
def test_channel_id_shows_the_scheme_and_a_fingerprint_only(url):
    from etl.alert import channel_id
    from etl.alert.rules import valid_apprise_url

    assert valid_apprise_url(url), url  # each is a real Apprise URL
    name = channel_id(url)
    assert name.split("#")[0] == url.split("://")[0] and len(name.split("#")[1]) == 12
    assert not [secret for secret in KEYED_URLS[url] if secret.lower() in name.lower()]
    assert channel_id(url) == name and channel_id(url + "x") != name


def test_ofsted_alerts_check_and_a_failed_send_name_no_part_of_the_url(tmp_path, monkeypatch, capsys, caplog):
    from etl.alert import notify_operators
    from etl.cli import main

    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    monkeypatch.setenv("OFSTED_ALERT_URLS", " ".join(KEYED_URLS))
    monkeypatch.delenv("OFSTED_ALERT_RULES", raising=False)
    assert main(["alerts", "check"]) == 0
    out = capsys.readouterr().out
    secrets = [s for parts in KEYED_URLS.values() for s in parts]
    assert f"{len(KEYED_URLS)} rule(s), valid" in out
    assert not [s for s in secrets if s in out], out
    # a send that fails: the error Apprise wrote may quote its target
    failing = "json://127.0.0.1:9/Kp4thSecret?token=Kqu3rySecret"
    notify_operators([failing], "t", "b", send=lambda url, *a: f"could not reach {url} (Kp4thSecret)")
    logged = caplog.text
    assert "could not notify operators via json#" in logged
    assert "Kp4thSecret" not in logged and "Kqu3rySecret" not in logged and "127.0.0.1:9" not in logged


def test_migration_012_takes_the_host_out_of_stored_channel_names(empty_warehouse):
    from etl.warehouse import connect, migrate

    with connect(empty_warehouse) as wh:
        migrate(wh, target=11)
        wh.execute(
            "INSERT INTO alert_messages (message_id, channel, kind, status, attempts, updated_at)"
            " VALUES ('m', 'prowl://Kh0stKey#0123456789ab/daily', 'digest', 'delivered', 1, CURRENT_TIMESTAMP)"
        )
        migrate(wh)
        assert wh.fetchall("SELECT channel FROM alert_messages") == [("prowl#0123456789ab/daily",)]


# -- row 4: escaping by destination, titles as well as bodies --------------------------------------
def visible(markdown_text: str) -> tuple[str, BeautifulSoup]:
    """What a CommonMark renderer shows (zero-width spaces dropped), and its markup."""
    from markdown_it import MarkdownIt

    from etl.alert.messages import ZWSP

    page = BeautifulSoup(MarkdownIt("commonmark").render(markdown_text), "html.parser")
    return page.get_text().replace(ZWSP, ""), page


@pytest.mark.parametrize("urn", list(HOSTILE_NAMES))
def test_alert_titles_and_bodies_are_escaped_for_the_format_apprise_is_told(urn):
    from etl.alert.events import AlertEvent
    from etl.alert.messages import clean, render

    event = AlertEvent(
        event_id="e",
        kind="new_council",
        urn=urn,
        council=HOSTILE_NAMES[urn],
        published=date(2025, 1, 1),
        url=None,
        noticed_at=None,
        held=(("overall_effectiveness", "good"),),
    )
    name = clean(HOSTILE_NAMES[urn])
    md = render(event, "markdown", ())
    # Discord and Mattermost render the title as Markdown; Google Chat merges it into the body
    for text in (md.title, md.title + "\n\n" + md.body):
        shown, page = visible(text)
        assert name in shown, (name, shown)  # the name reads as it is: no markup taken from it
        assert not page.find_all(["a", "img", "script", "code", "h1", "h2", "h3"])
    for message in (md, render(event, "text", ()), render(event, "html", ())):
        for text in (message.title, message.body):
            assert "<users/all>" not in text and "<!channel>" not in text
            assert "@everyone" not in text or message.format == "html" and text is message.body  # email: no mentions
            assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    html = render(event, "html", ())
    assert not BeautifulSoup(html.body, "html.parser").find_all(["script", "img", "a"])


# -- row 6 (CSV): one neutraliser for the exports, /councils.csv and `ofsted query` -----------------
def test_ofsted_query_csv_neutralises_formulas_as_the_exports_do(hostile, monkeypatch, capsys):
    import csv

    from etl import export
    from etl.cli import main

    settings, *_ = hostile
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", settings.warehouse_url)
    formula = HOSTILE_NAMES[FIRST]
    outputs = {}
    for what in ("summary", "current", "changes"):
        assert main(["query", what, "--format", "csv"]) == 0
        outputs[what] = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    cells = [cell for rows in outputs.values() for row in rows for cell in row]
    assert "'" + formula in cells and formula not in cells
    assert not [c for c in cells if c.startswith(export.FORMULA_START)]
    # the view's CSV and the exports write the same cell
    view_csv = serve_client(settings).get("/councils.csv").text
    assert "'" + formula in [c for row in csv.reader(io.StringIO(view_csv)) for c in row]


# -- the low rows ----------------------------------------------------------------------------------
def test_control_characters_are_removed_where_names_are_taken_in_and_the_feed_stays_xml(hostile):
    from xml.etree import ElementTree as ET

    from etl.warehouse import connect

    settings, *_ = hostile
    bath = "80427"
    with connect(settings.warehouse_url) as wh:
        name = wh.fetchone("SELECT name FROM councils WHERE urn = ?", [bath])[0]
        titles = [t for (t,) in wh.fetchall("SELECT title FROM publications WHERE urn = ?", [bath])]
    assert name.startswith("Bath ]0;pwned[2J[31mredevil") and name.isprintable()  # (HTML makes the NUL U+FFFD)
    assert titles and all(t.isprintable() for t in titles)
    # a row stored before the crawler cleaned names: the feed is still XML
    with connect(settings.warehouse_url) as wh:
        wh.execute("UPDATE councils SET name = ? WHERE urn = ?", [HOSTILE_NAMES[bath], bath])
        wh.execute("UPDATE rating_history SET local_authority = ? WHERE urn = ?", [HOSTILE_NAMES[bath], bath])
    client = serve_client(settings)
    for path in ("/changes.atom", f"/councils/{bath}/changes.atom"):
        answer = client.get(path)
        assert answer.status_code == 200
        ET.fromstring(answer.content)  # well-formed


def test_terminal_output_shows_escape_sequences_as_text(hostile, monkeypatch, capsys):
    from etl.cli import main
    from etl.warehouse import connect

    settings, *_ = hostile
    bath = "80427"
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", settings.warehouse_url)
    with connect(settings.warehouse_url) as wh:  # stored as before the fix, and a reviewer's hostile words
        wh.execute("UPDATE councils SET name = ? WHERE urn = ?", [HOSTILE_NAMES[bath], bath])
        wh.execute("UPDATE rating_history SET local_authority = ? WHERE urn = ?", [HOSTILE_NAMES[bath], bath])
        rid = wh.fetchone(
            "SELECT r.report_id FROM reports r JOIN publications p ON p.url = r.url"
            " WHERE p.urn = ? AND r.is_report AND r.framework IS NOT NULL ORDER BY r.report_id LIMIT 1",
            [bath],
        )[0]
        wh.execute(
            "UPDATE reports SET needs_review = TRUE, review_flags = ? WHERE report_id = ?",
            ['["flag \\u001b[31m red"]', rid],
        )
    assert (
        main(["review", "set", rid[:12], "overall_effectiveness=good", "--why", "ok \x1b]0;x\x07", "--by", "\x1b[2Jme"])
        == 0
    )
    assert main(["review", "show", rid[:12]]) == 0
    assert main(["review", "list", "--all"]) == 0
    listed = capsys.readouterr().out
    assert "3 publication link(s) refused" in listed and HOSTILE_LINKS["foreign"] in listed
    assert main(["query", "current", bath]) == 0
    out = listed + capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[31m" in out and "\\x1b]0;x\\x07" in out and "\\x1b[2Jme" in out


def test_ofsted_run_prints_its_summary_escaped(hostile, monkeypatch, capsys):
    import argparse

    from etl import pipeline
    from etl.cli import run

    settings, *_ = hostile
    monkeypatch.setattr(
        pipeline,
        "run_once",
        lambda *a, **k: pipeline.RunSummary("r", changes=[f"{HOSTILE_NAMES['80427']}: overall effectiveness good"]),
    )
    args = argparse.Namespace(council=None, limit=None, reparse=False, since=None, historic_alerts=False)
    assert run.command(args, settings) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_the_view_token_never_reaches_the_access_log_and_serve_prints_the_warehouse_redacted(monkeypatch, capsys):
    import logging

    from etl.cli import serve as serve_cli
    from etl.web import serve

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/councils?token=s3cr3t-token&region=London", "1.1", 303),
        None,
    )
    serve.quiet_access_log()
    logger = logging.getLogger("uvicorn.access")
    assert all(f.filter(record) for f in logger.filters)
    assert "s3cr3t-token" not in record.getMessage() and "/councils" in record.getMessage()
    # `ofsted serve` names the warehouse without its password, in the userinfo or the query
    started = []
    monkeypatch.setattr("uvicorn.Server.run", lambda self: started.append(self))
    settings = Settings.from_env({"OFSTED_WAREHOUSE_URL": "postgresql://ofsted:pw1@db/ofsted?password=pw2"})
    import argparse

    assert serve_cli.command(argparse.Namespace(host="127.0.0.1", port=8765), settings) == 0
    err = capsys.readouterr().err
    assert started and "db/ofsted" in err and "pw1" not in err and "pw2" not in err


def test_ofsted_alerts_check_reports_a_complex_key_as_a_clear_error(tmp_path, monkeypatch, capsys):
    from etl.cli import main

    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    monkeypatch.delenv("OFSTED_ALERT_URLS", raising=False)
    for n, text in enumerate(
        (
            "? [a, b]\n: x\n",
            "rules:\n  - target: json://h/x\n    ? [a, b]\n    : y\n",
            "rules:\n  - target: json://h/x\n    councils: {? [a]: b}\n",
        )
    ):
        path = tmp_path / f"r{n}.yaml"
        path.write_text(text)
        assert main(["alerts", "check", str(path)]) == 1
        err = capsys.readouterr().err
        assert "a key must be a plain name" in err and "Traceback" not in err, err


def test_the_link_rule_agrees_with_the_downloaders_host_check():
    """safe_link's fast path for plain URLs gives the downloader's answer (etl.http.host_allowed)."""
    import random

    from etl.http import host_allowed
    from etl.links import safe_link

    allowed = ("reports.ofsted.gov.uk", "files.ofsted.gov.uk", "127.0.0.1:8080")
    pieces = [
        "https://",
        "http://",
        "HTTPS://",
        "javascript:",
        "data:",
        "//",
        "files.ofsted.gov.uk",
        "FILES.ofsted.gov.uk",
        "evil.example",
        "127.0.0.1",
        ":8080",
        ":443",
        ":80",
        ":0443",
        "@",
        "\\",
        "/v1/file/1",
        "?a=b",
        "#x",
        " ",
        "\t",
        "%2e",
        "[::1]",
        ".",
        "user:pw@",
        "\x00",
        "é",
    ]
    rng = random.Random(20)
    urls = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(20000)]
    urls += [
        "https://files.ofsted.gov.uk/v1/file/50001",
        "http://127.0.0.1:8080/v1/file/1",
        HOSTILE_LINKS["foreign"],
        *HOSTILE_LINKS.values(),
        "https://files.ofsted.gov.uk\\@evil.example/x",
    ]
    disagree = [u for u in urls if bool(safe_link(u, allowed)) != host_allowed(u, allowed)]
    assert disagree == []
