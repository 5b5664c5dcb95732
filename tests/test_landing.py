"""The landing store: content-addressed, metadata per URL, atomic, shareable through fsspec."""

from __future__ import annotations

import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from etl.landing import LandingStore
from etl.records import Publication
from tests.support.fakesite import minimal_pdf


def pub(n: int, urn: str = "80487") -> Publication:
    return Publication(
        urn=urn,
        local_authority="Barnet",
        kind="inspection",
        title=f"Children's services inspection, pdf - 0{n % 9 + 1} July 2019",
        published=date(2019, 7, n % 9 + 1),
        url=f"https://files.ofsted.gov.uk/v1/file/{n}",
    )


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path):
    if request.param == "local":
        return LandingStore(tmp_path / "landing")
    return LandingStore(f"memory://landing-{uuid.uuid4().hex}")


def test_store_known_read_and_list_round_trip(store):
    data = minimal_pdf(["one"])
    stored = store.store(data, pub(1), etag='"abc"', last_modified="Mon, 01 Jul 2019 00:00:00 GMT")
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert store.known(pub(1).url) == stored
    assert store.known(pub(2).url) is None
    assert store.read(stored.sha256) == data == store.read(stored.uri)
    assert store.stored_files() == [stored]
    assert stored.publication == pub(1) and stored.etag == '"abc"'


def test_local_uris_are_plain_paths_and_fsspec_uris_keep_their_protocol(tmp_path):
    local = LandingStore(str(tmp_path / "l")).store(b"%PDF-1.4 x %%EOF", pub(1))
    assert os.path.isfile(local.uri)
    remote = LandingStore(f"memory://l-{uuid.uuid4().hex}").store(b"%PDF-1.4 x %%EOF", pub(1))
    assert remote.uri.startswith("memory://")


def test_same_bytes_at_two_urls_is_one_object_and_two_entries(store):
    data = minimal_pdf(["shared"])
    a, b = store.store(data, pub(1)), store.store(data, pub(2))
    assert a.uri == b.uri
    assert {s.publication.url for s in store.stored_files()} == {pub(1).url, pub(2).url}
    assert len(store.fs.glob(f"{store.root}/objects/*/*.pdf")) == 1


def test_a_stored_object_is_never_rewritten(tmp_path):
    store = LandingStore(tmp_path)
    first = store.store(minimal_pdf(["a"]), pub(1))
    before = os.stat(first.uri).st_mtime_ns
    store.store(minimal_pdf(["a"]), pub(3))
    assert os.stat(first.uri).st_mtime_ns == before


def test_quarantine_counts_attempts_and_a_success_clears_it_but_keeps_the_bytes(store):
    html = b"<!DOCTYPE html><title>Report not found</title>"
    q1 = store.quarantine(html, pub(1), "not a PDF: HTML page")
    q2 = store.quarantine(None, pub(1), "ConnectionError")
    assert (q1.attempts, q2.attempts) == (1, 2)
    assert q2.uri == q1.uri  # no new bytes: still points at the last ones
    assert [q.reason for q in store.quarantined()] == ["ConnectionError"]
    store.store(minimal_pdf(["ok"]), pub(1))
    assert store.quarantined() == [] and store.read(q1.uri) == html


def test_a_manifest_entry_whose_bytes_are_gone_is_not_known(tmp_path):
    store = LandingStore(tmp_path)
    stored = store.store(minimal_pdf(["gone"]), pub(1))
    os.remove(stored.uri)
    assert store.known(pub(1).url) is None


def test_parallel_writers_sharing_a_store_lose_nothing_and_leave_no_temp_files(tmp_path):
    root = tmp_path / "shared"

    def worker(n: int):
        # each worker opens its own store, as separate Airflow tasks would
        LandingStore(root).store(minimal_pdf([f"report {n % 10}"]), pub(n))
        LandingStore(root).quarantine(b"<html>", pub(1000 + n), "not a PDF")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(60)))
    store = LandingStore(root)
    assert len(store.stored_files()) == 60 and len(store.quarantined()) == 60
    assert len(store.fs.glob(f"{store.root}/objects/*/*.pdf")) == 10
    assert not [p for p in store.fs.find(store.root) if p.endswith(".tmp")]


def test_an_empty_store_lists_nothing(tmp_path):
    store = LandingStore(tmp_path / "nothing-yet")
    assert store.stored_files() == [] and store.quarantined() == [] and store.known("x") is None
