"""Settings, all from the environment with documented defaults (README, "Configuration").
Inside Airflow the `ofsted_warehouse` connection, when defined, names the warehouse."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SITE = "https://reports.ofsted.gov.uk"
FILES_HOST = "files.ofsted.gov.uk"


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.replace(",", " ").split() if p)


def allowed_hosts(site_url: str, configured: str) -> tuple[str, ...]:
    """The site's own host, always, plus the configured hosts (default: the real files host).
    Entries are `host` or `host:port`; a URL written by mistake is reduced to its host[:port]."""
    entries = [urlsplit(e).netloc if "://" in e else e.rstrip("/") for e in _split(configured)]
    return tuple(dict.fromkeys([urlsplit(site_url).hostname or "", *(entries or [FILES_HOST])]))


def _positive(env, name: str, default: str) -> float:
    """A number of hours that must be above zero (a sweep over no time reads nothing)."""
    text = env.get(name, default)
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a number of hours above 0, not {text!r}")
    return value


def normalise_db_url(url: str) -> str:
    """Airflow writes Postgres connections as postgres://; psycopg wants postgresql://."""
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


@dataclass(frozen=True)
class Settings:
    site_url: str
    allowed_hosts: tuple[str, ...]
    data_dir: Path
    landing: str
    warehouse_url: str
    alert_urls: tuple[str, ...]
    ops_alert_urls: tuple[str, ...]
    batch_size: int
    requests_per_second: float
    concurrency: int
    max_retries: int
    connect_timeout: float
    read_timeout: float
    user_agent: str
    parse_max_bytes: int
    parse_max_pages: int
    parse_timeout: float
    parse_max_memory: int = 1024**3  # address space of the parser's child process (bytes)
    backoff_base: float = 1.0  # first retry delay (s), doubled per attempt, with jitter
    retry_after_max: float = 120.0  # longest Retry-After we honour (s)
    backoff_max: float = 60.0  # longest retry delay (s)
    download_deadline: float = 300.0  # longest one GET may take in all, retries included (s)
    quarantine_retry_days: int = 30  # a quarantined file is retried after 1, 2, 4 ... days, at most this
    revalidate_days: int = 60  # files published this recently are revalidated every run
    alert_rules: str = ""  # path of the alert rules file (YAML)
    alert_config: str = ""  # the ofsted_alerts connection's extra (JSON: targets, rules)
    export_url: str = ""  # where `ofsted export` and ofsted_export write (folder or fsspec URL)
    sweep_hours: float = 24.0  # every council's page is read at least once in this many hours
    stale_hours: float = 6.0  # operators are told when no run has succeeded for this long

    def __repr__(self) -> str:
        from etl.redact import redact

        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return redact(f"Settings({fields})")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        site = env.get("OFSTED_SITE_URL", DEFAULT_SITE).rstrip("/")
        data_dir = Path(env.get("OFSTED_DATA_DIR", PROJECT_DIR / "data"))
        hosts = allowed_hosts(site, env.get("OFSTED_ALLOWED_HOSTS", ""))
        airflow_conn = env.get("AIRFLOW_CONN_OFSTED_WAREHOUSE", "")
        warehouse = (
            (airflow_conn if "://" in airflow_conn else None)  # JSON form: the DAG reads it via Airflow
            or env.get("OFSTED_WAREHOUSE_URL")
            or f"duckdb:///{data_dir / 'warehouse.duckdb'}"
        )
        return cls(
            site_url=site,
            allowed_hosts=hosts,
            data_dir=data_dir,
            landing=env.get("OFSTED_LANDING", str(data_dir / "landing")),
            warehouse_url=normalise_db_url(warehouse),
            alert_urls=_split(env.get("OFSTED_ALERT_URLS", "")),
            ops_alert_urls=_split(env.get("OFSTED_OPS_ALERT_URLS", "")),
            batch_size=int(env.get("OFSTED_BATCH_SIZE", "25")),
            requests_per_second=float(env.get("OFSTED_REQUESTS_PER_SECOND", "2")),
            concurrency=int(env.get("OFSTED_CONCURRENCY", "2")),
            max_retries=int(env.get("OFSTED_MAX_RETRIES", "5")),
            connect_timeout=float(env.get("OFSTED_CONNECT_TIMEOUT", "10")),
            read_timeout=float(env.get("OFSTED_READ_TIMEOUT", "60")),
            user_agent=env.get("OFSTED_USER_AGENT", "ofsted-ratings/0.1 (children's services ratings pipeline)"),
            parse_max_bytes=int(env.get("OFSTED_PARSE_MAX_BYTES", str(50 * 1024 * 1024))),
            parse_max_pages=int(env.get("OFSTED_PARSE_MAX_PAGES", "300")),
            parse_timeout=float(env.get("OFSTED_PARSE_TIMEOUT", "60")),
            parse_max_memory=int(env.get("OFSTED_PARSE_MAX_MEMORY", str(1024**3))),
            backoff_base=float(env.get("OFSTED_BACKOFF_BASE", "1")),
            retry_after_max=float(env.get("OFSTED_RETRY_AFTER_MAX", "120")),
            backoff_max=float(env.get("OFSTED_BACKOFF_MAX", "60")),
            download_deadline=float(env.get("OFSTED_DOWNLOAD_DEADLINE", "300")),
            quarantine_retry_days=int(env.get("OFSTED_QUARANTINE_RETRY_DAYS", "30")),
            revalidate_days=int(env.get("OFSTED_REVALIDATE_DAYS", "60")),
            alert_rules=env.get("OFSTED_ALERT_RULES", ""),
            export_url=env.get("OFSTED_EXPORT_URL", str(data_dir / "exports")),
            sweep_hours=_positive(env, "OFSTED_SWEEP_HOURS", "24"),
            stale_hours=_positive(env, "OFSTED_STALE_HOURS", "6"),
        )


def airflow_settings() -> Settings:
    """Settings inside an Airflow task: the environment, then the Airflow connections where
    defined (`ofsted_warehouse` names the warehouse; an Apprise `ofsted_alerts` adds targets).
    Their secrets are handed to Airflow's log masker, for every DAG that reads them."""
    import json
    from dataclasses import replace

    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    settings = Settings.from_env()
    try:
        settings = replace(settings, warehouse_url=normalise_db_url(Connection.get("ofsted_warehouse").get_uri()))
    except AirflowNotFoundException:
        pass
    try:  # an Apprise connection adds alert targets (config: {"path": url} or a list of them),
        # and may hold subscriptions like a rules file (extra: {"targets": {...}, "rules": [...]})
        extra = Connection.get("ofsted_alerts").extra_dejson
        config = extra.get("config", [])
        paths = [c["path"] for c in (config if isinstance(config, list) else [config])]
        rules = {k: extra[k] for k in ("targets", "rules") if k in extra}
        settings = replace(
            settings, alert_urls=settings.alert_urls + tuple(paths), alert_config=json.dumps(rules) if rules else ""
        )
    except AirflowNotFoundException:
        pass
    mask_secrets(settings)
    return settings


def mask_secrets(settings: Settings) -> None:
    """Tell Airflow's log masker the secrets that come from the environment: the warehouse
    password and the alert URLs (Apprise URLs carry their tokens in the path)."""
    from airflow.sdk.log import mask_secret

    for secret in (urlsplit(settings.warehouse_url).password, *settings.alert_urls, *settings.ops_alert_urls):
        if secret:
            mask_secret(secret)
