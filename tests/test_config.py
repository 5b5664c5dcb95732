"""Settings from the environment: documented defaults and the warehouse's precedence rules."""

from __future__ import annotations

from pathlib import Path

from etl.config import Settings


def test_defaults_need_no_server(tmp_path):
    s = Settings.from_env({"OFSTED_DATA_DIR": str(tmp_path)})
    assert s.site_url == "https://reports.ofsted.gov.uk"
    assert s.allowed_hosts == ("reports.ofsted.gov.uk", "files.ofsted.gov.uk")
    assert s.warehouse_url == f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    assert Path(s.landing) == tmp_path / "landing"
    assert s.alert_urls == () and s.requests_per_second <= 2


def test_airflow_connection_takes_precedence_and_postgres_scheme_is_normalised():
    s = Settings.from_env(
        {
            "OFSTED_WAREHOUSE_URL": "duckdb:///x.duckdb",
            "AIRFLOW_CONN_OFSTED_WAREHOUSE": "postgres://etl@db:5432/warehouse",
        }
    )
    assert s.warehouse_url == "postgresql://etl@db:5432/warehouse"


def test_json_airflow_connection_is_left_to_airflow():
    s = Settings.from_env(
        {
            "OFSTED_WAREHOUSE_URL": "postgresql://etl@db/w",
            "AIRFLOW_CONN_OFSTED_WAREHOUSE": '{"conn_type": "postgres", "host": "db"}',
        }
    )
    assert s.warehouse_url == "postgresql://etl@db/w"


def test_lists_split_on_spaces_and_commas():
    s = Settings.from_env(
        {
            "OFSTED_ALERT_URLS": "json://a/x, slack://t/u  mailto://b",
            "OFSTED_ALLOWED_HOSTS": "example.org,files.example.org",
        }
    )
    assert s.alert_urls == ("json://a/x", "slack://t/u", "mailto://b")
    assert s.allowed_hosts == ("reports.ofsted.gov.uk", "example.org", "files.example.org")


def test_the_sites_own_host_is_always_allowed_and_urls_reduce_to_hosts():
    s = Settings.from_env(
        {
            "OFSTED_SITE_URL": "http://127.0.0.1:8000/",
            "OFSTED_ALLOWED_HOSTS": "http://files.test:8001/, files.test:8001",
        }
    )
    assert s.allowed_hosts == ("127.0.0.1", "files.test:8001")
