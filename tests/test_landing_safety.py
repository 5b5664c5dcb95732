"""The landing store survives being moved, a full disk and a damaged object: files are read by
content hash through the configured store and checked on read; writes are fsynced and leave
no temp file behind; an existing object is trusted only when its bytes match its name."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from datetime import date

import pytest

from etl import pipeline
from etl.config import Settings
from etl.landing import CorruptObject, LandingStore
from etl.records import Publication
from etl.warehouse import connect
from tests.support.fakesite import FakeOfstedSite, minimal_pdf
from tests.support.synth_reports import listing_pdf


def pub(n: int) -> Publication:
    return Publication(
        urn="80487",
        local_authority="Barnet",
        kind="inspection",
        title="inspection",
        published=date(2019, 7, 1),
        url=f"https://files.ofsted.gov.uk/v1/file/{n}",
    )


def test_a_moved_landing_store_is_read_by_hash_from_its_new_place(tmp_path, warehouse_url):
    old, new = tmp_path / "old-landing", tmp_path / "new-landing"
    with FakeOfstedSite(councils=2, pdf_factory=listing_pdf) as site:
        env = site.env(OFSTED_DATA_DIR=str(tmp_path), OFSTED_WAREHOUSE_URL=warehouse_url)
        first = pipeline.run_once(Settings.from_env({**env, "OFSTED_LANDING": str(old)}))
        shutil.move(old, new)
        again = pipeline.run_once(Settings.from_env({**env, "OFSTED_LANDING": str(new)}), reparse=True)
    assert again.parsed == first.parsed > 0 and again.parse_retries == [] and again.not_reports == []
    with connect(warehouse_url) as wh:
        assert wh.fetchall("SELECT COUNT(*) FROM reports WHERE is_report") == [(first.parsed,)]


def test_a_damaged_object_is_refused_on_read_and_its_parse_retried(tmp_path, warehouse_url):
    landing = tmp_path / "landing"
    with FakeOfstedSite(councils=1, pdf_factory=listing_pdf) as site:
        settings = Settings.from_env(
            site.env(OFSTED_DATA_DIR=str(tmp_path), OFSTED_WAREHOUSE_URL=warehouse_url, OFSTED_LANDING=str(landing))
        )
        pipeline.begin(settings, "r1")
        publications = pipeline.discover(settings, "r1").publications
        pipeline.record_downloads(settings, *pipeline.download(settings, publications))
        files = pipeline.plan_parse(settings)
        victim = LandingStore(landing).object_path(files[0].sha256)
        with open(victim, "r+b") as f:  # bit rot, or a hand edit
            f.write(b"%PDF-9.9 damaged")
        records = pipeline.parse(settings, files)
    damaged = [r for r in records if r.sha256 == files[0].sha256]
    assert damaged[0].failed and "does not match" in damaged[0].reason
    assert all(r.is_report for r in records if r.sha256 != files[0].sha256)
    with pytest.raises(CorruptObject):
        LandingStore(landing).read_object(files[0].sha256)


def test_a_full_disk_leaves_no_temp_file(tmp_path, monkeypatch):
    store = LandingStore(tmp_path / "landing")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        store.store(minimal_pdf(["one"]), pub(1))
    monkeypatch.undo()
    leftovers = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    assert leftovers == []
    stored = store.store(minimal_pdf(["one"]), pub(1))  # and the next try works
    assert store.read_object(stored.sha256) == minimal_pdf(["one"])


def test_writes_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    store = LandingStore(tmp_path / "landing")
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    store.store(minimal_pdf(["one"]), pub(1))
    assert len(synced) >= 2  # the object and the manifest entry (and their folders)


def test_an_existing_object_with_wrong_bytes_is_rewritten(tmp_path):
    store = LandingStore(tmp_path / "landing")
    data = minimal_pdf(["one"])
    sha = hashlib.sha256(data).hexdigest()
    path = store.object_path(sha)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:  # a crash mid-write on a filesystem without atomic rename
        f.write(data[:10])
    stored = store.store(data, pub(1))
    assert stored.sha256 == sha and store.read_object(sha) == data


def test_a_cut_off_object_is_not_known_so_the_next_run_downloads_it_again(tmp_path):
    store = LandingStore(tmp_path / "landing")
    data = minimal_pdf(["one"])
    stored = store.store(data, pub(1))
    with open(store.object_path(stored.sha256), "r+b") as f:
        f.truncate(len(data) // 2)
    assert store.known(pub(1).url) is None
    store.store(data, pub(1))  # the re-download rewrites it
    assert store.known(pub(1).url) is not None and store.read_object(stored.sha256) == data
