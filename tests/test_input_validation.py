"""Council URNs and dates from the command line or the DAG's params are checked before use:
a URN is pasted into a URL path, so only digits are accepted, with a clear error."""

from __future__ import annotations

from datetime import date

import pytest

from etl import pipeline
from etl.cli import main
from etl.config import Settings
from etl.crawl import crawl
from etl.records import iso_date, urn
from tests.support.fakesite import FakeOfstedSite

BAD_URNS = ["80487/../../search?q=x", "../v1/file/50000001", "80487 ", "", "８０４８７", "80487%2F1", "-1"]


@pytest.mark.parametrize("value", BAD_URNS)
def test_urn_accepts_digits_only(value):
    with pytest.raises(ValueError, match="URN"):
        urn(value)


def test_good_urns_and_dates_pass():
    assert urn("80487") == "80487" and urn("2532283") == "2532283"
    assert iso_date("2024-02-29") == date(2024, 2, 29)


@pytest.mark.parametrize("value", ["2024-13-01", "last week", "01/02/2024", "2024-1-1x"])
def test_iso_date_says_the_format(value):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        iso_date(value)


@pytest.mark.parametrize(
    "argv", [["run", "--council", "80487/../x"], ["crawl", "--council", "x"], ["run", "--since", "yesterday"]]
)
def test_the_command_line_refuses_bad_urns_and_dates(argv, capsys):
    try:  # a council is a URN or a name (etl.councils): one that names none is refused before any request
        code = main(argv)
    except SystemExit as exited:
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err
    assert "no council named" in err or "YYYY-MM-DD" in err


def test_a_bad_urn_from_the_dag_params_sends_no_request(tmp_path):
    with FakeOfstedSite(councils=2) as site:
        settings = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path / "l")))
        with pytest.raises(ValueError, match="URN"):
            crawl(settings, councils=["80487", "../v1/file/50000001"])
        with pytest.raises(ValueError, match="no council named '2532283\\?x=1'"):  # nor a name
            pipeline.discover(settings, "r", councils=["2532283?x=1"])
        assert sum(site.requests.values()) == 0
