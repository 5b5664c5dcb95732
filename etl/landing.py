"""The landing store: raw report files addressed by content (sha256), with their listing metadata.

Any fsspec location works (a local folder, `s3://bucket/prefix`, `memory://...`, or an Airflow
ObjectStoragePath), so tasks on different workers can share it. Layout under the root:

    objects/<sha[:2]>/<sha256>.pdf      verified PDFs; written once, never overwritten or deleted
    manifest/<url key>.json             one StoredFile per URL (the same bytes may sit behind two URLs)
    quarantine/<url key>.json           the current (unresolved) Quarantined entry for a URL
    quarantine/bytes/<sha256>.bin       rejected bodies, kept for inspection even once resolved

One small JSON file per URL (rather than one shared index) means parallel workers never
rewrite each other's entries; every write is atomic (temp file + rename locally, a single PUT on
object stores), so a reader never sees half a file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import datetime, timezone

import fsspec

from etl.records import Publication, Quarantined, StoredFile, from_dict, to_dict

SHA_RE = re.compile(r"[0-9a-f]{64}")


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class LandingStore:
    def __init__(self, root, fs: fsspec.AbstractFileSystem | None = None):
        if fs is None and hasattr(root, "fs") and hasattr(root, "path"):   # Airflow ObjectStoragePath
            fs, root = root.fs, root.path
        if fs is None:
            fs, root = fsspec.core.url_to_fs(str(root))
        self.fs = fs
        self.root = str(root).rstrip("/")
        self.local = "file" in _protocols(fs)

    @classmethod
    def from_settings(cls, settings) -> "LandingStore":
        return cls(settings.landing)

    def __repr__(self) -> str:
        return f"LandingStore({self._uri(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def object_path(self, sha: str) -> str:
        return self._path("objects", sha[:2], f"{sha}.pdf")

    def _manifest_path(self, url: str) -> str:
        return self._path("manifest", f"{url_key(url)}.json")

    def _quarantine_path(self, url: str) -> str:
        return self._path("quarantine", f"{url_key(url)}.json")

    def _uri(self, path: str) -> str:
        return os.path.abspath(path) if self.local else self.fs.unstrip_protocol(path)

    # -- reading -------------------------------------------------------------------------------
    def known(self, url: str) -> StoredFile | None:
        """The stored good file for this URL, if its manifest entry and its bytes are both there."""
        entry = self._read_json(self._manifest_path(url))
        if entry is None:
            return None
        stored = from_dict(StoredFile, entry)
        return stored if self.fs.exists(self.object_path(stored.sha256)) else None

    def read(self, uri_or_sha: str) -> bytes:
        if SHA_RE.fullmatch(uri_or_sha):
            return self.fs.cat_file(self.object_path(uri_or_sha))
        own = self._uri(self.root)
        if uri_or_sha.startswith(own):
            return self.fs.cat_file(self.root + uri_or_sha[len(own):])
        with fsspec.open(uri_or_sha, "rb") as f:
            return f.read()

    def stored_files(self) -> list[StoredFile]:
        return sorted((from_dict(StoredFile, e) for e in self._read_dir("manifest")),
                      key=lambda s: (s.publication.urn, str(s.publication.published), s.publication.url))

    def quarantined(self) -> list[Quarantined]:
        return sorted((from_dict(Quarantined, e) for e in self._read_dir("quarantine")),
                      key=lambda q: (q.publication.urn, q.publication.url))

    def quarantine_entry(self, url: str) -> dict | None:
        """The raw quarantine entry (with the validators of the rejected answer), if any."""
        return self._read_json(self._quarantine_path(url))

    # -- writing -------------------------------------------------------------------------------
    def store(self, data: bytes, publication: Publication, *, etag: str | None = None,
              last_modified: str | None = None, fetched_at: datetime | None = None) -> StoredFile:
        sha = hashlib.sha256(data).hexdigest()
        path = self.object_path(sha)
        if not self.fs.exists(path):          # content-addressed: same name, same bytes; never rewrite
            self._write(path, data)
        stored = StoredFile(sha256=sha, uri=self._uri(path), size=len(data), publication=publication,
                            fetched_at=fetched_at or now_utc(), etag=etag, last_modified=last_modified)
        self._write(self._manifest_path(publication.url), _json(to_dict(stored)))
        self._clear_quarantine(publication.url)
        return stored

    def quarantine(self, data: bytes | None, publication: Publication, reason: str, *,
                   etag: str | None = None, last_modified: str | None = None) -> Quarantined:
        previous = self.quarantine_entry(publication.url) or {}
        uri = previous.get("uri")         # no new bytes (reset, 304): still point at the last ones
        if data:
            sha = hashlib.sha256(data).hexdigest()
            path = self._path("quarantine", "bytes", f"{sha}.bin")
            if not self.fs.exists(path):
                self._write(path, data)
            uri = self._uri(path)
        entry = Quarantined(publication=publication, reason=reason, uri=uri, fetched_at=now_utc(),
                            attempts=int(previous.get("attempts", 0)) + 1)
        record = to_dict(entry) | {"etag": etag, "last_modified": last_modified}
        self._write(self._quarantine_path(publication.url), _json(record))
        return entry

    def _clear_quarantine(self, url: str) -> None:
        path = self._quarantine_path(url)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass

    def _write(self, path: str, data: bytes) -> None:
        write_atomic(self.fs, path, data)

    def _read_json(self, path: str) -> dict | None:
        try:
            return json.loads(self.fs.cat_file(path))
        except FileNotFoundError:
            return None

    def _read_dir(self, name: str) -> list[dict]:
        try:
            paths = [p for p in self.fs.ls(self._path(name), detail=False) if p.endswith(".json")]
        except FileNotFoundError:
            return []
        if not paths:
            return []
        return [json.loads(b) for b in self.fs.cat(paths, on_error="omit").values()]


def _json(obj) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=True).encode("utf-8")


def write_atomic(fs, path: str, data: bytes) -> None:
    """Write a whole file so that a reader sees the old one or the new one, never half."""
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    if "file" in _protocols(fs):
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)            # atomic on one filesystem
    else:
        fs.pipe_file(path, data)         # object stores: a PUT is all-or-nothing


def _protocols(fs) -> tuple[str, ...]:
    p = fs.protocol
    return (p,) if isinstance(p, str) else tuple(p)
