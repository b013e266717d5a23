"""A roster apply cut off by a database outage (issue 8, faults): nothing of it stays, the
answer is a 503 problem, the sync stays `previewed` and the same apply succeeds once the
database answers again. (bench/faults.py does the same with a real PostgreSQL stop and a
pg_terminate_backend.)"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.roster.apply import STEPS
from tests.routers.test_roster_support import (
    SYNCS,
    Roster,
    apply,
    fail_after,
    make_roster,
    members_state,
    preview,
    snapshot,
    snapshot_rows,
    token_versions,
)
from tests.support.problems import assert_problem


@pytest.fixture
async def roster(session: AsyncSession) -> Roster:
    return await make_roster(session)


class TestApplyDuringAnOutage:
    @pytest.mark.parametrize(
        "step", ["checks", "create", "update", "deactivate", "statistics", "done"]
    )
    async def test_nothing_is_applied_and_the_retry_works(
        self, client: httpx.AsyncClient, roster: Roster, monkeypatch: pytest.MonkeyPatch, step: str
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        before, tokens = await members_state(), await token_versions()

        cut = OperationalError(
            "INSERT …", {}, ConnectionResetError(104, "Connection reset by peer")
        )
        monkeypatch.setitem(STEPS, step, fail_after(STEPS[step], cut))
        r = await apply(client, roster, sync["id"])
        assert_problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == "5"
        assert await members_state() == before
        assert await token_versions() == tokens
        read = await client.get(f"{SYNCS}/{sync['id']}", headers=roster.headers("partner_a"))
        assert read.json()["status"] == "previewed"
        monkeypatch.undo()
        r = await apply(client, roster, sync["id"])
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "applied"
        assert await members_state() != before
