"""Compliance statistics kept exact without a shared hot row (`unit_stats`,
`unit_document_acks`, `counter_deltas`, `unit_rollups`).

Direct counters: every service that changes what the statistics count calls
`touch(session, units)` with the units whose own rows changed (a member's old and new
unit, an account's member's unit, a report's unit, a document's audience subtree). Those
units' rows are locked (`FOR NO KEY UPDATE`, compatible with foreign-key checks) and their
`unit_stats` recounted from the rows, set-based, in the writing transaction: a unit's
counters cannot drift, whatever the path that changed its rows, and `qd85 recount` is the
same code over every unit. A roster apply moves each changed member's contribution instead
(`shift`), in proportion to the rows changed.

Subtree figures: the write appends the change of each unit's counters to
`counter_deltas` (insert-only, stamped with the unit's path) and touches nothing above
the unit. The folder (`fold`: a task in each worker every `QD85_FOLD_INTERVAL_SECONDS`,
one at a time across replicas under a PostgreSQL advisory lock; `qd85 fold`) claims
pending deltas, adds them to the rollups of every unit on their paths, refreshes the
medians their resolved reports changed, and deletes them, in one transaction. A read
takes the rollup plus the subtree's pending deltas in one statement (`pending_rollups`):
exact at once, whether or not the folder has run. So writes in different units never wait
on each other: the root's rollup row is written by the folder alone. SQLite has one writer
at a time: it folds inside each writing transaction.

Moves: `detach` appends the moving units' counters negated under their old paths before
the move; `touch(…, moved=True)` recounts them (the documents addressing them change with
their ancestors) and appends them whole under the new paths.

The package, by concern: `recount` (what a unit's own rows count, and the rollups built
from them), `medians`, `writes` (what a write calls), `folder` (folding, the read of
rollups plus pending deltas, `recount_all`), `shift` (a roster apply). Callers import
from here.
"""

from api.services.counters.folder import (
    FOLD_BATCH,
    FOLD_LOCK,
    fold,
    fold_all,
    fold_inline,
    keep_folding,
    pending_rollups,
    recount_all,
)
from api.services.counters.medians import resolve_hours, subtree_medians
from api.services.counters.recount import (
    ACCOUNTS,
    ALL,
    COUNT_COLUMNS,
    DELTAS,
    REPORTS,
    ROLLUPS,
    chunks,
    subtree_units,
)
from api.services.counters.shift import shift
from api.services.counters.writes import acknowledged, detach, touch

__all__ = [
    "ACCOUNTS",
    "ALL",
    "COUNT_COLUMNS",
    "DELTAS",
    "FOLD_BATCH",
    "FOLD_LOCK",
    "REPORTS",
    "ROLLUPS",
    "acknowledged",
    "chunks",
    "detach",
    "fold",
    "fold_all",
    "fold_inline",
    "keep_folding",
    "pending_rollups",
    "recount_all",
    "resolve_hours",
    "shift",
    "subtree_medians",
    "subtree_units",
    "touch",
]
