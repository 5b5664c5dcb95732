"""The fake site and the settings that point the stages at it, for every test that crawls.

`site` is a started FakeOfstedSite (tests/support/fakesite.py), stopped after the test; a module
or test says what it needs with `pytest.mark.site(councils=7, rows_per_page=3, ...)` (the
FakeOfstedSite options; 3 councils by default). `settings` are `site_settings(site, tmp_path)`.
"""

from __future__ import annotations

import pytest

from etl.config import Settings
from tests.support.fakesite import FakeOfstedSite


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "site(**options): the FakeOfstedSite options of the `site` fixture")


def site_settings(site: FakeOfstedSite, tmp_path, **env: str) -> Settings:
    """Settings for the stages against `site` (its URL, hosts and fast retries), the data and
    the landing store under `tmp_path`, then `env` (OFSTED_* names) over those."""
    return Settings.from_env(
        site.env(**{"OFSTED_DATA_DIR": str(tmp_path), "OFSTED_LANDING": str(tmp_path / "landing"), **env})
    )


@pytest.fixture
def site(request):
    marker = request.node.get_closest_marker("site")
    with FakeOfstedSite(**(marker.kwargs if marker else {})) as fake:
        yield fake


@pytest.fixture
def settings(site, tmp_path) -> Settings:
    return site_settings(site, tmp_path)
