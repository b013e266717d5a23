"""Uploaded files: the type recognised from the content (never the name or the
declared Content-Type), SHA-256, and a content-addressed store that never rewrites a
stored file. The backend is chosen by configuration (`QD85_STORAGE_BACKEND`): "local", a
directory, or "s3", a bucket behind the S3 API (api/services/s3store.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from prometheus_client import Counter

from api.core.config import Settings, get_settings
from api.core.errors import AppError, Unprocessable
from api.core.i18n import msg
from api.core.offload import FILES

log = logging.getLogger("qd85.files")

PNG, JPEG, WEBP, PDF = "image/png", "image/jpeg", "image/webp", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PNG: ".png", JPEG: ".jpg", WEBP: ".webp", PDF: ".pdf", DOCX: ".docx"}
EVIDENCE_TYPES = frozenset({PNG, JPEG, WEBP, PDF})
DOCUMENT_TYPES = frozenset({PDF, DOCX})
# Files are read, hashed, written and streamed in pieces of this size: with 16 downloads
# and 4 uploads at once a worker holds a few MB of them (bench/storage.py: RSS).
CHUNK = 256 << 10


def sniff(file: BinaryIO) -> str | None:
    """The media type of the content, or None when it is none we recognise. Reads the
    head (and, for ZIP containers, the directory) and rewinds."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
    return None


class UnsupportedFileType(AppError):
    default_code = "unsupported_media_type"


def require_type(file: BinaryIO, allowed: frozenset[str]) -> str:
    """The sniffed type; 422 for an empty file, 415 for content of another type."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    if size == 0:
        raise Unprocessable(
            "invalid_file",
            msg("files.file_empty"),
            extra={
                "errors": [{"loc": ["body", "file"], "msg": "empty file", "type": "invalid_file"}]
            },
        )
    kind = sniff(file)
    if kind not in allowed:
        names = ", ".join(sorted(EXTENSIONS[t].lstrip(".").upper() for t in allowed))
        raise UnsupportedFileType(
            "unsupported_media_type",
            msg("files.wrong_type", names=names),
        )
    return kind


# The extensions a file of each type may keep; any other is replaced by the first.
ACCEPTED_EXTENSIONS = {
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg", ".jpe"),
    WEBP: (".webp",),
    PDF: (".pdf",),
    DOCX: (".docx",),
}


def safe_filename(name: str | None, content_type: str) -> str:
    """A display name without directories or control characters (the stored object is
    named by its hash; this is only echoed back and used in Content-Disposition), whose
    extension matches the type sniffed from the content (issue 14: a PNG uploaded as
    `poly.html` is served as `poly.png`, so no browser or desktop opens it as HTML)."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    accepted = ACCEPTED_EXTENSIONS.get(content_type, ())
    if not accepted:
        return base[:200] or "file"
    stem, dot, ext = base.rpartition(".")
    if dot and f".{ext.lower()}" in accepted:
        stem, suffix = stem, f".{ext}"
    else:
        stem, suffix = (stem if dot else base), accepted[0]
    stem = stem.strip(" .")[: 200 - len(suffix)]
    return (stem or "file") + suffix


@dataclass(frozen=True, slots=True)
class Stored:
    key: str  # the SHA-256, hex
    size: int


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    size: int
    modified: datetime


class StoreUnavailable(AppError):
    """The file store cannot be reached now (connection refused, timeout, a 5xx answer):
    503 `service_unavailable` with Retry-After, like a database outage. Nothing is kept
    between requests, so the next request after the store returns succeeds."""

    default_code = "service_unavailable"

    def __init__(self, reason: str = "") -> None:
        super().__init__(
            "service_unavailable",
            msg("files.store_unavailable"),
            headers={"Retry-After": str(get_settings().storage_retry_after_seconds)},
        )
        self.reason = reason
        log.warning("file store unavailable: %s", reason[:500])


# Each download of a referenced file the store does not hold: alert on any increase.
FILES_MISSING = Counter(
    "qd85_files_missing_total",
    "Downloads of a referenced file missing from the store",
    ["backend"],
)


class FileMissing(AppError):
    """A row references a file that the store does not hold: 404 `file_missing`, not a
    bare 500, so a client can tell the user the file is gone rather than "try again". The
    store is written before the row and `qd85 storage gc` spares referenced objects, so
    this means the store lost or an operator removed the object: it is logged at ERROR
    with the key and counted in `qd85_files_missing_total`; `qd85 storage verify` lists
    every such row, and re-uploading the same content (or `storage migrate` from a copy)
    restores it under the same key."""

    default_code = "file_missing"

    def __init__(self, backend: str, key: str) -> None:
        super().__init__(
            "file_missing",
            msg("files.missing_from_store"),
        )
        FILES_MISSING.labels(backend).inc()
        log.error("referenced file %s missing from the %s store", key, backend)


def is_key(key: str) -> bool:
    return len(key) == 64 and all(c in "0123456789abcdef" for c in key)


def hash_file(file: BinaryIO) -> tuple[str, str, int]:
    """SHA-256 (hex), MD5 (base64, for Content-MD5) and size, in one pass; rewinds."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    file.seek(0)
    while chunk := file.read(CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    file.seek(0)
    return sha.hexdigest(), base64.b64encode(md5.digest()).decode(), size


class Storage(Protocol):
    """A content-addressed store of files named by their SHA-256, each written once.
    Every method may raise StoreUnavailable."""

    name: str

    async def put(self, file: BinaryIO) -> Stored:
        """Store the file under its SHA-256 (rewinds it). Content already stored is not
        written again, but its modification time is refreshed, so that `qd85 storage gc`
        (which spares objects younger than its grace period) does not remove it before
        the row that references it is committed."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Fetches the object (so an outage or a missing object raises here, before a
        response starts: StoreUnavailable, FileMissing), then yields its bytes."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored size, or None when there is no such object."""
        ...

    async def delete(self, key: str) -> None: ...
    def list(self) -> AsyncIterator[Listed]: ...
    async def download_url(self, key: str, disposition: str, content_type: str) -> str | None:
        """A short-lived URL the client may fetch the object from directly (FileMissing
        when there is no such object), or None to stream it through the API."""
        ...

    async def ping(self) -> None:
        """Raises StoreUnavailable unless the store answers."""
        ...

    async def aclose(self) -> None: ...


class LocalStorage:
    """Files under a directory, named by their SHA-256 (ab/cd/abcd…). A file already
    stored is left as it is; a new one is written to a temporary name and renamed, so a
    reader never sees a partial file; stored files are made read-only. The file work runs
    in worker threads (api.core.offload.FILES)."""

    name = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError("not a sha256 key")
        return self.root / key[:2] / key[2:4] / key

    def put_sync(self, file: BinaryIO) -> Stored:
        digest, size = hashlib.sha256(), 0
        file.seek(0)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := file.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            target = self.path_of(key)
            if target.exists():
                os.unlink(tmp)
                # Fresh again: `qd85 storage gc` spares it while this request commits.
                os.utime(target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        finally:
            file.seek(0)
        return Stored(key=key, size=size)

    async def put(self, file: BinaryIO) -> Stored:
        return await FILES.run(self.put_sync, file)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self.path_of(key).open, "rb")
        except FileNotFoundError:
            raise FileMissing(self.name, key) from None
        return self._chunks(handle)

    async def _chunks(self, handle: BinaryIO) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    def _size(self, key: str) -> int | None:
        try:
            return self.path_of(key).stat().st_size
        except FileNotFoundError:
            return None

    async def size(self, key: str) -> int | None:
        return await asyncio.to_thread(self._size, key)

    def _delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _scan(self) -> list[Listed]:
        out: list[Listed] = []
        if not self.root.is_dir():
            return out
        for path in self.root.glob("??/??/*"):
            if is_key(path.name):
                st = path.stat()
                out.append(Listed(path.name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)))
        return out

    async def list(self) -> AsyncIterator[Listed]:
        for item in await asyncio.to_thread(self._scan):
            yield item

    async def download_url(self, key: str, disposition: str, content_type: str) -> str | None:
        return None

    def _ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreUnavailable(f"{self.root} is not writable")

    async def ping(self) -> None:
        try:
            await asyncio.to_thread(self._ping)
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def aclose(self) -> None:
        return None


_STORES: dict[tuple[object, ...], Storage] = {}


def storage(settings: Settings | None = None) -> Storage:
    """The configured store (one instance per configuration, reused across requests)."""
    settings = settings or get_settings()
    if settings.storage_backend == "s3":
        ident: tuple[object, ...] = ("s3", *settings.s3_identity)
    else:
        ident = ("local", settings.storage_dir)
    store = _STORES.get(ident)
    if store is None:
        if settings.storage_backend == "s3":
            from api.services.s3store import S3Storage

            store = S3Storage.from_settings(settings)
        else:
            store = LocalStorage(settings.storage_dir)
        _STORES[ident] = store
    return store


async def close_stores() -> None:
    """Close every store's connections (at shutdown) and forget the instances."""
    while _STORES:
        await _STORES.popitem()[1].aclose()
