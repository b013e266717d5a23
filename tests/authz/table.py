"""The one permission table of the authorization matrix (SPEC §3–§5, README "Decisions
where the spec is silent").

One `Entry` per (method, path template) of every route in `app.routes` outside
`api.main.PUBLIC_PATHS` (`PUBLIC` lists those, with what an anonymous caller gets). An
entry names the object its path points at (`target`), the rule that decides the answer
(`rule`) and how to send a valid request (`send`). The expected status of every (role,
position) is computed, never written out:

- anonymous → 401, everywhere;
- the object is not visible to the role → 404 (missing and out of scope look the same);
- visible, but the role may not do this → 403;
- allowed → the route's success status (and a mutating success really happens).

`Who.can`/`Who.may` read `api.services.authz.ROLE_ACTIONS` (pinned to SPEC §4 by
`SPEC_ROLE_ACTIONS`). Lists answer 403 to a role that cannot read the resource anywhere;
creates answer 403 to a role that cannot create anywhere, and 422 when the unit or member
named in the body lies outside the caller's scope. What does not follow from
ROLE_ACTIONS alone is written into the entry's rule: ownership (a member acts on their own
record and accounts, a reporter on their own report), separation of duties (nobody
verifies their own account or handles a report they are a party to), documents
addressed to an ancestor (read only) or to the caller's member, roster sync for partners,
users for managers, clients for admins only.

Roles (one principal each; every grant is on unit A of tests/support/world.py):
    admin     user, admin grant (everything, everywhere)
    manager   user, manager of A, and linked to member `boss` of A: a cấp ủy member is a
              party member too, so `own` exercises separation of duties
    reviewer  user, reviewer of A, no member
    analyst   API client, analyst of A
    partner   API client, partner of A
    member    user linked to member `me` of A1, no grant
    anon      no token

Positions of the object the path names (for creates: of the unit or member named in the
body; `-` for routes that name no object):
    own       the caller's own: their member row, its accounts and reports; their user or
              client record; a roster sync they made (only for callers that have one)
    in_scope  inside A: unit A1 or an object of A1 (a member of A1 with a login, their
              account or report, a document addressed to A1, a sync of A1, a client of A1)
    sibling   inside B: B1 or an object of B1
    ancestor  the root R or an object of R (above the grants: prefix checks must not leak)
    about_me  reports only: filed by a member of B1 about a declared account of the
              caller's member (the caller is its subject)
    about_a   reports only: filed by a member of B1 about a declared account of the
              member of A1 (visible through the subject's unit alone)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from api.core.enums import Role
from api.services.authz import ROLE_ACTIONS, Action
from tests.support.factories import PASSWORD, report_body

if TYPE_CHECKING:
    from tests.authz.targets import Matrix, Target

A = Action
# A status, or (status, problem code) when the code is not the usual one for the status.
Expect = int | tuple[int, str]


# --------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class Who:
    name: str
    kind: str | None  # "user" | "client"; None: anonymous
    grant: Role | None = None  # on unit A (admin: everywhere)
    member: str | None = None  # the code of the unit of the caller's own member record
    # Document positions whose audience includes the caller's member (documents in_scope
    # address A1, ancestor ones R; boss of A is not addressed by A1's).
    addressed: tuple[str, ...] = ()

    @property
    def admin(self) -> bool:
        return self.grant is Role.admin

    def can(self, action: Action) -> bool:
        """The action is allowed somewhere."""
        return self.admin or (self.grant is not None and action in ROLE_ACTIONS[self.grant])

    def may(self, action: Action, at: Place) -> bool:
        """The action is allowed on an object at `at`."""
        return self.admin or (self.can(action) and at.in_a)


ROLES = (
    Who("admin", "user", Role.admin),
    Who("manager", "user", Role.manager, member="A", addressed=("ancestor",)),
    Who("reviewer", "user", Role.reviewer),
    Who("analyst", "client", Role.analyst),
    Who("partner", "client", Role.partner),
    Who("member", "user", member="A.1", addressed=("in_scope", "ancestor")),
    Who("anon", None),
)

# SPEC §4 read as actions. ROLE_ACTIONS must stay equal to it (test_matrix checks), so a
# change of rights is a deliberate change of this table too.
SPEC_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    # in scope: manage units and members (and their logins), verify accounts, handle
    # reports, publish documents, read stats and audit
    Role.manager: frozenset(
        {
            A.UNIT_READ,
            A.UNIT_MANAGE,
            A.MEMBER_READ,
            A.MEMBER_MANAGE,
            A.USER_MANAGE,
            A.ACCOUNT_READ,
            A.ACCOUNT_MANAGE,
            A.ACCOUNT_VERIFY,
            A.REPORT_HANDLE,
            A.DOCUMENT_MANAGE,
            A.STATS_READ,
            A.AUDIT_READ,
        }
    ),
    # in scope: read members (in their units) and accounts, handle reports, read stats
    Role.reviewer: frozenset(
        {A.UNIT_READ, A.MEMBER_READ, A.ACCOUNT_READ, A.REPORT_HANDLE, A.STATS_READ}
    ),
    # in scope: roster sync, read units and members
    Role.partner: frozenset({A.UNIT_READ, A.MEMBER_READ, A.ROSTER_SYNC}),
    # in scope: read statistics only
    Role.analyst: frozenset({A.STATS_READ}),
    # own record only: checked by ownership, not by actions
    Role.member: frozenset(),
}


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class Place:
    name: str
    in_a: bool = False  # the object's unit lies in A, the subtree of every grant
    above: bool = False  # the object's unit is an ancestor of A
    mine: bool = False  # the caller's own
    party: bool = False  # the caller's member is a party (own record, reporter or subject)


OWN = Place("own", in_a=True, mine=True, party=True)
IN_SCOPE = Place("in_scope", in_a=True)
SIBLING = Place("sibling")
ANCESTOR = Place("ancestor", above=True)
ABOUT_ME = Place("about_me", in_a=True, party=True)
ABOUT_A = Place("about_a", in_a=True)
NOWHERE = Place("-")
# Where the object of a move lies when the position is its destination (in scope, not A1;
# a document addressed to A2 does not address `me`).
A2 = Place("a2", in_a=True)

SCOPES = (IN_SCOPE, SIBLING, ANCESTOR)
OWNED = (OWN, *SCOPES)
# Target kind → the positions it takes. `*_ref`: named in the body of a create.
KINDS: dict[str | None, tuple[Place, ...]] = {
    None: (NOWHERE,),
    "unit": SCOPES,
    "unit_ref": SCOPES,
    # An object of A2 whose move names the unit at the position in its body.
    "unit_move": SCOPES,
    "member_move": SCOPES,
    "document_move": SCOPES,
    "member": OWNED,
    "member_ref": SCOPES,  # a member without a login (POST /users)
    "account": OWNED,
    "report": (*OWNED, ABOUT_ME, ABOUT_A),
    "evidence": SCOPES,  # evidence of the report at the position, asked through another report
    "document": SCOPES,
    "sync": OWNED,
    "user": OWNED,
    "client": OWNED,
}


def has_own(who: Who, kind: str | None) -> bool:
    """Whether `own` (and `about_me`) exist for this caller and kind."""
    if kind in ("member", "account", "report"):
        return who.member is not None
    if kind == "sync":
        return who.can(A.ROSTER_SYNC)
    return kind in ("user", "client") and who.kind == kind


# --------------------------------------------------------------------------- rules

Rule = Callable[[Who, Place], Expect]


def listing(action: Action, *, members: bool = False) -> Rule:
    """A list: 200 for a role that may read `action` somewhere (or, with `members`, for
    a caller with a member record: the list shows their own things), else 403."""
    return lambda who, at: 200 if who.can(action) or (members and who.member) else 403


def creating(action: Action) -> Rule:
    """A create naming a unit (or member) in its body: 403 for a role that may not
    create anywhere; 422 `validation_failed` when the named object is outside the
    caller's scope (README)."""
    return lambda who, at: (201 if who.may(action, at) else 422) if who.can(action) else 403


def item(
    see: Action,
    act: Action | None = None,
    *,
    ok: int = 200,
    own_sees: bool = False,
    own_acts: bool = False,
    parties_act: bool = True,
) -> Rule:
    """An object at a position: 404 unless `see` covers it (or it is the caller's own and
    `own_sees`); then `act` decides 403 or `ok`. `own_acts`: the owner may act whatever
    their role; `parties_act=False`: separation of duties, no party to the object acts
    (checked after ownership)."""

    def rule(who: Who, at: Place) -> Expect:
        if not (who.may(see, at) or (own_sees and at.mine)):
            return 404
        if act is None or (own_acts and at.mine):
            return ok
        if not parties_act and at.party:
            return 403
        return ok if who.may(act, at) else 403

    return rule


def moving(rule: Rule, act: Action) -> Rule:
    """Moving an object of A2 to the unit at the position (named in the body): the
    object's own `rule` first (404, 403), then 422 `validation_failed` unless the
    destination lies in the caller's scope for `act`."""

    def moved(who: Who, at: Place) -> Expect:
        first = rule(who, A2)
        if first != 200:
            return first
        return 200 if who.may(act, at) else 422

    return moved


def admin_only(ok: int) -> Rule:
    """API clients: admins only; everybody else 403, whatever the object."""
    return lambda who, at: ok if who.admin else 403


def anyone(ok: int) -> Rule:
    return lambda who, at: ok


def foreign_evidence(who: Who, at: Place) -> Expect:
    """An evidence id of another report, asked through a report of A1: 404 for everyone."""
    return 404


def withdraw(who: Who, at: Place) -> Expect:
    """submitted → withdrawn: the reporter only (visible non-reporters get 403)."""
    if not (who.may(A.REPORT_HANDLE, at) or at.mine):
        return 404
    return 200 if at.mine else 403


def users_item(*, edit: bool) -> Rule:
    """Users need user.manage (403 without it, never 404: api/routers/users.py); managers
    see the logins of members in their scope (their own included) and edit only those
    without grants, so not their own (403)."""

    def rule(who: Who, at: Place) -> Expect:
        if not who.can(A.USER_MANAGE):
            return 403
        if not who.may(A.USER_MANAGE, at):
            return 404
        return 403 if edit and at.mine and not who.admin else 200

    return rule


def doc_visible(who: Who, at: Place, *, draft: bool = False) -> bool:
    """Managers (and admins) see every document addressed in their scope, drafts too;
    managers also see, read only, the published ones addressed to an ancestor of their
    scope; members the published ones addressed to their unit or an ancestor."""
    if who.may(A.DOCUMENT_MANAGE, at):
        return True
    if draft:
        return False
    return (at.above and who.can(A.DOCUMENT_MANAGE)) or at.name in who.addressed


def document(act: Action | None = None, *, ok: int = 200, draft: bool = False) -> Rule:
    def rule(who: Who, at: Place) -> Expect:
        if not doc_visible(who, at, draft=draft):
            return 404
        return ok if act is None or who.may(act, at) else 403

    return rule


def acknowledge(who: Who, at: Place) -> Expect:
    """A caller without a member gets 403; a document not addressed to their member 404."""
    if not doc_visible(who, at):
        return 404
    if who.member is None:
        return 403
    return 201 if at.name in who.addressed else 404


def acknowledgements(who: Who, at: Place) -> Expect:
    """For managers of (part of) the audience: in scope, or addressed to an ancestor."""
    if not doc_visible(who, at):
        return 404
    manages = who.may(A.DOCUMENT_MANAGE, at) or (at.above and who.can(A.DOCUMENT_MANAGE))
    return 200 if manages else 403


def stats(who: Who, at: Place) -> Expect:
    """?unit_id= at the position: 403 without stats.read; 404 outside the scope."""
    if not who.can(A.STATS_READ):
        return 403
    return 200 if who.may(A.STATS_READ, at) else 404


def document_stats(who: Who, at: Place) -> Expect:
    """A published document whose audience meets the caller's scope (inside it, or
    above it: it addresses the whole scope)."""
    if not who.can(A.STATS_READ):
        return 403
    return 200 if who.may(A.STATS_READ, at) or at.above else 404


def members_file(who: Who, at: Place) -> Expect:
    """Reports are filed by callers linked to a member. `impersonated_unit_id` is checked
    for existence only (any unit of the tree: a member has no unit scope to check)."""
    return 201 if who.member else 403


def me(who: Who, at: Place) -> Expect:
    return 200 if who.member else 404  # logins without a member record, and clients


# --------------------------------------------------------------------------- requests

Send = Callable[["Matrix", "Target"], dict[str, Any]]
Check = Callable[[Who, Place, httpx.Response], str | None]
_seq = itertools.count(1)
PDF = b"%PDF-1.4\n%matrix\n%%EOF\n"


def n() -> int:
    return next(_seq)


def pdf_upload(w: Matrix, t: Target) -> dict[str, Any]:
    return {"files": {"file": (f"tai-lieu-{n()}.pdf", PDF + str(n()).encode(), "application/pdf")}}


def unit_param(w: Matrix, t: Target) -> dict[str, Any]:
    return {"params": {"unit_id": t.unit_id}}


def roster_body(w: Matrix, t: Target) -> dict[str, Any]:
    code = t.unit_code
    row = {
        "external_id": f"MX-{n():05d}",
        "full_name": "Đặng Thị Lan",
        "unit_code": code,
        "membership": "official",
    }
    return {"json": {"mode": "upsert", "scope_unit_code": code, "members": [row]}}


def unit_export(w: Matrix, t: Target) -> dict[str, Any]:
    return {"params": {"unit_id": t.unit_id, "format": "xlsx"}}


def params(query: dict[str, Any]) -> Send:
    return lambda w, t: {"params": query}


def json(body: dict[str, Any]) -> Send:
    return lambda w, t: {"json": body}


def to_unit(name: str) -> Send:
    """A body naming the target's unit (a parent, a merge target, an audience)."""
    return lambda w, t: {"json": {name: t.unit_id}}


def new_unit(w: Matrix, t: Target) -> dict[str, Any]:
    return {
        "json": {"code": f"MX.{n()}", "name": "Chi bộ mới", "level": "cell", "parent_id": t.unit_id}
    }


def new_root(w: Matrix, t: Target) -> dict[str, Any]:
    return {"json": {"code": f"MX.{n()}", "name": "Đảng bộ mới", "level": "provincial"}}


def new_member(w: Matrix, t: Target) -> dict[str, Any]:
    return {"json": {"full_name": "Nguyễn Văn Mới", "unit_id": t.unit_id, "membership": "official"}}


def new_report(w: Matrix, t: Target) -> dict[str, Any]:
    return {"json": report_body(impersonated_unit_id=t.unit_id)}


def new_document(w: Matrix, t: Target) -> dict[str, Any]:
    return {
        "json": {
            "code": f"{n()}-HD/MX",
            "title": "Hướng dẫn mới",
            "doc_type": "guidance",
            "issuer": "Ban Tuyên giáo",
            "issued_on": "2025-07-01",
            "body": "## Nội dung",
            "audience_unit_id": t.unit_id,
        }
    }


def new_user(w: Matrix, t: Target) -> dict[str, Any]:
    return {
        "json": {
            "username": f"dang.vien.{n()}",
            "password": "mot-mat-khau-dai",
            "member_id": t.member_id,
        }
    }


def new_client(w: Matrix, t: Target) -> dict[str, Any]:
    return {"json": {"name": f"Thống kê {n()}", "role": "analyst", "unit_id": t.unit_id}}


def merge_beside(w: Matrix, t: Target) -> dict[str, Any]:
    return {"json": {"into_unit_id": str(w.neighbour(t.place).id)}}


def reporter_hidden_from_subject(who: Who, at: Place, r: httpx.Response) -> str | None:
    shown = "reporter_member_id" in r.json()
    return None if shown == (at is not ABOUT_ME) else f"reporter_member_id shown={shown}"


def reporter_entries_hidden_from_subject(who: Who, at: Place, r: httpx.Response) -> str | None:
    filed = [e for e in r.json()["items"] if e["kind"] == "filed"]
    hidden = [e["actor_id"] is None for e in filed]
    return None if hidden == [at is ABOUT_ME] else f"filed entries hidden: {hidden}"


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    target: str | None  # a kind of KINDS: what the path (or the body) names
    rule: Rule
    send: Send | None = None  # json/params/files of a valid request for the target
    ok: int = 200  # the success status the rule gives (TestTable checks they agree)
    state: str = ""  # the target's state when it matters (documents: draft, file)
    mutates: bool = False  # a fresh target for every case expected to succeed
    variant: str = ""  # several entries of one route (e.g. two transitions)
    overrides: Mapping[tuple[str, str], Expect] = field(default_factory=dict)
    check: Check | None = None  # more than the status, on a success
    # Lists: objects of this kind are made at every scope position first; an admin's list
    # must show them all, anybody else's none of those at the `hidden` positions.
    seed: str | None = None
    hidden: tuple[Place, ...] = (SIBLING, ANCESTOR)
    # (role, position) → what the code does instead of the expected answer: known bugs,
    # checked strictly (the test xfails while exactly these fail, and fails once they pass).
    bugs: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")

    def cases(self) -> list[tuple[Who, Place]]:
        return [
            (who, at)
            for who in ROLES
            for at in KINDS[self.target]
            if at not in (OWN, ABOUT_ME) or has_own(who, self.target)
        ]

    def expected(self, who: Who, at: Place) -> Expect:
        if who.kind is None:
            return 401
        return self.overrides.get((who.name, at.name)) or self.rule(who, at)


V1 = "/api/v1"
UNITS, MEMBERS, ACCOUNTS, REPORTS = (
    f"{V1}/units",
    f"{V1}/members",
    f"{V1}/accounts",
    f"{V1}/reports",
)
DOCS, SYNCS, USERS, CLIENTS = (
    f"{V1}/documents",
    f"{V1}/roster/syncs",
    f"{V1}/users",
    f"{V1}/clients",
)

READ_REPORT = item(A.REPORT_HANDLE, own_sees=True)
HANDLE_REPORT = item(A.REPORT_HANDLE, A.REPORT_HANDLE, own_sees=True, parties_act=False)
OWNER_OR_MANAGER = item(A.ACCOUNT_READ, A.ACCOUNT_MANAGE, own_sees=True, own_acts=True)
VERIFIER = item(A.ACCOUNT_READ, A.ACCOUNT_VERIFY, own_sees=True, parties_act=False)
SYNC_READ = item(A.ROSTER_SYNC, own_sees=True)
UNIT_CHANGE = item(A.UNIT_READ, A.UNIT_MANAGE)
MEMBER_CHANGE = item(A.MEMBER_READ, A.MEMBER_MANAGE, own_sees=True)
DOCUMENT_CHANGE = document(A.DOCUMENT_MANAGE)
E = Entry

ENTRIES: tuple[Entry, ...] = (
    # --- units: the tree (UNIT_READ to see, UNIT_MANAGE to change; roots for admins)
    E("GET", UNITS, None, listing(A.UNIT_READ), seed="unit"),
    E("POST", UNITS, "unit_ref", creating(A.UNIT_MANAGE), ok=201, mutates=True, send=new_unit),
    E("POST", UNITS, None, admin_only(201), ok=201, mutates=True, send=new_root, variant="root"),
    E("GET", f"{UNITS}/{{unit_id}}", "unit", item(A.UNIT_READ)),
    E(
        "PATCH",
        f"{UNITS}/{{unit_id}}",
        "unit",
        UNIT_CHANGE,
        mutates=True,
        send=json({"declaration_deadline_days": 45}),
    ),
    E(
        "PATCH",
        f"{UNITS}/{{unit_id}}",
        "unit_move",
        moving(UNIT_CHANGE, A.UNIT_MANAGE),
        mutates=True,
        send=to_unit("parent_id"),
        variant="move",
    ),
    E("GET", f"{UNITS}/{{unit_id}}/tree", "unit", item(A.UNIT_READ)),
    # Merging or dissolving R itself cannot succeed even for an admin: every unit lies under it.
    E(
        "POST",
        f"{UNITS}/{{unit_id}}/merge",
        "unit",
        UNIT_CHANGE,
        mutates=True,
        send=merge_beside,
        overrides={("admin", "ancestor"): (409, "unit_cycle")},
    ),
    E(
        "POST",
        f"{UNITS}/{{unit_id}}/merge",
        "unit_move",
        moving(UNIT_CHANGE, A.UNIT_MANAGE),
        mutates=True,
        send=to_unit("into_unit_id"),
        variant="into",
    ),
    E(
        "POST",
        f"{UNITS}/{{unit_id}}/dissolve",
        "unit",
        UNIT_CHANGE,
        mutates=True,
        overrides={("admin", "ancestor"): (409, "unit_not_empty")},
    ),
    # --- members: own record or MEMBER_READ to see; MEMBER_MANAGE to change (not the owner)
    E("GET", MEMBERS, None, listing(A.MEMBER_READ), seed="member"),
    E(
        "POST",
        MEMBERS,
        "unit_ref",
        creating(A.MEMBER_MANAGE),
        ok=201,
        mutates=True,
        send=new_member,
    ),
    E("GET", f"{MEMBERS}/{{member_id}}", "member", item(A.MEMBER_READ, own_sees=True)),
    E(
        "PATCH",
        f"{MEMBERS}/{{member_id}}",
        "member",
        MEMBER_CHANGE,
        mutates=True,
        send=json({"position": "Chi ủy viên"}),
    ),
    E(
        "PATCH",
        f"{MEMBERS}/{{member_id}}",
        "member_move",
        moving(MEMBER_CHANGE, A.MEMBER_MANAGE),
        mutates=True,
        send=to_unit("unit_id"),
        variant="move",
    ),
    # --- declared accounts: the member themself, or ACCOUNT_MANAGE in scope; verify/reject
    # by ACCOUNT_VERIFY, never the owner
    E(
        "POST",
        f"{MEMBERS}/{{member_id}}/accounts",
        "member",
        item(A.MEMBER_READ, A.ACCOUNT_MANAGE, ok=201, own_sees=True, own_acts=True),
        ok=201,
        mutates=True,
        send=lambda w, t: {"json": {"url": f"https://www.facebook.com/khai.bao.{n()}"}},
    ),
    E(
        "GET",
        f"{MEMBERS}/{{member_id}}/accounts",
        "member",
        item(A.MEMBER_READ, A.ACCOUNT_READ, own_sees=True, own_acts=True),
    ),
    E(
        "POST",
        f"{MEMBERS}/{{member_id}}/declaration",
        "member",
        item(A.MEMBER_READ, A.ACCOUNT_MANAGE, own_sees=True, own_acts=True),
        mutates=True,
        send=json({"has_accounts": False}),
    ),
    E("GET", ACCOUNTS, None, listing(A.ACCOUNT_READ), seed="account"),
    E("GET", f"{ACCOUNTS}/{{account_id}}", "account", item(A.ACCOUNT_READ, own_sees=True)),
    E(
        "PATCH",
        f"{ACCOUNTS}/{{account_id}}",
        "account",
        OWNER_OR_MANAGER,
        mutates=True,
        send=json({"display_name": "Trang cá nhân"}),
    ),
    E(
        "POST",
        f"{ACCOUNTS}/{{account_id}}/verify",
        "account",
        VERIFIER,
        mutates=True,
        send=json({"note": "Đã đối chiếu"}),
    ),
    E(
        "POST",
        f"{ACCOUNTS}/{{account_id}}/reject",
        "account",
        VERIFIER,
        mutates=True,
        send=json({"note": "Không phải tài khoản của đảng viên"}),
    ),
    E("POST", f"{ACCOUNTS}/{{account_id}}/close", "account", OWNER_OR_MANAGER, mutates=True),
    E("POST", f"{ACCOUNTS}/{{account_id}}/compromised", "account", OWNER_OR_MANAGER, mutates=True),
    # --- reports: the reporter, and REPORT_HANDLE over the reporter's (or subject's) unit;
    # parties never handle; the subject sees neither the report nor the reporter
    E("POST", REPORTS, "unit_ref", members_file, ok=201, mutates=True, send=new_report),
    E("GET", REPORTS, None, listing(A.REPORT_HANDLE, members=True), seed="report"),
    E("GET", f"{REPORTS}/{{report_id}}", "report", READ_REPORT, check=reporter_hidden_from_subject),
    E(
        "PATCH",
        f"{REPORTS}/{{report_id}}",
        "report",
        HANDLE_REPORT,
        mutates=True,
        send=json({"priority": "urgent"}),
    ),
    E(
        "POST",
        f"{REPORTS}/{{report_id}}/transitions",
        "report",
        HANDLE_REPORT,
        mutates=True,
        variant="in_review",
        send=json({"to": "in_review", "comment": "Đang xác minh"}),
    ),
    E(
        "POST",
        f"{REPORTS}/{{report_id}}/transitions",
        "report",
        withdraw,
        mutates=True,
        variant="withdrawn",
        send=json({"to": "withdrawn"}),
    ),
    E(
        "GET",
        f"{REPORTS}/{{report_id}}/timeline",
        "report",
        READ_REPORT,
        check=reporter_entries_hidden_from_subject,
    ),
    E(
        "POST",
        f"{REPORTS}/{{report_id}}/evidence",
        "report",
        item(
            A.REPORT_HANDLE,
            A.REPORT_HANDLE,
            ok=201,
            own_sees=True,
            own_acts=True,
            parties_act=False,
        ),
        ok=201,
        mutates=True,
        send=pdf_upload,
    ),
    E("GET", f"{REPORTS}/{{report_id}}/evidence", "report", READ_REPORT, state="evidence"),
    E(
        "GET",
        f"{REPORTS}/{{report_id}}/evidence/{{evidence_id}}",
        "report",
        READ_REPORT,
        state="evidence",
    ),
    E(
        "GET",
        f"{REPORTS}/{{report_id}}/evidence/{{evidence_id}}",
        "evidence",
        foreign_evidence,
        variant="foreign",
    ),
    # --- documents: DOCUMENT_MANAGE in scope; published ones addressed to an ancestor of
    # the scope read only; members read what addresses their unit and acknowledge it
    E(
        "POST",
        DOCS,
        "unit_ref",
        creating(A.DOCUMENT_MANAGE),
        ok=201,
        mutates=True,
        send=new_document,
    ),
    E(
        "GET",
        DOCS,
        None,
        listing(A.DOCUMENT_MANAGE, members=True),
        seed="document",
        hidden=(SIBLING,),
    ),
    E("GET", f"{DOCS}/{{document_id}}", "document", document()),
    E(
        "PATCH",
        f"{DOCS}/{{document_id}}",
        "document",
        DOCUMENT_CHANGE,
        mutates=True,
        send=json({"summary": "Tóm tắt mới"}),
    ),
    E(
        "PATCH",
        f"{DOCS}/{{document_id}}",
        "document_move",
        moving(DOCUMENT_CHANGE, A.DOCUMENT_MANAGE),
        mutates=True,
        send=to_unit("audience_unit_id"),
        variant="audience",
    ),
    E(
        "DELETE",
        f"{DOCS}/{{document_id}}",
        "document",
        document(A.DOCUMENT_MANAGE, ok=204, draft=True),
        ok=204,
        state="draft",
        mutates=True,
    ),
    E(
        "POST",
        f"{DOCS}/{{document_id}}/publish",
        "document",
        document(A.DOCUMENT_MANAGE, draft=True),
        state="draft",
        mutates=True,
    ),
    E("POST", f"{DOCS}/{{document_id}}/archive", "document", DOCUMENT_CHANGE, mutates=True),
    E(
        "PUT",
        f"{DOCS}/{{document_id}}/file",
        "document",
        DOCUMENT_CHANGE,
        mutates=True,
        send=pdf_upload,
    ),
    E(
        "DELETE",
        f"{DOCS}/{{document_id}}/file",
        "document",
        DOCUMENT_CHANGE,
        state="file",
        mutates=True,
    ),
    E("GET", f"{DOCS}/{{document_id}}/file", "document", document(), state="file"),
    E("GET", f"{DOCS}/{{document_id}}/revisions", "document", document()),
    E(
        "POST",
        f"{DOCS}/{{document_id}}/acknowledgements",
        "document",
        acknowledge,
        ok=201,
        mutates=True,
    ),
    E("GET", f"{DOCS}/{{document_id}}/acknowledgements", "document", acknowledgements),
    # --- roster sync: partners (and admins) in their scope; a sync is visible to its
    # creator and to whoever may sync its scope unit
    E("POST", SYNCS, "unit_ref", creating(A.ROSTER_SYNC), ok=201, mutates=True, send=roster_body),
    E("GET", SYNCS, None, listing(A.ROSTER_SYNC), seed="sync"),
    E("GET", f"{SYNCS}/{{sync_id}}", "sync", SYNC_READ),
    E("GET", f"{SYNCS}/{{sync_id}}/changes", "sync", SYNC_READ),
    E(
        "GET",
        f"{SYNCS}/{{sync_id}}/changes/export",
        "sync",
        SYNC_READ,
        send=params({"format": "csv"}),
    ),
    E("GET", f"{SYNCS}/{{sync_id}}/unit-changes", "sync", SYNC_READ),
    E(
        "POST",
        f"{SYNCS}/{{sync_id}}/apply",
        "sync",
        item(A.ROSTER_SYNC, A.ROSTER_SYNC, own_sees=True, own_acts=True),
        mutates=True,
    ),
    # --- the caller
    E("GET", f"{V1}/me", None, me),
    E("GET", f"{V1}/me/export", None, anyone(200)),
    E("GET", f"{V1}/auth/me", None, anyone(200)),
    # --- users (admins; managers for the logins of members in scope) and clients (admins)
    E("GET", USERS, None, listing(A.USER_MANAGE), seed="user"),
    E("POST", USERS, "member_ref", creating(A.USER_MANAGE), ok=201, mutates=True, send=new_user),
    E("GET", f"{USERS}/{{user_id}}", "user", users_item(edit=False)),
    E(
        "PATCH",
        f"{USERS}/{{user_id}}",
        "user",
        users_item(edit=True),
        mutates=True,
        send=json({"active": True}),
    ),
    E("GET", CLIENTS, None, admin_only(200), seed="client", hidden=()),
    E("POST", CLIENTS, "unit_ref", admin_only(201), ok=201, mutates=True, send=new_client),
    E("GET", f"{CLIENTS}/{{client_id}}", "client", admin_only(200)),
    E("POST", f"{CLIENTS}/{{client_id}}/rotate-secret", "client", admin_only(200), mutates=True),
    E("DELETE", f"{CLIENTS}/{{client_id}}", "client", admin_only(204), ok=204, mutates=True),
    # --- statistics (STATS_READ; the unit or document at the position) and audit
    E("GET", f"{V1}/stats/compliance", "unit_ref", stats, send=unit_param),
    E("GET", f"{V1}/stats/reports", "unit_ref", stats, send=unit_param),
    E("GET", f"{V1}/stats/documents/{{document_id}}", "document", document_stats),
    E("GET", f"{V1}/stats/compliance/export", "unit_ref", stats, send=unit_export),
    E("GET", f"{V1}/stats/reports/export", "unit_ref", stats, send=unit_export),
    E(
        "GET",
        f"{V1}/stats/documents/{{document_id}}/export",
        "document",
        document_stats,
        send=params({"format": "csv"}),
    ),
    E("GET", f"{V1}/audit-events", None, listing(A.AUDIT_READ)),
)


# --------------------------------------------------------------------------- public routes


@dataclass(frozen=True)
class Public:
    """A route of api.main.PUBLIC_PATHS and what an anonymous request to it gets."""

    method: str
    path: str
    status: int
    send: Callable[[Matrix], dict[str, Any]] | None = None


def login(w: Matrix) -> dict[str, Any]:
    return {
        "data": {"grant_type": "password", "username": w.username("admin"), "password": PASSWORD}
    }


PUBLIC: tuple[Public, ...] = (
    Public("GET", "/healthz", 200),
    Public("GET", "/readyz", 200),
    Public("GET", "/metrics", 200),
    Public("GET", "/openapi.json", 200),
    Public("GET", "/docs", 200),
    Public("GET", "/docs/oauth2-redirect", 200),
    Public("GET", "/redoc", 200),
    Public("GET", "/docs/assets/{name}", 404),  # the literal path names no asset
    Public("POST", f"{V1}/auth/token", 200, login),
    Public("POST", f"{V1}/auth/revoke", 200, lambda w: {"data": {"token": "not-a-token"}}),
    Public("GET", f"{V1}/meta/enums", 200),
    Public("GET", f"{V1}/meta/version", 200),
)
