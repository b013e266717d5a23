"""A journey through qd85 with the client openapi-python-client generates from
openapi/openapi.json, against a live server seeded with `qd85 seed-demo`
(scripts/clients.sh starts both). Only the generated models and functions are used:
no `additional_properties`, no hand-written request. Each step checks the typed answer;
the first failure stops the journey with a non-zero exit.

    python tests/clients/python_journey.py BASE_URL CLIENT_PARENT_DIR
"""

from __future__ import annotations

import io
import sys
import uuid
from typing import Any, TypeVar

BASE, CLIENT_DIR = sys.argv[1], sys.argv[2]
sys.path.insert(0, CLIENT_DIR)

from openpyxl import load_workbook  # noqa: E402
from qd85_client import AuthenticatedClient, Client  # noqa: E402
from qd85_client.api.accounts import accounts_declare  # noqa: E402
from qd85_client.api.auth import auth_me, auth_token  # noqa: E402
from qd85_client.api.clients import clients_create  # noqa: E402
from qd85_client.api.documents import documents_acknowledge, documents_list  # noqa: E402
from qd85_client.api.me import me_get  # noqa: E402
from qd85_client.api.members import members_list  # noqa: E402
from qd85_client.api.meta import meta_enums  # noqa: E402
from qd85_client.api.reports import (  # noqa: E402
    reports_add_evidence,
    reports_create,
    reports_download_evidence,
    reports_get,
    reports_transition,
)
from qd85_client.api.roster import roster_changes_export, roster_create  # noqa: E402
from qd85_client.api.stats import stats_compliance, stats_compliance_export  # noqa: E402
from qd85_client.api.units import units_get  # noqa: E402
from qd85_client.models import (  # noqa: E402
    AccountCreate,
    AccountKind,
    AccountPurpose,
    AccountRead,
    AcknowledgementRead,
    AckState,
    ClientCreate,
    ClientCreated,
    ClientCreateRole,
    ComplianceReport,
    DocumentSummaryPage,
    EnumCatalog,
    EvidenceRead,
    EvidenceUpload,
    GrantType,
    MeAuth,
    MemberReadPage,
    MeRead,
    Platform,
    PrincipalKind,
    Problem,
    ProposedAction,
    ReportCategory,
    ReportCreate,
    ReportOutcome,
    ReportStatus,
    ReportWithReporter,
    RosterChangesExportFormat,
    RosterSyncRead,
    StatsComplianceExportFormat,
    SyncMode,
    SyncSource,
    SyncStatus,
    TokenError,
    TokenRequest,
    TokenResponse,
    TransitionToResolved,
    TransitionToStatus,
    TransitionToStatusTo,
    UnitRead,
)
from qd85_client.types import File, Response  # noqa: E402

PASSWORD = "qd85-demo-2026"
T = TypeVar("T")
# The smallest PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5f0000000049454e44ae426082"
)
STEPS: list[str] = []


def step(name: str) -> None:
    STEPS.append(name)
    sys.stdout.write(f"  {len(STEPS):2}. {name}\n")
    sys.stdout.flush()


def parsed(response: Response[Any], status: int, kind: type[T]) -> T:
    """The typed body of an expected answer (or a clear failure)."""
    body = response.parsed
    if response.status_code != status or not isinstance(body, kind):
        raise SystemExit(
            f"FAILED at step {len(STEPS)}: expected {status} {kind.__name__}, got "
            f"{response.status_code} {type(body).__name__}: {response.content[:300]!r}"
        )
    extra = getattr(body, "additional_properties", None)
    if extra:  # the server sent a field the document does not declare
        raise SystemExit(f"FAILED at step {len(STEPS)}: undeclared fields {sorted(extra)}")
    return body


def problem(response: Response[Any], status: int, code: str) -> Problem:
    body = parsed(response, status, Problem)
    if body.code != code or body.status != status:
        raise SystemExit(f"FAILED at step {len(STEPS)}: problem {body.code}, wanted {code}")
    if body.additional_properties:
        raise SystemExit(f"untyped problem fields: {sorted(body.additional_properties)}")
    return body


def login(anon: Client, **form: Any) -> TokenResponse:
    return parsed(
        auth_token.sync_detailed(client=anon, body=TokenRequest(**form)), 200, TokenResponse
    )


def as_(token: TokenResponse) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=BASE, token=token.access_token, raise_on_unexpected_status=True
    )


def with_password(anon: Client, username: str) -> AuthenticatedClient:
    return as_(login(anon, grant_type=GrantType.PASSWORD, username=username, password=PASSWORD))


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED at step {len(STEPS)}: {what}")


def journey() -> None:
    anon = Client(base_url=BASE, raise_on_unexpected_status=True)
    run = uuid.uuid4().hex[:8]

    step("password login, refresh (rotated), the principal")
    first = login(anon, grant_type=GrantType.PASSWORD, username="an.nv", password=PASSWORD)
    check(first.token_type == "bearer" and isinstance(first.refresh_token, str), "refresh token")
    refreshed = login(anon, grant_type=GrantType.REFRESH_TOKEN, refresh_token=first.refresh_token)
    check(refreshed.refresh_token != first.refresh_token, "refresh token rotated")
    member = as_(refreshed)
    who = parsed(auth_me.sync_detailed(client=member), 200, MeAuth)
    check(who.kind is PrincipalKind.USER and who.member_id is not None, "a user with a member")

    step("enumerations as a typed catalogue")
    enums = parsed(meta_enums.sync_detailed(client=anon), 200, EnumCatalog)
    check({e.code for e in enums.report_outcome} == {o.value for o in ReportOutcome}, "outcomes")
    check(any(e.vi == "Đã xử lý" for e in enums.report_status), "vi labels")

    step("member list with q, as a manager")
    manager = with_password(anon, "manager.hn")
    found = parsed(
        members_list.sync_detailed(client=manager, q="nguyen van an"), 200, MemberReadPage
    )
    check(any(m.id == who.member_id for m in found.items), "q finds Nguyễn Văn An")
    check(found.next_cursor is None or isinstance(found.next_cursor, str), "next_cursor sent")

    step("declare an account")
    mine = parsed(me_get.sync_detailed(client=member), 200, MeRead)
    account = accounts_declare.sync_detailed(
        mine.id,
        client=member,
        body=AccountCreate(
            url=f"https://www.facebook.com/qd85.journey.{run}",
            platform=Platform.FACEBOOK,
            kind=AccountKind.PROFILE,
            purpose=AccountPurpose.PERSONAL,
            display_name="Nguyễn Văn An",
        ),
    )
    declared = parsed(account, 201, AccountRead)
    check(
        declared.canonical_key == f"facebook:username:qd85journey{run}"
        or declared.canonical_key.startswith("facebook:"),
        "canonical key",
    )

    step("file a report, upload evidence, download it")
    filed = parsed(
        reports_create.sync_detailed(
            client=member,
            body=ReportCreate(
                url=f"https://www.facebook.com/some.page/posts/{run}",
                category=ReportCategory.FAKE_NEWS,
                description="Bài viết bịa đặt (hành trình kiểm thử).",
                proposed_action=ProposedAction.REFUTE,
                platform=Platform.FACEBOOK,
            ),
        ),
        201,
        ReportWithReporter,
    )
    check(filed.status is ReportStatus.SUBMITTED, "submitted")
    evidence = parsed(
        reports_add_evidence.sync_detailed(
            filed.id,
            client=member,
            body=EvidenceUpload(
                file=File(payload=io.BytesIO(PNG), file_name="chung-cu.png", mime_type="image/png")
            ),
        ),
        201,
        EvidenceRead,
    )
    check(evidence.content_type == "image/png" and evidence.size == len(PNG), "evidence stored")
    download = parsed(
        reports_download_evidence.sync_detailed(filed.id, evidence.id, client=member), 200, File
    )
    check(download.payload.read() == PNG, "the same bytes come back")

    step("through review to resolution (If-Match), as a reviewer")
    reviewer = with_password(anon, "reviewer.hn")
    current = reports_get.sync_detailed(filed.id, client=reviewer).parsed
    if current is None or isinstance(current, Problem):
        raise SystemExit("FAILED: the reviewer does not see the report")
    reviewed = reports_transition.sync_detailed(
        filed.id,
        client=reviewer,
        if_match=f'"{current.version}"',
        body=TransitionToStatus(to=TransitionToStatusTo.IN_REVIEW, comment="Đang xác minh"),
    ).parsed
    check(getattr(reviewed, "status", None) is ReportStatus.IN_REVIEW, "in review")
    resolved = reports_transition.sync_detailed(
        filed.id,
        client=reviewer,
        body=TransitionToResolved(
            to="resolved", outcome=ReportOutcome.REFUTED, comment="Đã phản bác"
        ),
    ).parsed
    check(getattr(resolved, "status", None) is ReportStatus.RESOLVED, "resolved")
    check(getattr(resolved, "outcome", None) is ReportOutcome.REFUTED, "outcome kept")

    step("acknowledge a document with no body")
    pending = parsed(
        documents_list.sync_detailed(client=member, ack_state=AckState.PENDING),
        200,
        DocumentSummaryPage,
    )
    check(bool(pending.items), "the demo addresses a document needing acknowledgement")
    ack = documents_acknowledge.sync_detailed(pending.items[0].id, client=member)
    acknowledged = parsed(ack, 201, AcknowledgementRead)
    check(acknowledged.member_id == mine.id, "acknowledged as the member")

    step("statistics as JSON, CSV and XLSX")
    report = parsed(stats_compliance.sync_detailed(client=manager), 200, ComplianceReport)
    check(bool(report.rows) and report.rows[-1].members_active >= 1, "figures")
    csv_file = parsed(
        stats_compliance_export.sync_detailed(
            client=manager, format_=StatsComplianceExportFormat.CSV
        ),
        200,
        File,
    )
    csv_text = csv_file.payload.read()
    check(csv_text.startswith(b"\xef\xbb\xbf") and b"members_active" in csv_text, "CSV + BOM")
    xlsx = parsed(
        stats_compliance_export.sync_detailed(
            client=manager, format_=StatsComplianceExportFormat.XLSX
        ),
        200,
        File,
    )
    sheet = load_workbook(xlsx.payload).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    check(len(rows) == len(report.rows) + 1 and sheet.freeze_panes == "A2", "XLSX table")
    column = rows[0].index("members_active")
    check([r[column] for r in rows[1:]] == [r.members_active for r in report.rows], "numbers")

    step("client-credentials login (a partner created by the admin)")
    admin = with_password(anon, "admin")
    hn = next(g.unit_id for g in who_grants(manager) if g.unit_id)
    unit = parsed(units_get.sync_detailed(hn, client=admin), 200, UnitRead)
    created = parsed(
        clients_create.sync_detailed(
            client=admin,
            body=ClientCreate(name=f"HR {run}", role=ClientCreateRole.PARTNER, unit_id=unit.id),
        ),
        201,
        ClientCreated,
    )
    partner = as_(
        login(
            anon,
            grant_type=GrantType.CLIENT_CREDENTIALS,
            client_id=created.client_id,
            client_secret=created.client_secret,
        )
    )
    check(
        parsed(auth_me.sync_detailed(client=partner), 200, MeAuth).kind is PrincipalKind.CLIENT,
        "a client",
    )

    step("roster CSV upload (dry run), its changes as XLSX")
    csv_body = (
        "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên\n"
        f"JOURNEY-{run},Trần Thị Hành Trình,{unit.code},chính thức\n"
    ).encode()
    sync = parsed(
        roster_create.sync_detailed(
            client=partner,
            body=File(payload=io.BytesIO(csv_body), mime_type="text/csv"),
            mode=SyncMode.UPSERT,
            scope_unit_code=unit.code,
        ),
        201,
        RosterSyncRead,
    )
    check(sync.source is SyncSource.CSV and sync.status is SyncStatus.PREVIEWED, "CSV preview")
    check(sync.counts.created + sync.counts.rejected == 1, "one row")
    changes = parsed(
        roster_changes_export.sync_detailed(
            sync.id, client=partner, format_=RosterChangesExportFormat.XLSX
        ),
        200,
        File,
    )
    change_rows = list(load_workbook(changes.payload).worksheets[0].iter_rows(values_only=True))
    check(len(change_rows) == 2 and change_rows[1][2] == f"JOURNEY-{run}", "the row in XLSX")

    step("one error of each class, read as a typed Problem")
    strict = AuthenticatedClient(base_url=BASE, token=refreshed.access_token)
    loose = Client(base_url=BASE)
    bad = problem(
        auth_token.sync_detailed(
            client=loose,
            body=TokenRequest(
                grant_type=GrantType.PASSWORD, username="an.nv", password="wrong-password"
            ),
        ),
        400,
        "invalid_grant",
    )
    check(bad.error is TokenError.INVALID_GRANT, "RFC 6749 error beside the code")
    reused = problem(
        auth_token.sync_detailed(
            client=loose,
            body=TokenRequest(
                grant_type=GrantType.REFRESH_TOKEN, refresh_token=first.refresh_token
            ),
        ),
        400,
        "invalid_grant",
    )
    check(reused.error is TokenError.INVALID_GRANT, "a rotated refresh token is refused")
    problem(
        me_get.sync_detailed(client=AuthenticatedClient(base_url=BASE, token="x.y.z")),
        401,
        "invalid_token",
    )
    problem(members_list.sync_detailed(client=strict), 403, "forbidden")
    problem(reports_get.sync_detailed(uuid.uuid4(), client=strict), 404, "not_found")
    reviewer_loose = AuthenticatedClient(base_url=BASE, token=reviewer.token)
    problem(
        reports_transition.sync_detailed(
            filed.id,
            client=reviewer_loose,
            body=TransitionToStatus(to=TransitionToStatusTo.DISMISSED),
        ),
        409,
        "invalid_transition",
    )
    problem(
        reports_transition.sync_detailed(
            filed.id,
            client=reviewer_loose,
            if_match='"1"',
            body=TransitionToStatus(to=TransitionToStatusTo.DISMISSED),
        ),
        412,
        "version_mismatch",
    )
    problem(
        reports_add_evidence.sync_detailed(
            filed.id,
            client=strict,
            body=EvidenceUpload(file=File(payload=io.BytesIO(b"plain text"), file_name="a.txt")),
        ),
        409,
        "report_closed",
    )
    english = problem(
        reports_create.sync_detailed(
            client=strict,
            accept_language="en",
            body=ReportCreate(
                url="not a link",
                category=ReportCategory.OTHER,
                description="x",
                proposed_action=ProposedAction.MONITOR,
            ),
        ),
        422,
        "invalid_url",
    )
    check(english.title == "Not a valid link", "Accept-Language: en")
    open_report = parsed(
        reports_create.sync_detailed(
            client=strict,
            body=ReportCreate(
                url=f"https://www.facebook.com/other.page/posts/{run}",
                category=ReportCategory.SCAM,
                description="Lừa đảo",
                proposed_action=ProposedAction.MONITOR,
            ),
        ),
        201,
        ReportWithReporter,
    )
    problem(
        reports_add_evidence.sync_detailed(
            open_report.id,
            client=strict,
            body=EvidenceUpload(file=File(payload=io.BytesIO(b"plain text"), file_name="a.txt")),
        ),
        415,
        "unsupported_media_type",
    )


def who_grants(client: AuthenticatedClient) -> list[Any]:
    return parsed(auth_me.sync_detailed(client=client), 200, MeAuth).grants


def main() -> None:
    sys.stdout.write(f"Python client journey against {BASE}\n")
    journey()
    sys.stdout.write(f"Python client journey: {len(STEPS)} steps passed\n")


if __name__ == "__main__":
    main()
