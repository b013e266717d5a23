"""Reading an untrusted workbook (XLSX, XLS, ODS) within bounds (issues 14 and 22).

A workbook is read by calamine (Rust, through python-calamine), which builds the whole
sheet in memory: a dense grid over the used range, 32 bytes a cell. A small file can
therefore ask for gigabytes: a zip that inflates 1000-fold, or two cells at A1 and
XFD1048576 (550 GB; a failed allocation aborts the process). So:

- the format is sniffed from the content (`sniff`), not taken from the Content-Type;
- before anything is inflated: an .xls body is capped by size; for a zip (XLSX, ODS) the
  central directory is checked from the end record (at most `MAX_PARTS` parts, no zip64
  directory), and each part's declared uncompressed size is capped (the sheets and shared
  strings of an XLSX, or the content of an ODS, together at `max_unzipped` bytes; every
  other part at `MAX_OTHER_PART`). `zipfile` never inflates a part beyond its declared
  size, and neither does calamine's zip reader (the CRC check fails), so the declared
  sizes are real bounds;
- the sheet is read in a child process (`api.services.sheet_child`) whose address space
  may grow by at most the memory budget (`QD85_ROSTER_SHEET_MEMORY`, 200 MiB): a file
  that needs more ends it, and is refused; the server worker only ever holds a batch
  of rows;
- rows are counted as they stream (`max_rows`), a row is cut at `MAX_COLUMNS` columns,
  and a cell longer than Excel allows (`MAX_TEXT` characters) is refused.

A workbook over a limit is refused with 422 `invalid_file` naming the limit (`limit`:
name and value), never with a 500 or an exhausted worker.
"""

from __future__ import annotations

import marshal
import queue
import shutil
import struct
import subprocess
import sys
import threading
import zipfile
from collections.abc import Generator
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Any

from api.core.errors import Unprocessable
from api.core.i18n import Message, msg
from api.services.sheet_child import MAX_COLUMNS, MAX_TEXT

__all__ = ["MAX_COLUMNS", "MAX_TEXT"]

MAX_PARTS = 10_000
MAX_OTHER_PART = 8 << 20  # styles, workbook, relationships, theme: read whole
_EOCD = b"PK\x05\x06"
_SHEET_PREFIX = "xl/worksheets/"
_STRINGS = "xl/sharedstrings.xml"


@dataclass(frozen=True, slots=True)
class Limits:
    max_unzipped: int
    max_rows: int


def too_large(name: str, value: int, message: Message) -> Unprocessable:
    return Unprocessable(
        "invalid_file",
        message,
        extra={
            "limit": {"name": name, "value": value},
            "errors": [{"loc": ["body"], "msg": message.render("en"), "type": "invalid_file"}],
        },
    )


def not_a_workbook() -> Unprocessable:
    return _invalid_file(msg("spreadsheets.not_a_workbook"))


def _invalid_file(message: Message) -> Unprocessable:
    return Unprocessable(
        "invalid_file",
        message,
        extra={"errors": [{"loc": ["body"], "msg": message.render("en"), "type": "invalid_file"}]},
    )


def _check_directory(file: IO[bytes]) -> None:
    """Refuse archives with more than MAX_PARTS entries or a zip64 directory, reading
    only the end-of-central-directory record."""
    file.seek(0, 2)
    size = file.tell()
    tail_len = min(size, (1 << 16) + 22)
    file.seek(size - tail_len)
    tail = file.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise not_a_workbook()
    entries, directory_size = struct.unpack("<xxxxxxxxxxHIxxxxxx", tail[at : at + 22])[0:2]
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF or entries > MAX_PARTS:
        raise too_large(
            "parts",
            MAX_PARTS,
            msg("spreadsheets.too_many_parts", max_parts=MAX_PARTS),
        )
    file.seek(0)


def check_archive(file: IO[bytes], limits: Limits, *, ods: bool = False) -> None:
    """The size checks above, on the declared (and enforced) uncompressed sizes."""
    _check_directory(file)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_a_workbook() from exc
    with archive:
        total = 0
        for info in archive.infolist():
            name = info.filename.lower()
            if (
                (name in _ODS_PARTS)
                if ods
                else (name.startswith(_SHEET_PREFIX) or name == _STRINGS)
            ):
                total += info.file_size
            elif info.file_size > MAX_OTHER_PART:
                raise too_large(
                    "part_bytes",
                    MAX_OTHER_PART,
                    msg(
                        "spreadsheets.part_too_large",
                        filename=info.filename[:80],
                        mib=MAX_OTHER_PART >> 20,
                    ),
                )
        if total > limits.max_unzipped:
            raise _too_unzipped(limits)
    file.seek(0)


def _too_unzipped(limits: Limits) -> Unprocessable:
    return too_large(
        "unzipped_bytes",
        limits.max_unzipped,
        msg("spreadsheets.unzipped_too_large", mib=limits.max_unzipped >> 20),
    )


# --- the sheet, read by calamine in a bounded child process (issue 22) ------------------

XLSX, XLS, ODS = "xlsx", "xls", "ods"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ZIP_MAGIC = b"PK\x03\x04"
_ODS_PARTS = ("content.xml",)


def sniff(file: IO[bytes]) -> str:
    """The workbook format from the content, whatever the Content-Type said: an OLE2
    compound file is .xls; a zip whose first entry is `mimetype` holding the ODF
    spreadsheet type (stored, as ODF requires) is .ods; any other zip is tried as XLSX."""
    file.seek(0)
    head = file.read(38 + len(ODS_MIME))
    file.seek(0)
    if head.startswith(OLE2_MAGIC):
        return XLS
    if head.startswith(_ZIP_MAGIC):
        if head[30:38] == b"mimetype" and head[38:] == ODS_MIME:
            return ODS
        return XLSX
    raise not_a_workbook()


def check_sizes(file: IO[bytes], fmt: str, limits: Limits, xls_max_bytes: int) -> None:
    """What can be checked before the sheet is read: for .xls the body's size, for a zip
    (XLSX, ODS) the end record and every part's declared size."""
    if fmt == XLS:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
        if size > xls_max_bytes:
            raise too_large(
                "xls_bytes",
                xls_max_bytes,
                msg("spreadsheets.xls_too_large", mib=xls_max_bytes >> 20),
            )
        return
    check_archive(file, limits, ods=fmt == ODS)


def out_of_memory(budget: int) -> Unprocessable:
    return too_large(
        "memory_bytes",
        budget,
        msg("spreadsheets.memory_budget", mib=budget >> 20),
    )


def too_long_cell() -> Unprocessable:
    return too_large(
        "cell_characters",
        MAX_TEXT,
        msg("spreadsheets.cell_too_long", max_text=MAX_TEXT),
    )


def no_visible_sheet() -> Unprocessable:
    return _invalid_file(msg("spreadsheets.no_visible_sheet"))


class SheetReader:
    """The first visible worksheet's rows, from `api.services.sheet_child` run with a
    memory budget. `sheet` names the sheet once the first row has been read."""

    def __init__(self, file: IO[bytes], limits: Limits, budget: int) -> None:
        self.file = file
        self.limits = limits
        self.budget = budget
        self.sheet: str | None = None

    def rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        """(row number as the spreadsheet shows it, cells), counted against `max_rows`."""
        proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [
                sys.executable,
                "-m",
                "api.services.sheet_child",
                str(self.budget),
                str(self.limits.max_rows),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        pump: threading.Thread | None = None
        stop = threading.Event()
        try:
            self.file.seek(0)
            with suppress(BrokenPipeError):  # the child died early: seen below
                shutil.copyfileobj(self.file, proc.stdin, 1 << 20)
            with suppress(BrokenPipeError):
                proc.stdin.close()
            # A thread drains the child's frames a few ahead, so that the child reads
            # while this thread validates rows and the caller stores them.
            frames: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
            pump = threading.Thread(target=_pump, args=(proc.stdout, frames, stop), daemon=True)
            pump.start()
            first = frames.get()
            if not isinstance(first, dict):
                raise self._failed(proc)
            self._check(first)
            self.sheet = str(first["sheet"])
            row_no = 0
            while (frame := frames.get()) is not _END:
                if frame is None:
                    raise self._failed(proc)
                if isinstance(frame, dict):
                    self._check(frame)
                for cells in frame:
                    row_no += 1
                    yield row_no, cells
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if pump is not None:
                stop.set()
                pump.join()
            proc.stdout.close()

    def _check(self, frame: dict[str, Any]) -> None:
        error = frame.get("error")
        if error == "rows":
            raise too_many_rows(self.limits.max_rows)
        if error == "cell_characters":
            raise too_long_cell()
        if error == "no_sheet":
            raise no_visible_sheet()
        if error is not None:
            raise not_a_workbook()

    def _failed(self, proc: subprocess.Popen[bytes]) -> Unprocessable:
        """The child ended without its last frame: over its memory budget (an abort in
        Rust, a MemoryError) or another crash; either way the file is refused."""
        proc.wait()
        return out_of_memory(self.budget)


_END = object()
AHEAD = 8  # frames (of 2,000 rows) read ahead of the rows handed out


def _pump(stream: IO[bytes], frames: queue.Queue[Any], stop: threading.Event) -> None:
    """Move the child's frames to `frames` until its last (or the stream's end: None),
    or until `stop` is set (the reader was closed early)."""
    while True:
        try:
            frame = _frame(stream)
        except (OSError, ValueError, EOFError):
            frame = None
        while not stop.is_set():
            try:
                frames.put(frame, timeout=0.1)
                break
            except queue.Full:
                continue
        if stop.is_set() or frame is None or frame is _END:
            return


def _frame(stream: IO[bytes]) -> Any:
    """The next frame: its payload, `_END` for the empty frame, None when the stream
    ends early."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack("<I", head)
    if size == 0:
        return _END
    data = stream.read(size)
    if len(data) < size:
        return None
    return marshal.loads(data)  # noqa: S302 - written by our own child process


def too_many_rows(limit: int) -> Unprocessable:
    return too_large(
        "rows",
        limit,
        msg("spreadsheets.too_many_rows", limit=limit),
    )
