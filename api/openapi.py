"""The published OpenAPI document, refined for the clients generated from it.

FastAPI's document is correct for the server but misleads client generators; `refine`
rewrites it, without changing what the server accepts or sends:

- readable schema names (`ReportPage`, `TokenRequest`, not `Page_Union_…`/`Body_auth-token`);
- request bodies that generators model completely: a transition is `TransitionRequest`,
  a `oneOf` of complete variants with a discriminator on `to`; an optional body is the
  object or nothing (never `null`); uploads are `format: binary`; downloads declare
  their binary media types;
- tight types: `grant_type` and the other closed sets are enums, every enum carries
  its vi/en labels (`x-enum-labels` and a table in its description);
- the response headers each operation sends, `Accept-Language` on every operation;
- OAuth2 `password` and `clientCredentials` flows (with `refreshUrl`), `security: []`
  on public operations, `servers`;
- on every error response the problem `code`s it may carry, each with an example, and
  409s that say which conflict;
- a unique summary and a description on every operation, tag descriptions.

The tables here (summaries, conflicts) are checked by tests/routers/test_openapi_document.py:
a new operation without a summary or description fails there.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from api.core.enums import LABELS
from api.core.errors import CODES, PROBLEM_MEDIA_TYPE
from api.schemas.reports import TransitionRequest
from api.schemas.roster import RosterSyncIn

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
_PAGE = re.compile(r"^Page_([A-Za-z0-9]+)_$")

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


def refine(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite FastAPI's document in place (see the module docstring) and return it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _rename_schemas(schema, schemas)
    _transition_variants(schema, schemas)
    _add_model(schemas, "RosterSyncIn", RosterSyncIn)
    _grant_variants(schemas)
    _bodies_and_files(schema)
    _enums(schema, schemas)
    _security(schema)
    components["headers"] = {_header_key(n): h for n, h in HEADERS.items()}
    components["parameters"] = {"AcceptLanguage": ACCEPT_LANGUAGE}
    shared_examples: dict[str, Any] = {}
    versioned = {n for n, s in schemas.items() if "version" in s.get("properties", {})}
    for path, method, operation in operations(schema):
        _describe(operation)
        _parameters_and_headers(operation, versioned)
        _problems(path, method, operation, shared_examples)
    components["examples"] = dict(sorted(shared_examples.items()))
    schema["tags"] = TAGS
    _prune(schema, schemas)
    return schema


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _rename_schemas(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    renames = dict(RENAMES)
    for name in schemas:
        if name not in renames and (match := _PAGE.match(name)):
            renames[name] = match.group(1) + "Page"
    for old, new in renames.items():
        if old in schemas:
            body = schemas.pop(old)
            body["title"] = new
            schemas[new] = body
    for node in _walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF) :] in renames:
            node["$ref"] = REF + renames[ref[len(REF) :]]


def _add_model(schemas: dict[str, Any], name: str, model: Any) -> dict[str, Any]:
    """A model's JSON schema as a component (with the models it refers to)."""
    model_schema = TypeAdapter(model).json_schema(ref_template=REF + "{model}")
    for def_name, definition in model_schema.pop("$defs", {}).items():
        schemas.setdefault(def_name, definition)
    schemas[name] = model_schema
    return model_schema


def _transition_variants(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The transition body as a discriminated `oneOf` of complete variants; the server
    still reads it as TransitionIn (one model), whose rules are the same."""
    adapter_schema = _add_model(schemas, "TransitionRequest", TransitionRequest)
    adapter_schema["title"] = "TransitionRequest"
    adapter_schema["examples"] = [
        example
        for variant in adapter_schema["oneOf"]
        for example in schemas[variant["$ref"][len(REF) :]].get("examples", [])
    ]
    adapter_schema["description"] = (
        "The move to make, by target status (`to`): `escalated` needs `authority` and "
        "`reference`, `resolved` needs `outcome`, the others neither. Whether the move is "
        "allowed depends on the report and the caller (409 `invalid_transition`); "
        "`allowed_transitions` on a report read lists them."
    )
    for node in _walk(schema.get("paths", {})):
        if node.get("$ref") == REF + "TransitionIn":
            node["$ref"] = REF + "TransitionRequest"


def _grant_variants(schemas: dict[str, Any]) -> None:
    """GrantIn's two anonymous branches (api/schemas/users.py) as named variants with a
    discriminator on `role`, so that generators name them."""
    grant = schemas.get("GrantIn", {})
    branches = grant.get("anyOf", [])
    if len(branches) != 2:
        return
    names = {"AdminGrantIn": branches[0], "ScopedGrantIn": branches[1]}
    descriptions = {
        "AdminGrantIn": "An admin grant: everywhere (a `unit_id` is ignored).",
        "ScopedGrantIn": "A grant on a unit and its subtree.",
    }
    mapping: dict[str, str] = {}
    for name, branch in names.items():
        schemas[name] = {"title": name, "description": descriptions[name], **branch}
        role = branch["properties"]["role"]
        for value in role.get("enum", [role.get("const")]):
            mapping[value] = REF + name
    schemas["GrantIn"] = {
        "title": "GrantIn",
        "description": "A (role, unit) grant; the unit's whole subtree is the scope.",
        "oneOf": [{"$ref": REF + name} for name in names],
        "discriminator": {"propertyName": "role", "mapping": mapping},
    }


def _bodies_and_files(schema: dict[str, Any]) -> None:
    for _path, _method, operation in operations(schema):
        body = operation.get("requestBody", {})
        for media, content in body.get("content", {}).items():
            branches = content.get("schema", {}).get("anyOf")
            if branches and {"type": "null"} in branches:
                # An optional body is absent or the object: never JSON `null`.
                rest = [b for b in branches if b != {"type": "null"}]
                if len(rest) == 1:
                    content["schema"] = rest[0]
            if media == "multipart/form-data":
                for node in _walk(content):
                    if "contentMediaType" in node and node.get("type") == "string":
                        node["format"] = "binary"
                        del node["contentMediaType"]
        for response in operation.get("responses", {}).values():
            for media, content in response.get("content", {}).items():
                if not media.endswith("json") and "schema" not in content:
                    content["schema"] = {"type": "string", "format": "binary"}
    schemas = schema["components"]["schemas"]
    for model in schemas.values():
        for prop in model.get("properties", {}).values():
            if "contentMediaType" in prop and prop.get("type") == "string":
                prop["format"] = "binary"
                del prop["contentMediaType"]


def _label_table(labels: dict[str, tuple[str, str]]) -> str:
    rows = "\n".join(f"| `{code}` | {vi} | {en} |" for code, (vi, en) in labels.items())
    return f"| code | vi | en |\n|---|---|---|\n{rows}"


def _enums(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Every enumeration of LABELS as a component with its labels; `grant_type` uses one."""
    for name, (enum, labels) in LABELS.items():
        component = schemas.setdefault(
            enum.__name__,
            {"type": "string", "enum": [m.value for m in enum], "title": enum.__name__},
        )
        own_doc = enum.__doc__ if enum.__doc__ != StrEnum.__doc__ else None
        intro = inspect.cleandoc(own_doc or "")
        component["description"] = (
            (intro + "\n\n" if intro else "")
            + f"Labels (also `GET /api/v1/meta/enums`, `{name}`):\n\n"
            + _label_table(labels)
        )
        component["x-enum-labels"] = {
            code: {"vi": vi, "en": en} for code, (vi, en) in labels.items()
        }
    token = schemas.get("TokenRequest", {}).get("properties", {})
    if "grant_type" in token:
        token["grant_type"] = {"$ref": REF + "GrantType"}


def _security(schema: dict[str, Any]) -> None:
    components = schema["components"]
    old = components.get("securitySchemes", {})
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "Bearer JWTs from `POST /api/v1/auth/token`: users with the password "
            "flow (with a rotating refresh token), API clients with client credentials.",
            "flows": {
                "password": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
                "clientCredentials": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
            },
        }
    }
    for _path, _method, operation in operations(schema):
        if any(set(s) & set(old) for s in operation.get("security", [])):
            operation["security"] = [{SECURITY_SCHEME: []}]
        else:
            operation["security"] = []
    schema["servers"] = SERVERS


def _describe(operation: dict[str, Any]) -> None:
    op_id = operation["operationId"]
    if op_id in SUMMARIES:
        operation["summary"] = SUMMARIES[op_id]
    if not operation.get("description") and op_id in DESCRIPTIONS:
        operation["description"] = DESCRIPTIONS[op_id]


def _header_key(name: str) -> str:
    return name.replace("-", "")


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{_header_key(name)}"}


def _parameters_and_headers(operation: dict[str, Any], versioned: set[str]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "accept-language" for p in parameters):
        parameters.append({"$ref": "#/components/parameters/AcceptLanguage"})
    names = {p.get("name") for p in parameters}
    for status, response in operation.get("responses", {}).items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        if status.startswith("2"):
            content = response.get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            refs = [b.get("$ref", "") for b in body.get("anyOf", [body])]
            if all(ref[len(REF) :] in versioned for ref in refs):  # one object: its ETag is sent
                headers["ETag"] = _header("ETag")
            if status == "201":
                headers["Location"] = _header("Location")
            if "Idempotency-Key" in names:
                headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
            if any(not m.endswith("json") for m in content):
                headers["Content-Disposition"] = _header("Content-Disposition")
        else:
            headers["Content-Language"] = _header("Content-Language")
        if status == "401":
            headers["WWW-Authenticate"] = _header("WWW-Authenticate")
        if status in ("429", "503"):
            headers["Retry-After"] = _header("Retry-After")
        if status == "429":
            headers["RateLimit"] = _header("RateLimit")
            headers["RateLimit-Policy"] = _header("RateLimit-Policy")


def _codes(path: str, method: str, operation: dict[str, Any], status: str) -> list[tuple[str, str]]:
    op_id = operation["operationId"]
    names = {p.get("name") for p in operation.get("parameters", [])}
    token = path.startswith("/api/v1/auth/") and op_id != "auth-me"
    meaning = {code: CODES[code][2] for code in CODES}
    if status == "400":
        if op_id == "auth-token":
            return [
                (c, meaning[c]) for c in ("invalid_grant", "unsupported_grant_type", "bad_request")
            ]
        media = operation.get("requestBody", {}).get("content", {})
        return (
            [("invalid_json", "the body is not JSON")]
            if "application/json" in media
            else [("bad_request", "the body cannot be parsed")]
        )
    if status == "401":
        if token:
            return [("invalid_client", "unknown client or wrong secret")]
        return [
            ("unauthorized", "no bearer token"),
            ("invalid_token", "the token is malformed, expired or revoked"),
        ]
    if status == "409":
        found = dict(CONFLICTS.get(op_id, []))
        if method != "get" or not found:
            code, why = CONCURRENT
            found[code] = f"{found[code]}; or {why}" if code in found else why
        if "Idempotency-Key" in names:
            found[IN_FLIGHT[0]] = IN_FLIGHT[1]
        return list(found.items())
    if status == "422":
        codes = ["validation_failed", *UNPROCESSABLE.get(op_id, [])]
        if "cursor" in names:
            codes.append("invalid_cursor")
        if "Idempotency-Key" in names:
            codes.append("idempotency_key_mismatch")
        return [(c, meaning[c]) for c in codes]
    if status == "404":
        codes = ["not_found", *NOT_FOUND.get(op_id, [])]
        return [(c, meaning[c]) for c in codes]
    by_status = {
        "403": "forbidden",
        "412": "version_mismatch",
        "413": "payload_too_large",
        "415": "unsupported_media_type",
        "429": "rate_limited",
        "503": "service_unavailable",
    }
    if status in by_status:
        code = by_status[status]
        return [(code, meaning[code])]
    return []


def _example(code: str, detail: str, path: str, token: bool) -> dict[str, Any]:
    status, _vi, en = CODES[code]
    value: dict[str, Any] = {
        "type": f"https://qd85.vn/problems/{code}",
        "title": en,
        "status": status,
        "detail": detail[:1].upper() + detail[1:] + ".",
        "instance": path,
        "code": code,
        "request_id": "3f2b8c1e9a7d4e60",
    }
    if token and code in TOKEN_ERRORS:
        value["error"] = TOKEN_ERRORS[code]
    return {"summary": f"{code}: {detail}", "value": value}


def _problems(path: str, method: str, operation: dict[str, Any], shared: dict[str, Any]) -> None:
    """Codes, descriptions and examples of the problem responses. An example that means
    the same everywhere (a code with its usual meaning) is one `components/examples`
    entry; the 409s and the token endpoint's are the operation's own."""
    token = path == "/api/v1/auth/token"
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if PROBLEM_MEDIA_TYPE not in content or not (
            codes := _codes(path, method, operation, status)
        ):
            continue
        if status == "409":  # what conflicts, specifically
            listed = "; or ".join(f"{m} (`{c}`)" for c, m in codes)
            response["description"] = f"Conflict: {listed}."
        else:
            listed = "; ".join(f"`{c}` ({m})" for c, m in codes)
            response["description"] = (
                f"{response.get('description', 'Error')}. Problem codes: {listed}."
            )
        examples: dict[str, Any] = {}
        for code, meaning in codes:
            example = _example(code, meaning, path, token)
            if status != "409" and not token:
                if code not in shared:
                    example["value"]["instance"] = EXAMPLE_INSTANCE
                    shared[code] = example
                if shared[code]["summary"] == example["summary"]:
                    examples[code] = {"$ref": f"#/components/examples/{code}"}
                    continue
            examples[code] = example
        content[PROBLEM_MEDIA_TYPE]["examples"] = examples
        response["x-problem-codes"] = [c for c, _ in codes]


def _prune(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Drop the components no longer referenced (TransitionIn, FastAPI's leftovers)."""
    while True:
        refs = {
            node["$ref"][len(REF) :]
            for node in _walk({k: v for k, v in schema.items() if k != "components"})
            if isinstance(node.get("$ref"), str) and node["$ref"].startswith(REF)
        }
        for name, body in schemas.items():
            refs |= {
                node["$ref"][len(REF) :]
                for node in _walk(body)
                if isinstance(node.get("$ref"), str)
                and node["$ref"].startswith(REF)
                and node["$ref"][len(REF) :] != name
            }
        unused = [name for name in schemas if name not in refs]
        if not unused:
            return
        for name in unused:
            del schemas[name]
