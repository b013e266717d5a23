"""Roster sync (SPEC §5): partner systems keep units and members current, with a
preview of every change. No FastAPI here.

Pipeline, set-based all the way (no ORM object and no query per row):

1. **Stage** (stage.py). The spooled body is parsed (parse.py, encodings.py) and each
   row validated (rows.py) in Python, and loaded in batches into a temporary table.
2. **Diff** (diff.py; units.py for the units a snapshot carries). `INSERT … SELECT`s
   write `roster_sync_rows` (and, for a snapshot that carries units,
   `roster_sync_units`): per row the action, the values after the
   sync, the values before, the reason of a rejection. preview.py runs 1 and 2 and
   records the sync.
3. **Apply** (apply.py; units.py again for the units) executes exactly those rows, in
   one transaction, as a fixed sequence of statements.

sync.py orders preview and apply for a request (the router decides and commits nothing);
reads.py serves the syncs and their diff rows; errors.py builds the problems all of them
answer with; common.py holds the tables and constants they share.
"""

from api.services.roster.apply import apply
from api.services.roster.common import FIELD_BITS
from api.services.roster.preview import SyncRequest, preview
from api.services.roster.reads import list_changes, list_syncs, list_unit_changes, read
from api.services.roster.sync import body_format, preview_and_apply

__all__ = [
    "FIELD_BITS",
    "SyncRequest",
    "apply",
    "body_format",
    "list_changes",
    "list_syncs",
    "list_unit_changes",
    "preview",
    "preview_and_apply",
    "read",
]
