"""Secrets (passwords in URLs, tokens) appear in no output: CLI prints, logs, exceptions,
operator notices."""

from __future__ import annotations

import logging
import subprocess
from types import SimpleNamespace

import pytest

from etl.redact import RedactingFilter, redact
from etl.warehouse import WarehouseError, connect
from tests.support.fakesite import FakeOfstedSite
from tests.support.synth_reports import listing_pdf
from tests.support.warehouse_fixtures import fresh_postgres_url
from tests.support.webhook import WebhookReceiver
from tests.test_parse_cli import _ofsted

SECRET = "Tr0ub4dor-s3cret"


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


@pytest.mark.parametrize(
    "text, shown",
    [
        (f"postgresql://ofsted:{SECRET}@db:5432/ofsted", "postgresql://ofsted:***@db:5432/ofsted"),
        (f"redis://:{SECRET}@redis:6379/0", "redis://:***@redis:6379/0"),
        (f"json://hooks.example/x?token={SECRET}&a=1", "json://hooks.example/x?token=***&a=1"),
        (f"conn failed: 'postgresql://u:{SECRET}@h/d' (x)", "conn failed: 'postgresql://u:***@h/d' (x)"),
    ],
)
def test_redact_masks_url_passwords_and_token_parameters(text, shown):
    assert redact(text) == shown


def test_ofsted_run_prints_no_password(tmp_path):
    with fresh_postgres_url() as url, FakeOfstedSite(councils=1, pdf_factory=listing_pdf) as site:
        env = {
            "PATH": "/usr/bin:/bin",
            **site.env(
                OFSTED_DATA_DIR=str(tmp_path),
                OFSTED_LANDING=str(tmp_path / "l"),
                OFSTED_WAREHOUSE_URL=with_password(url),
            ),
        }
        result = subprocess.run(_ofsted() + ["-v", "run"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warehouse: postgresql://postgres:***@" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_a_failing_command_prints_no_password_in_its_traceback(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "OFSTED_WAREHOUSE_URL": f"postgresql://u:{SECRET}@127.0.0.1:1/nodb?connect_timeout=2",
    }
    result = subprocess.run(_ofsted() + ["migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://root:{SECRET}@db/ofsted",  # unsupported scheme
        f"postgresql://u:{SECRET}@127.0.0.1:notaport/db",  # malformed: libpq quotes the string
    ],
)
def test_warehouse_errors_do_not_quote_the_password(url):
    with pytest.raises(WarehouseError) as caught:
        connect(url)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.__cause__ or "")


def test_settings_repr_hides_the_password():
    from etl.config import Settings

    settings = Settings.from_env(
        {
            "OFSTED_WAREHOUSE_URL": f"postgresql://u:{SECRET}@db/ofsted",
            "OFSTED_ALERT_URLS": f"json://hooks.example/x?token={SECRET}",
        }
    )
    assert SECRET not in repr(settings)


def test_log_records_and_their_tracebacks_are_redacted(caplog):
    logger = logging.getLogger("test.redact")
    stream = logging.StreamHandler(__import__("io").StringIO())
    stream.addFilter(RedactingFilter())
    logger.addHandler(stream)
    try:
        try:
            raise RuntimeError(f"cannot reach postgresql://u:{SECRET}@db/x")
        except RuntimeError:
            logger.exception("warehouse %s failed", f"postgresql://u:{SECRET}@db/x")
    finally:
        logger.removeHandler(stream)
    text = stream.stream.getvalue()
    assert "postgresql://u:***@db/x" in text and "RuntimeError" in text and SECRET not in text


def test_operator_notices_of_a_failed_task_carry_no_secret(monkeypatch):
    from pathlib import Path

    # as Airflow imports a DAG file: its folder on the path (the DAGs share dags/ofsted_common.py)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "dags"))
    from ofsted_ingest import notify_failure

    with WebhookReceiver() as hook:
        monkeypatch.setenv("OFSTED_OPS_ALERT_URLS", hook.apprise_url)
        monkeypatch.setenv("OFSTED_WAREHOUSE_URL", "duckdb:///:memory:")
        context = {
            "ti": SimpleNamespace(task_id="load", map_index=-1, try_number=3),
            "run_id": "manual__x",
            "exception": ConnectionError(f"postgresql://ofsted:{SECRET}@postgres:5432/ofsted refused"),
        }
        notify_failure(context)
    assert len(hook.messages) == 1
    sent = str(hook.messages).replace("\\u200b", "")  # (a notice breaks URLs as alerts do)
    assert SECRET not in sent and "ofsted:***@postgres" in sent


def test_task_logs_mask_the_secrets_that_come_from_the_environment():
    """Inside Airflow, task logs go through Airflow's masker: it is told the warehouse password
    and the alert URLs (whose tokens sit in the path, beyond what redact() can recognise)."""
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    from etl.config import Settings, mask_secrets

    hook = f"slack://T0KEN/B0T/{SECRET}-path"
    settings = Settings.from_env(
        {"OFSTED_WAREHOUSE_URL": f"postgresql://u:{SECRET}x@db/ofsted", "OFSTED_ALERT_URLS": hook}
    )
    mask_secrets(settings)
    logged = airflow_redact(f"connecting to {settings.warehouse_url}; alert via {hook}")
    assert SECRET not in logged and "connecting to postgresql://u:***@db/ofsted" in logged
