"""The landing store: raw report files addressed by content (sha256), with their listing metadata.

Any fsspec location works (a local folder, `s3://bucket/prefix`, `memory://...`, or an Airflow
ObjectStoragePath), so tasks on different workers can share it. Layout under the root:

    objects/<sha[:2]>/<sha256>.pdf      verified PDFs; written once, never overwritten or deleted
    manifest/<url key>.json             the URL's current StoredFile (the same bytes may sit behind two
                                        URLs); a re-issued file's entry names the version it supersedes
    quarantine/<url key>.json           the current (unresolved) Quarantined entry for a URL
    quarantine/bytes/<sha256>.bin       rejected bodies, kept for inspection even once resolved
    text/<sha[:2]>/<sha256>.json.gz     the file's text, page by page, as its last parse read it: the
                                        load stores it for search (tasks pass references, not text)
    pages/<url key>.json                the last listing page (search, council) the site gave
                                        validators for, to answer its 304 Not Modified

One small JSON file per URL (rather than one shared index) means parallel workers never
rewrite each other's entries; every write is atomic (temp file fsynced, then renamed, locally;
a single PUT on object stores), so a reader never sees half a file, a crash or power cut never
leaves a renamed file with missing bytes, and a failed write (a full disk) leaves no temp file.
Objects are read by content hash under the configured root (never by the URI recorded at
download, so the store can move) and checked against that hash on read and before a write is
skipped.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import uuid
from datetime import UTC, datetime

import fsspec

from etl.records import Publication, Quarantined, StoredFile, from_dict, to_dict

SHA_RE = re.compile(r"[0-9a-f]{64}")


class CorruptObject(OSError):
    """An object whose bytes do not hash to its name (damaged, truncated, edited)."""


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class LandingStore:
    def __init__(self, root, fs: fsspec.AbstractFileSystem | None = None):
        if fs is None and hasattr(root, "fs") and hasattr(root, "path"):  # Airflow ObjectStoragePath
            fs, root = root.fs, root.path
        if fs is None:
            fs, root = fsspec.core.url_to_fs(str(root))
        self.fs = fs
        self.root = str(root).rstrip("/")
        self.local = "file" in _protocols(fs)

    @classmethod
    def from_settings(cls, settings) -> LandingStore:
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

    def _page_path(self, url: str) -> str:
        return self._path("pages", f"{url_key(url)}.json")

    def _uri(self, path: str) -> str:
        return os.path.abspath(path) if self.local else self.fs.unstrip_protocol(path)

    # -- reading -------------------------------------------------------------------------------
    def known(self, url: str) -> StoredFile | None:
        """The stored good file for this URL, if its manifest entry and its bytes (of the recorded
        size: a cut-off object is fetched again) are both there."""
        entry = self._read_json(self._manifest_path(url))
        if entry is None:
            return None
        stored = from_dict(StoredFile, entry)
        try:
            return stored if self.fs.size(self.object_path(stored.sha256)) == stored.size else None
        except FileNotFoundError:
            return None

    def read_object(self, sha: str) -> bytes:
        """The bytes of the object named `sha`, checked against it (CorruptObject otherwise)."""
        data = self.fs.cat_file(self.object_path(sha))
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise CorruptObject(
                f"landing object {sha} does not match its hash (got {actual}, "
                f"{len(data)} bytes): damaged; download it again"
            )
        return data

    def object_uri(self, sha: str) -> str:
        return self._uri(self.object_path(sha))

    def read(self, uri_or_sha: str) -> bytes:
        if SHA_RE.fullmatch(uri_or_sha):
            return self.fs.cat_file(self.object_path(uri_or_sha))
        own = self._uri(self.root)
        if uri_or_sha.startswith(own):
            return self.fs.cat_file(self.root + uri_or_sha[len(own) :])
        with fsspec.open(uri_or_sha, "rb") as f:
            return f.read()

    def stored_files(self) -> list[StoredFile]:
        return sorted(
            (from_dict(StoredFile, e) for e in self._read_dir("manifest")),
            key=lambda s: (s.publication.urn, str(s.publication.published), s.publication.url),
        )

    def quarantined(self) -> list[Quarantined]:
        return sorted(
            (from_dict(Quarantined, e) for e in self._read_dir("quarantine")),
            key=lambda q: (q.publication.urn, q.publication.url),
        )

    def quarantine_entry(self, url: str) -> dict | None:
        """The raw quarantine entry (with the validators of the rejected answer), if any."""
        return self._read_json(self._quarantine_path(url))

    # -- writing -------------------------------------------------------------------------------
    def store(
        self,
        data: bytes,
        publication: Publication,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        fetched_at: datetime | None = None,
        supersedes: str | None = None,
    ) -> StoredFile:
        sha = hashlib.sha256(data).hexdigest()
        path = self.object_path(sha)
        if not self._holds(path, sha, len(data)):  # content-addressed: the right bytes are never rewritten
            self._write(path, data)
        stored = StoredFile(
            sha256=sha,
            uri=self._uri(path),
            size=len(data),
            publication=publication,
            fetched_at=fetched_at or now_utc(),
            etag=etag,
            last_modified=last_modified,
            supersedes=supersedes,
        )
        self._write(self._manifest_path(publication.url), _json(to_dict(stored)))
        self._clear_quarantine(publication.url)
        return stored

    def quarantine(
        self,
        data: bytes | None,
        publication: Publication,
        reason: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Quarantined:
        previous = self.quarantine_entry(publication.url) or {}
        uri = previous.get("uri")  # no new bytes (reset, 304): still point at the last ones
        if data:
            sha = hashlib.sha256(data).hexdigest()
            path = self._path("quarantine", "bytes", f"{sha}.bin")
            if not self._holds(path, sha, len(data)):
                self._write(path, data)
            uri = self._uri(path)
        entry = Quarantined(
            publication=publication,
            reason=reason,
            uri=uri,
            fetched_at=now_utc(),
            attempts=int(previous.get("attempts", 0)) + 1,
        )
        record = to_dict(entry) | {"etag": etag, "last_modified": last_modified}
        self._write(self._quarantine_path(publication.url), _json(record))
        return entry

    def _text_path(self, sha: str) -> str:
        return self._path("text", sha[:2], f"{sha}.json.gz")

    def save_text(self, sha: str, parser_version: str, pages: list[str]) -> None:
        """Keep a parse's page text beside the file (replacing an earlier parse's)."""
        body = json.dumps({"sha256": sha, "parser_version": parser_version, "pages": pages}, ensure_ascii=False)
        self._write(self._text_path(sha), gzip.compress(body.encode("utf-8"), compresslevel=1, mtime=0))

    def read_text(self, sha: str) -> list[str] | None:
        """The page text the last parse of this file kept, or None (not parsed since search began)."""
        try:
            return json.loads(gzip.decompress(self.fs.cat_file(self._text_path(sha))))["pages"]
        except FileNotFoundError:
            return None

    def page(self, url: str) -> dict | None:
        """The cached listing page for this URL: {"url", "etag", "last_modified", "body"}."""
        return self._read_json(self._page_path(url))

    def save_page(self, url: str, body: bytes, *, etag: str | None, last_modified: str | None) -> None:
        self._write(
            self._page_path(url),
            _json({"url": url, "etag": etag, "last_modified": last_modified, "body": body.decode("utf-8", "replace")}),
        )

    def _clear_quarantine(self, url: str) -> None:
        path = self._quarantine_path(url)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass

    def _holds(self, path: str, sha: str, size: int) -> bool:
        """Whether `path` exists with exactly the bytes named `sha` (size first: cheap)."""
        try:
            if self.fs.size(path) != size:
                return False
            return hashlib.sha256(self.fs.cat_file(path)).hexdigest() == sha
        except FileNotFoundError:
            return False

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


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json(obj) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=True).encode("utf-8")


def write_atomic(fs, path: str, data: bytes) -> None:
    """Write a whole file so that a reader sees the old one or the new one, never half, and a
    failed write (a full disk) leaves no temp file behind."""
    parent = path.rsplit("/", 1)[0]
    fs.makedirs(parent, exist_ok=True)
    if "file" not in _protocols(fs):
        fs.pipe_file(path, data)  # object stores: a PUT is all-or-nothing
        return
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)  # atomic on one filesystem
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(parent)  # and the rename itself survives a power cut


def _protocols(fs) -> tuple[str, ...]:
    p = fs.protocol
    return (p,) if isinstance(p, str) else tuple(p)
