"""A real browser on the view: Debian's chromium, headless, driven through chromedriver.
Every page fits the window at 1440 and 390 px (no page scrolls sideways: wide tables and the
charts scroll in their own box, the charts opening on the latest years); the England page and a
council page render with the map and the chart, sort a table by keyboard, and log no console errors. Screenshots land in
$OFSTED_SCREENSHOTS (or the test's temporary folder) for a person to look at.
`make test` installs chromium and chromium-driver where they are missing (as root, apt-get)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="chromium / chromedriver not installed"),
    pytest.mark.xdist_group("browser"),
]
WIDTHS = (1440, 360)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`ofsted serve`'s app on a loopback port, over a synthetic England (~600 reports), with
    hostile links written as a store before the link rule would hold them (etl.links)."""
    import uvicorn

    from etl.config import Settings
    from etl.warehouse import connect, migrate
    from etl.web.serve import create_standalone_app
    from tests.support.england import load_england

    url = f"duckdb:///{tmp_path_factory.mktemp('browser')}/warehouse.duckdb"
    with connect(url) as wh:
        migrate(wh)
        load_england(wh)
        store_hostile_links(wh)
        store_hostile_points(wh)
        store_search_text(wh)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_standalone_app(Settings.from_env({"OFSTED_WAREHOUSE_URL": url}), None, "127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the view did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def store_search_text(wh) -> None:
    """Page text for one report in three, so the search has hits across the years, and a hostile
    page (markup that would run if a snippet were not escaped)."""
    from etl import search

    rows = wh.fetchall("SELECT report_id FROM reports WHERE is_report ORDER BY published, report_id")
    pages = {
        rid: ["Summary of the inspection.", f"Return home interviews were reviewed ({n}); private fostering too."]
        for n, (rid,) in enumerate(rows[::3])
    }
    pages[rows[-1][0]] = [
        "Return home interviews <img src=x onerror=\"document.title='pwned'\"><script>"
        'document.title="pwned"</script> late.'
    ]
    with wh.transaction():
        search.replace_text(wh, pages)
    search.sync_index(wh)


def store_hostile_links(wh) -> None:
    """Barnet's provider link, a publication per hostile link, its reports' and history's links,
    and one held report (so the review page has forms), as a warehouse from before the rule."""
    from datetime import date

    from tests.support.fakesite import HOSTILE_LINKS

    wh.execute("UPDATE councils SET url = ? WHERE urn = '80487'", [HOSTILE_LINKS["javascript"]])
    wh.insert_rows(
        "publications",
        ("url", "urn", "local_authority", "kind", "title", "published", "first_seen", "last_seen"),
        [
            (
                link,
                "80487",
                "Barnet",
                "focused_visit",
                f"Focused visit ({kind})",
                date(2025, 1, 2),
                date(2025, 1, 2),
                date(2025, 1, 2),
            )
            for kind, link in HOSTILE_LINKS.items()
        ],
    )
    rid = wh.fetchone(
        "SELECT report_id FROM reports WHERE urn = '80487' AND is_report ORDER BY published DESC LIMIT 1"
    )[0]
    wh.execute(
        "UPDATE reports SET url = ?, needs_review = TRUE, review_flags = ? WHERE report_id = ?",
        [HOSTILE_LINKS["foreign"], '["overall_effectiveness: table and body disagree"]', rid],
    )
    wh.execute("UPDATE rating_history SET report_url = ? WHERE urn = '80487'", [HOSTILE_LINKS["data"]])


HOSTILE_POINT = (
    '<script>alert("point")</script><img src=x onerror=alert(1)> a point longer than any screen: ' + "multi-agency" * 30
)


def store_hostile_points(wh) -> None:
    """A hostile point (markup, and a word wider than a phone) last on Barnet's latest graded
    inspection and on its latest letter that lists points."""
    for sql in (
        "SELECT report_id FROM latest_grades WHERE urn = '80487'",
        "SELECT report_id FROM improvements WHERE urn = '80487' AND kind = 'focused_visit'"
        " ORDER BY published DESC LIMIT 1",
    ):
        rid = wh.fetchone(sql)[0]
        wh.execute(
            "INSERT INTO improvement_points (report_id, position, text)"
            " SELECT ?, MAX(position) + 1, ? FROM improvement_points WHERE report_id = ?",
            [rid, HOSTILE_POINT, rid],
        )


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager fetch a driver
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("OFSTED_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# what sticks out of the window: the outermost elements past its right edge that no box scrolls
OVERFLOWING = """
const out = [];
for (const el of document.querySelectorAll('body *')) {
  if (el.getBoundingClientRect().right <= innerWidth + 1) continue;
  let a = el.parentElement, held = false;
  while (a && a !== document.body) {
    if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= innerWidth + 1) { held = true; break; }
    a = a.parentElement;
  }
  if (!held && !out.some(o => o.contains(el))) out.push(el);
}
return out.slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
"""


def fits(driver) -> None:
    """Nothing wider than the window: the page never scrolls sideways (tables and charts
    scroll inside their own box); what sticks out is named."""
    wide = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], (wide, driver.current_url, driver.execute_script(OVERFLOWING))


def visit(driver, url: str, width: int):
    driver.set_window_size(width, 1000)
    driver.get(url)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    fits(driver)


# every page of the view, as a person reaches it (name -> path)
PAGES = {
    "england": "/",
    "england-send": "/?area=area_send_outcome",
    "england-priority": "/?area=priority_actions",
    "councils": "/councils",
    "council": "/councils/80487",
    "council-successor": "/councils/2637539",
    "changes": "/changes",
    "changes-london": "/changes?region=London",
    "england-over-time": "/england/over-time",
    "england-over-time-region": "/england/over-time?area=care_leavers&region=London&as_at=2019-03-31",
    "search-empty": "/search",
    "search": '/search?q="return home interviews"',
    "search-council": "/search?q=Barnt",
    "reviews": "/reviews",
}


@pytest.mark.parametrize("width", (1440, 390))
@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways(site, browser, shots, name, width):
    """At a desktop's width and a phone's, every page fits the window (the issue 28 check:
    document.documentElement.scrollWidth <= innerWidth), looked at in the screenshots."""
    visit(browser, site + PAGES[name], width)
    full_page_shot(browser, shots / f"page-{name}-{width}.png")


def full_page_shot(driver, path: Path, most: int = 5000) -> None:
    """The page from the top down to `most` px (a phone's page is long), as a person scrolls it."""
    import base64

    height = min(driver.execute_script("return document.documentElement.scrollHeight"), most)
    width = driver.execute_script("return window.innerWidth")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
    )
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("width", WIDTHS)
def test_england_page_shows_the_map(site, browser, shots, width):
    from selenium.webdriver.common.by import By

    visit(browser, site + "/", width)
    hexes = browser.find_elements(By.CSS_SELECTOR, "#hexmap a.hex")
    assert len(hexes) >= 150
    box = browser.find_element(By.ID, "hexmap").rect
    assert 150 < box["width"] <= width and box["height"] > 150
    fills = browser.execute_script(
        "return [...new Set([...document.querySelectorAll('#hexmap polygon')].map(p => getComputedStyle(p).fill))]"
    )
    assert len(fills) >= 5  # four grades and "not judged", coloured from the inline grade styles
    assert browser.find_elements(By.CSS_SELECTOR, ".counts li") and browser.find_elements(By.CSS_SELECTOR, ".recent li")
    browser.save_screenshot(str(shots / f"england-{width}.png"))


@pytest.mark.parametrize("width", WIDTHS)
def test_council_page_shows_the_chart(site, browser, shots, width):
    from selenium.webdriver.common.by import By

    visit(browser, site + "/councils/80487", width)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Barnet"
    chart = browser.find_element(By.ID, "stepchart")
    assert chart.rect["width"] >= min(600, width - 40)  # legible: narrow screens scroll it in its box
    assert browser.find_element(By.CSS_SELECTOR, "figure.chart").rect["width"] <= width
    lines = browser.find_elements(By.CSS_SELECTOR, "#stepchart path.line")
    assert len(lines) == 5 and all(line.get_attribute("d").startswith("M") for line in lines)
    assert browser.find_elements(By.CSS_SELECTOR, "#stepchart text.mark-label")
    browser.save_screenshot(str(shots / f"council-{width}.png"))


@pytest.mark.parametrize("width", (1440, 390))
def test_council_page_shows_what_needs_to_improve_and_each_letters_points_folded(site, browser, shots, width):
    from selenium.webdriver.common.by import By

    visit(browser, site + "/councils/80487", width)
    section = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=improve]")
    points = [li.text for li in section.find_elements(By.CSS_SELECTOR, "ol.points li")]
    assert len(points) >= 3 and points[-1] == HOSTILE_POINT  # shown as text, wrapped inside the page
    assert section.find_element(By.CSS_SELECTOR, ".meta a").text == "the report (PDF)"
    assert all(li.rect["width"] <= width for li in section.find_elements(By.CSS_SELECTOR, "ol.points li"))
    folded = browser.find_elements(By.CSS_SELECTOR, "#visits ~ .scroll tr.letter-points details")
    assert folded and not folded[0].find_element(By.TAG_NAME, "ol").is_displayed()
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", section)
    browser.save_screenshot(str(shots / f"council-improvements-{width}.png"))
    folded[0].find_element(By.TAG_NAME, "summary").click()  # unfolds the letter's points
    browser.execute_script("document.getElementById('visits').scrollIntoView({block: 'start'})")
    assert folded[0].get_attribute("open") is not None and folded[0].find_element(By.TAG_NAME, "ol").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    fits(browser)
    browser.save_screenshot(str(shots / f"council-letter-points-{width}.png"))


def test_councils_table_sorts_from_the_keyboard(site, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    visit(browser, site + "/councils", 1440)
    names = lambda: [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr td:first-child")]  # noqa: E731
    before = names()
    assert len(before) >= 150
    button = browser.find_element(By.CSS_SELECTOR, "table.data thead th:first-child button")
    button.send_keys(Keys.ENTER)  # ascending
    button.send_keys(Keys.ENTER)  # descending
    assert names() == sorted(before, key=str.lower, reverse=True) or names() == list(reversed(sorted(before)))
    assert button.find_element(By.XPATH, "..").get_attribute("aria-sort") == "descending"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    browser.save_screenshot(str(shots / "councils-1440.png"))


@pytest.mark.parametrize("path", ["/councils/80487", "/councils", "/changes", "/reviews"])
def test_no_script_data_or_foreign_link_on_the_pages(site, browser, path):
    """Every link the browser sees goes to this view or an allowed host, by http(s) (the stored
    links are hostile: javascript:, data:, a foreign host); the pages log no CSP violation."""
    import urllib.request

    from etl.config import Settings
    from etl.http import host_allowed

    visit(browser, site + path, 1440)
    links = browser.execute_script(
        "return [...document.querySelectorAll('a[href], area[href], link[href]')].map(a => a.href)"
    )
    allowed = Settings.from_env({}).allowed_hosts
    bad = [h for h in links if not (h.startswith(site + "/") or h.startswith(site + "#") or host_allowed(h, allowed))]
    assert links and bad == [], bad
    if path == "/councils/80487":
        assert browser.page_source.count("link not shown") == 3
    with urllib.request.urlopen(site + path) as answer:
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("width", WIDTHS)
def test_england_over_time_shows_the_chart_and_tables(site, browser, shots, width):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, site + "/", width)
    browser.find_element(By.PARTIAL_LINK_TEXT, "England over time").click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("England over time")
    chart = browser.find_element(By.ID, "sharechart")
    assert chart.rect["width"] >= min(600, width - 40) and chart.rect["height"] > 150
    assert browser.find_element(By.CSS_SELECTOR, "figure.chart").rect["width"] <= width
    fills = browser.execute_script(
        "return [...new Set([...document.querySelectorAll('#sharechart polygon.band')]"
        ".map(p => getComputedStyle(p).fill))]"
    )
    assert len(fills) == 4  # one colour per grade
    assert len(browser.find_elements(By.CSS_SELECTOR, "#as-at tbody tr")) == 10  # England and nine regions
    assert browser.find_elements(By.CSS_SELECTOR, "#movement tbody a")
    # every council's row as at the date: a wide table that scrolls inside its own box
    box = browser.execute_script(
        "const t = document.getElementById('councils-at'), b = t.parentElement;"
        " return [t.rows.length, b.getBoundingClientRect().right, b.scrollWidth, b.clientWidth]"
    )
    assert box[0] > 150 and box[1] <= width + 1 and (width > 1000 or box[2] > box[3])
    # another date and region through the choosers
    browser.find_element(By.NAME, "region").send_keys("London")
    browser.execute_script("document.querySelector('input[name=as_at]').value = '2020-03-31'")
    browser.find_element(By.CSS_SELECTOR, ".filters button").click()
    # the new page arrives in its own time: wait for it rather than read the old one's elements
    WebDriverWait(browser, 20).until(lambda b: "region=London" in b.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith("London")
    assert (
        browser.find_element(By.CSS_SELECTOR, "#as-at").find_element(By.XPATH, "preceding::h2[1]").text
        == "As at 2020-03-31"
    )
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    fits(browser)
    browser.save_screenshot(str(shots / f"england-over-time-{width}.png"))


@pytest.mark.parametrize("width", (1440, 390))
def test_the_search_box_on_every_page_and_the_search_page(site, browser, shots, width):
    """The header's box from the keyboard (Tab reaches it after the navigation, Enter
    searches), councils by name first, then marked snippets, the year chart and the pager,
    at a desktop's width and a phone's, nothing wider than the window, no script run from a page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, site + "/councils/80487", width)  # (/councils at 390 px is issue 28's)
    box = browser.find_element(By.ID, "site-q")
    assert box.is_displayed() and box.rect["x"] + box.rect["width"] <= width
    assert browser.find_element(By.CSS_SELECTOR, "label[for=site-q]").get_attribute("textContent").strip()
    browser.find_elements(By.CSS_SELECTOR, "header nav a")[-1].send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "site-q", "Tab reaches the box after the nav"
    browser.switch_to.active_element.send_keys("Barnt", Keys.ENTER)
    # the form's navigation ends in its own time: wait for it (a busy machine is slow)
    WebDriverWait(browser, 20).until(lambda b: "/search?q=Barnt" in b.current_url)
    visit(browser, browser.current_url, width)
    assert browser.find_element(By.CSS_SELECTOR, ".found-councils li a").text == "Barnet"
    browser.save_screenshot(str(shots / f"search-council-{width}.png"))

    visit(browser, site + '/search?q="return home interviews"', width)
    marks = browser.find_elements(By.CSS_SELECTOR, "ol.hits .snippet mark")
    assert marks and {m.text.lower() for m in marks} == {"return home interviews"}
    assert (
        browser.execute_script("return getComputedStyle(document.querySelector('mark')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    ), "the match stands out"
    assert browser.title != "pwned" and not browser.find_elements(By.CSS_SELECTOR, ".snippet img, .snippet script")
    assert any("<script>" in s.text for s in browser.find_elements(By.CSS_SELECTOR, ".snippet")), "shown as text"
    bars = browser.find_elements(By.CSS_SELECTOR, "#yearchart rect.bar")
    chart = browser.find_element(By.ID, "yearchart").rect
    assert len(bars) >= 10 and 0 < chart["width"] <= width and chart["height"] > 60
    assert len(browser.find_elements(By.CSS_SELECTOR, "ol.hits > li")) == 20
    assert browser.find_element(By.CSS_SELECTOR, "nav.pager a[rel=next]").is_displayed()
    browser.save_screenshot(str(shots / f"search-{width}.png"))
    browser.find_element(By.CSS_SELECTOR, ".search-more summary").send_keys(Keys.ENTER)  # the filters, by keyboard
    assert browser.find_element(By.NAME, "council").is_displayed()
    fits(browser)
    browser.save_screenshot(str(shots / f"search-filters-{width}.png"))
    # a query that cannot be searched: said on the page (a 400, which is all the console says)
    browser.get(site + '/search?q="unclosed')
    assert "unbalanced quotes" in browser.find_element(By.CSS_SELECTOR, ".problem").text
    assert [e["message"].split(" - ")[-1] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_wide_tables_scroll_in_their_box_with_the_first_column_fixed(site, browser, shots):
    """At 390 px the councils table scrolls inside its box and its first column stays put; at
    1440 px it fits whole (the care leavers column was cut: "from Requires improveme")."""
    from selenium.webdriver.common.by import By

    visit(browser, site + "/councils", 1440)
    box = browser.find_element(By.CSS_SELECTOR, "main .scroll")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", box)
    visit(browser, site + "/councils", 390)
    box = browser.find_element(By.CSS_SELECTOR, "main .scroll")
    first, second = browser.find_elements(By.CSS_SELECTOR, "main .scroll tbody tr:first-child td")[:2]
    before = first.rect["x"], second.rect["x"]
    browser.execute_script("arguments[0].scrollLeft = 300", box)
    assert browser.execute_script("return arguments[0].scrollLeft", box) > 0
    assert first.rect["x"] == before[0] and second.rect["x"] < before[1]  # the council's name stays in view
    fits(browser)
    browser.save_screenshot(str(shots / "councils-scrolled-390.png"))


def test_priority_action_text_stays_on_a_phones_screen(site, browser, shots):
    from selenium.webdriver.common.by import By

    visit(browser, site + "/changes", 390)
    texts = browser.find_elements(By.CSS_SELECTOR, ".pa-texts li")
    assert texts and all(0 <= li.rect["x"] and li.rect["x"] + li.rect["width"] <= 390 for li in texts[:20])
    labels = browser.execute_script(
        "return getComputedStyle(document.querySelector('table.stack td'), '::before').content"
    )
    assert labels == '"Published: "'  # each value says what it is, the header row being out of sight


@pytest.mark.parametrize("path, chart", [("/councils/80487", "stepchart"), ("/england/over-time", "sharechart")])
def test_charts_open_on_the_latest_years(site, browser, shots, path, chart):
    """On a phone a chart is wider than its box: it opens at its right-hand end, this year in
    view, its axis labels fixed at the left."""
    from datetime import date

    from selenium.webdriver.common.by import By

    visit(browser, site + path, 390)
    box = browser.find_element(By.CSS_SELECTOR, f"#{chart}").find_element(By.XPATH, "ancestor::div[@data-latest]")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", box)
    assert browser.execute_script(
        "return arguments[0].scrollLeft + arguments[0].clientWidth >= arguments[0].scrollWidth - 1", box
    )
    this_year = next(
        t for t in browser.find_elements(By.CSS_SELECTOR, f"#{chart} text.year") if t.text == str(date.today().year)
    )
    inside = box.rect
    assert (
        inside["x"] <= this_year.rect["x"]
        and this_year.rect["x"] + this_year.rect["width"] <= inside["x"] + inside["width"]
    )
    axis = box.find_element(By.CSS_SELECTOR, ".chart-axis").rect
    assert axis["x"] == inside["x"] and axis["width"] > 20  # the labels stay at the left
    browser.execute_script("window.scrollTo(0, arguments[0].getBoundingClientRect().top + scrollY - 60)", box)
    browser.save_screenshot(str(shots / f"{chart}-latest-390.png"))


@pytest.mark.parametrize("width", WIDTHS)
def test_england_map_shows_who_is_due(site, browser, shots, width):
    """Issue 29: the map's choice "inspection due in the next 6 months", and its legend."""
    from selenium.webdriver.common.by import By

    visit(browser, site + "/?area=inspection_due", width)
    classes = {p.get_attribute("class") for p in browser.find_elements(By.CSS_SELECTOR, "#hexmap polygon")}
    assert "fill-due_soon" in classes and classes <= {"fill-due_soon", "fill-due_later", "fill-monitoring", "fill-none"}
    assert "Due in the next 6 months" in browser.find_element(By.CSS_SELECTOR, ".counts").text
    browser.save_screenshot(str(shots / f"england-due-{width}.png"))
