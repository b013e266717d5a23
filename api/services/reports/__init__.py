"""Reported posts: filing with deduplication and the link to members (filing.py), the
handling workflow with its one explicit state table, deadlines and assignment
(workflow.py), the reads and the timeline (queries.py) and evidence (evidence.py).
core.py says who sees and who handles a report.
"""

from api.services.reports.core import (
    Visible,
    can_list,
    get_visible,
    is_reporter,
    may_handle,
    sees_reporter,
)
from api.services.reports.evidence import MAX_EVIDENCE, add_evidence, get_evidence, list_evidence
from api.services.reports.filing import due_at, file, report_policy
from api.services.reports.queries import list_reports, own_reports, read_model, timeline
from api.services.reports.workflow import WORKFLOW, allowed_moves, transition, update_report

__all__ = [
    "MAX_EVIDENCE",
    "WORKFLOW",
    "Visible",
    "add_evidence",
    "allowed_moves",
    "can_list",
    "due_at",
    "file",
    "get_evidence",
    "get_visible",
    "is_reporter",
    "list_evidence",
    "list_reports",
    "may_handle",
    "own_reports",
    "read_model",
    "report_policy",
    "sees_reporter",
    "timeline",
    "transition",
    "update_report",
]
