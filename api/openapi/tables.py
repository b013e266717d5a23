"""What the refined OpenAPI document says beyond FastAPI's: tags, operation summaries and
descriptions, the conflicts and problem codes each operation may answer, the response
headers (api/openapi/__init__.py says how they are used)."""

from __future__ import annotations

import re
from typing import Any

REF = "#/components/schemas/"
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
SECURITY_SCHEME = "OAuth2"
SERVERS = [
    {"url": "http://127.0.0.1:8000", "description": "Local development (`qd85 serve`)"},
]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

TAGS: list[dict[str, str]] = [
    {
        "name": "auth",
        "description": "Tokens (OAuth2 password, client credentials, refresh "
        "with rotation), revocation, and the caller's own principal.",
    },
    {
        "name": "meta",
        "description": "Public facts about the API: every enumeration with its "
        "vi/en labels, and the version.",
    },
    {
        "name": "units",
        "description": "The party organisation tree: units, their subtree, "
        "moves, merges and dissolution.",
    },
    {
        "name": "members",
        "description": "The member roster: party members and cadres, "
        "searchable without diacritics.",
    },
    {
        "name": "accounts",
        "description": "Members' declared social accounts and pages, "
        "their declaration state and verification.",
    },
    {
        "name": "reports",
        "description": "Reported posts: filing, duplicates, the handling "
        "workflow, timeline and evidence files.",
    },
    {
        "name": "documents",
        "description": "Guidance documents: drafting, publishing, "
        "revisions, attached files and members' acknowledgements.",
    },
    {
        "name": "roster",
        "description": "Roster sync for partner systems: a dry-run diff of a "
        "snapshot or upsert (JSON, NDJSON, CSV or XLSX), then apply.",
    },
    {
        "name": "me",
        "description": "The caller's own member record, for a mobile home "
        "screen, and a data-subject export.",
    },
    {"name": "users", "description": "Logins and their (role, unit) grants."},
    {
        "name": "clients",
        "description": "API clients (partner systems, statistics scripts) "
        "using OAuth2 client credentials.",
    },
    {
        "name": "stats",
        "description": "Compliance statistics rolled up the tree, as JSON, "
        "and as CSV or XLSX through the `export` operations.",
    },
    {"name": "audit", "description": "The append-only audit log of every mutation."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics."},
]

SUMMARIES: dict[str, str] = {
    "health-healthz": "Liveness probe",
    "health-readyz": "Readiness probe",
    "health-metrics": "Prometheus metrics",
    "auth-token": "Obtain tokens",
    "auth-revoke": "Revoke a refresh token",
    "auth-me": "Get the calling principal",
    "meta-enums": "List every enumeration with labels",
    "meta-version": "Get the service version",
    "units-list": "List units",
    "units-create": "Create a unit",
    "units-get": "Get a unit",
    "units-update": "Update or move a unit",
    "units-tree": "Get a unit's subtree",
    "units-merge": "Merge a unit into another",
    "units-dissolve": "Dissolve a unit",
    "members-list": "List members",
    "members-create": "Create a member",
    "members-get": "Get a member",
    "members-update": "Update a member",
    "accounts-declare": "Declare a member's account",
    "accounts-list_for_member": "List a member's accounts",
    "accounts-declaration": "Record a member's declaration",
    "accounts-list": "List accounts",
    "accounts-get": "Get an account",
    "accounts-update": "Update an account",
    "accounts-verify": "Verify an account",
    "accounts-reject": "Reject an account",
    "accounts-close": "Close an account",
    "accounts-compromised": "Mark an account compromised",
    "reports-create": "File a report",
    "reports-list": "List reports",
    "reports-get": "Get a report",
    "reports-update": "Assign or prioritise a report",
    "reports-transition": "Move a report through its workflow",
    "reports-timeline": "Get a report's timeline",
    "reports-add_evidence": "Upload evidence to a report",
    "reports-list_evidence": "List a report's evidence",
    "reports-download_evidence": "Download an evidence file",
    "documents-create": "Create a document",
    "documents-list": "List documents",
    "documents-get": "Get a document",
    "documents-update": "Update a document",
    "documents-delete": "Delete a draft document",
    "documents-publish": "Publish a document",
    "documents-archive": "Archive a document",
    "documents-upload_file": "Attach a file to a document",
    "documents-delete_file": "Remove a document's file",
    "documents-download_file": "Download a document's file",
    "documents-list_revisions": "List a document's revisions",
    "documents-acknowledge": "Acknowledge a document",
    "documents-list_acknowledgements": "List a document's acknowledgement states",
    "roster-create": "Submit a roster sync",
    "roster-list": "List roster syncs",
    "roster-get": "Get a roster sync",
    "roster-changes": "List a sync's member changes",
    "roster-changes_export": "Export a sync's member changes as CSV or XLSX",
    "roster-unit_changes": "List a sync's unit changes",
    "roster-apply": "Apply a previewed roster sync",
    "me-get": "Get my home screen",
    "me-export": "Export all my data",
    "users-list": "List users",
    "users-create": "Create a user",
    "users-get": "Get a user",
    "users-update": "Update a user",
    "clients-list": "List API clients",
    "clients-create": "Create an API client",
    "clients-get": "Get an API client",
    "clients-revoke": "Revoke an API client",
    "clients-rotate_secret": "Rotate an API client's secret",
    "stats-compliance": "Get compliance statistics",
    "stats-compliance_export": "Export compliance statistics as CSV or XLSX",
    "stats-reports": "Get a report time series",
    "stats-reports_export": "Export a report time series as CSV or XLSX",
    "stats-documents": "Get a document's acknowledgement statistics",
    "stats-documents_export": "Export a document's acknowledgement statistics as CSV or XLSX",
    "audit-list": "List audit events",
}

# Descriptions of the operations whose handler has no docstring.
DESCRIPTIONS: dict[str, str] = {
    "auth-token": "An OAuth2 token request (form-encoded): `grant_type=password` with "
    "`username`/`password`, `client_credentials` with `client_id`/`client_secret` (or HTTP "
    "Basic), or `refresh_token` (rotated on each use; reusing a rotated one revokes its "
    "family). Errors carry the RFC 6749 `error` beside the problem `code`. Failed logins "
    "are rate limited per username and per address (429 with `Retry-After`).",
    "auth-revoke": "Revoke a refresh token (logout), per RFC 7009: unknown or already "
    "revoked tokens are accepted silently (200).",
    "auth-me": "The authenticated user or client: its id, name, linked member, roles and "
    "(role, unit) grants.",
    "units-create": "Create a unit under `parent_id` (admins may create a root). The `code` "
    "is unique (409 `duplicate`); the parent must be active (409 `unit_dissolved`).",
    "units-get": "One unit in the caller's scope (404 outside it), with its `ETag`.",
    "units-tree": "The unit's subtree to `depth` levels (0–6, default 2); a subtree of more "
    "than 5,000 units is 422 `tree_too_large`.",
    "members-list": "Members of the caller's scope, filtered (`unit_id` covers the subtree; "
    "`q` is a case- and diacritic-insensitive name search) and sorted by Vietnamese name "
    "order or by `updated_at`.",
    "members-get": "One member in the caller's scope (404 outside it), with its `ETag`.",
    "members-update": "Change a member's fields; `unit_id` moves them. `If-Match` is "
    "honoured (412 when stale). Members are never deleted: leaving is a `status` change.",
    "accounts-get": "One declared account in the caller's scope (404 outside it), with its `ETag`.",
    "reports-get": "One report the caller may see; the reporter is named only to the "
    "reporter and to handlers who are not the report's subject.",
    "reports-list_evidence": "The report's evidence files, oldest first.",
    "roster-get": "One roster sync with its counts and its first 100 rejected rows.",
    "users-get": "One user (admins; managers for member users in their scope).",
    "clients-get": "One API client (admins). The secret is never shown again.",
}

# The 409s of each operation: (code, what conflicts). Writes that can also meet a
# concurrent write of the same row, or an Idempotency-Key in flight, say so too.
CONFLICTS: dict[str, list[tuple[str, str]]] = {
    "documents-create": [("unit_dissolved", "the audience unit is dissolved")],
    "units-create": [
        ("duplicate", "a unit with this `code` exists"),
        ("unit_dissolved", "the parent unit is dissolved"),
    ],
    "units-update": [
        ("duplicate", "another unit has this `code`"),
        ("unit_cycle", "the new parent is inside the unit's own subtree"),
        ("unit_dissolved", "the unit or its new parent is dissolved"),
    ],
    "units-merge": [
        ("unit_cycle", "the target is inside the unit's own subtree"),
        ("unit_dissolved", "the unit or the target is dissolved"),
    ],
    "units-dissolve": [
        ("unit_not_empty", "active child units or active/exempt members remain"),
        ("unit_dissolved", "the unit is already dissolved"),
    ],
    "members-create": [
        ("duplicate", "a member with this `external_id` exists"),
        ("unit_dissolved", "the unit is dissolved"),
    ],
    "members-update": [
        ("duplicate", "another member has this `external_id`"),
        ("unit_dissolved", "the new unit is dissolved"),
    ],
    "accounts-declare": [
        ("duplicate_account", "another member actively declares the same canonical account")
    ],
    "accounts-declaration": [
        (
            "declaration_conflict",
            "`has_accounts: false` while active accounts remain, or `true` with none",
        )
    ],
    "accounts-verify": [("invalid_transition", "the account is not `pending`")],
    "accounts-reject": [("invalid_transition", "the account is not `pending`")],
    "accounts-close": [("invalid_transition", "the account is already `closed`")],
    "accounts-compromised": [("invalid_transition", "the account is not `pending` or `verified`")],
    "reports-update": [("report_closed", "the report is resolved, dismissed or withdrawn")],
    "reports-transition": [
        (
            "invalid_transition",
            "the workflow has no such move from the "
            "report's status for this caller (or the report is a duplicate, "
            "which follows its primary)",
        )
    ],
    "reports-add_evidence": [
        ("report_closed", "the report is closed"),
        ("evidence_limit", "the report already has 20 evidence files"),
    ],
    "documents-update": [("conflict", "the document is archived (read only)")],
    "documents-delete": [("conflict", "only drafts can be deleted")],
    "documents-publish": [("invalid_transition", "the document is not a draft")],
    "documents-archive": [("invalid_transition", "the document is not published")],
    "documents-upload_file": [("conflict", "the document is archived (read only)")],
    "documents-delete_file": [("conflict", "the document is archived (read only)")],
    "documents-acknowledge": [("document_not_published", "the document is archived")],
    "roster-create": [("unit_dissolved", "the scope unit is dissolved")],
    "roster-apply": [
        ("roster_changed", "the roster changed since the preview: preview again"),
        ("sync_not_applicable", "the sync failed or cannot be applied"),
    ],
    "users-create": [("duplicate", "the username exists, or the member already has a user")],
    "users-update": [("conflict", "an admin cannot deactivate themself")],
    "clients-rotate_secret": [("conflict", "the client is revoked")],
}
CONCURRENT = ("conflict", "the object was changed by a concurrent request: reload and retry")
IN_FLIGHT = ("idempotency_in_progress", "a request with this `Idempotency-Key` is in progress")

# Problem codes of 422 beyond `validation_failed`, by operation.
UNPROCESSABLE: dict[str, list[str]] = {
    "units-tree": ["tree_too_large"],
    "accounts-declare": ["invalid_account_url"],
    "reports-create": ["invalid_url"],
    "reports-add_evidence": ["invalid_file"],
    "documents-upload_file": ["invalid_file"],
    "roster-create": [
        "mass_deactivation",
        "sync_has_rejected_rows",
        "unsupported_encoding",
        "invalid_file",
    ],
    "roster-apply": ["mass_deactivation", "sync_has_rejected_rows"],
}
# Problem codes of 404 beyond `not_found`, by operation.
NOT_FOUND: dict[str, list[str]] = {
    "reports-download_evidence": ["file_missing"],
    "documents-download_file": ["file_missing"],
}
EXAMPLE_INSTANCE = "/api/v1/reports/5d2c1a4b-8e9f-4a3b-9c7d-6e5f4a3b2c1d"
TOKEN_ERRORS = {
    "invalid_grant": "invalid_grant",
    "unsupported_grant_type": "unsupported_grant_type",
    "bad_request": "invalid_request",
    "invalid_client": "invalid_client",
}

RENAMES = {
    "Body_auth-token": "TokenRequest",
    "Body_auth-revoke": "RevokeRequest",
    "Body_reports-add_evidence": "EvidenceUpload",
    "Page_Union_ReportWithReporter__ReportRead__": "ReportPage",
}
PAGE_NAME = re.compile(r"^Page_([A-Za-z0-9]+)_$")

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request id (the caller's `X-Request-ID` when it "
        "sent a well-formed one); also in every problem's `request_id`.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The object\'s version as an entity tag (`"3"`): send it back '
        "in `If-Match`.",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    "Location": {
        "description": "The URL of the created object.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit": {
        "description": 'IETF RateLimit fields: `"<policy>";r=<remaining>;t=<seconds to reset>`.',
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'IETF RateLimit-Policy: `"<policy>";q=<quota>;w=<window seconds>`.',
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {"description": '`Bearer realm="qd85"`.', "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an "
        "earlier request with the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Content-Disposition": {
        "description": "`attachment` with the file name.",
        "schema": {"type": "string"},
    },
    "Content-Language": {
        "description": "The language of `title` and `detail` (`vi` or `en`).",
        "schema": {"type": "string", "enum": ["vi", "en"]},
    },
}
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "`vi` (default) or `en`: the language of problem titles and details "
    "(by q-value). Problem `code`s and enum codes never change.",
    "schema": {"type": "string", "examples": ["vi", "en;q=0.9, vi;q=0.5"]},
}
