"""Uploaded files: the type recognised from the content (never the name or the
declared Content-Type), SHA-256, and a content-addressed store that never rewrites a
stored file. The backend is chosen by configuration (`QD85_STORAGE_BACKEND`; "local",
a directory, is the only one so far)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from api.core.config import get_settings
from api.core.errors import AppError, Unprocessable

PNG, JPEG, WEBP, PDF = "image/png", "image/jpeg", "image/webp", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PNG: ".png", JPEG: ".jpg", WEBP: ".webp", PDF: ".pdf", DOCX: ".docx"}
EVIDENCE_TYPES = frozenset({PNG, JPEG, WEBP, PDF})
DOCUMENT_TYPES = frozenset({PDF, DOCX})
CHUNK = 1 << 20


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
            "invalid_file", "Tệp rỗng.", "The file is empty.",
            extra={"errors": [{"loc": ["body", "file"], "msg": "empty file", "type": "invalid_file"}]},
        )  # fmt: skip
    kind = sniff(file)
    if kind not in allowed:
        names = ", ".join(sorted(EXTENSIONS[t].lstrip(".").upper() for t in allowed))
        raise UnsupportedFileType(
            "unsupported_media_type",
            f"Nội dung tệp không phải là một trong các loại: {names}.",
            f"The file's content is not one of: {names}.",
        )
    return kind


# The extensions a file of each type may keep; any other is replaced by the first.
ACCEPTED_EXTENSIONS = {
    PNG: (".png",), JPEG: (".jpg", ".jpeg", ".jpe"), WEBP: (".webp",), PDF: (".pdf",),
    DOCX: (".docx",),
}  # fmt: skip


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


class Storage(Protocol):
    def put(self, file: BinaryIO) -> Stored: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under a directory, named by their SHA-256 (ab/cd/abcd…). A file already
    stored is left as it is; a new one is written to a temporary name and renamed, so a
    reader never sees a partial file; stored files are made read-only."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a sha256 key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, file: BinaryIO) -> Stored:
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
            target = self._path(key)
            if target.exists():
                os.unlink(tmp)
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

    def open(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def storage() -> Storage:
    settings = get_settings()
    return LocalStorage(settings.storage_dir)
