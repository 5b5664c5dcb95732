"""Shared fixtures. Stage-specific fixtures live in tests/support/ and are registered here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("OFSTED_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))

pytest_plugins: list[str] = [
    "tests.support.warehouse_fixtures",
    "tests.support.airflow_fixtures",
    "tests.support.site_fixtures",
]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real reports in ../shared/corpus; tests that need it skip where it is absent."""
    if not (CORPUS / "labels.jsonl").exists():
        pytest.skip(f"real corpus not found at {CORPUS}")
    return CORPUS
