"""The `qd85` command line for operators (SPEC §6)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from api.core.config import Settings, get_settings


def migrations_dir() -> Path:
    """The Alembic scripts: the top-level `migrations` package beside `api`, which the wheel
    ships too, so this holds in a checkout and in an installed wheel (the Docker image)."""
    spec = importlib.util.find_spec("migrations")
    if spec is None or spec.origin is None:
        raise RuntimeError("the migrations package is not installed beside api")
    return Path(spec.origin).resolve().parent


def _fail(message: str) -> int:
    print(f"qd85: {message}", file=sys.stderr)
    return 1


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def cmd_migrate(_args: argparse.Namespace) -> int:
    from alembic import command

    command.upgrade(alembic_config(), "head")
    print("database is at the latest migration")
    return 0


async def _in_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    from api.core.db import db

    try:
        async with db.sessionmaker() as session, session.begin():
            return await work(session)
    finally:
        await db.dispose()


def cmd_create_admin(args: argparse.Namespace) -> int:
    from sqlalchemy import exists, select

    from api.core.enums import Role
    from api.core.security import hash_password
    from api.models import Grant, User

    password = os.environ.get("QD85_ADMIN_PASSWORD") or getpass.getpass(
        "Password for the new admin: "
    )
    if len(password) < 10:
        return _fail("the password must have at least 10 characters")
    username = args.username.lower()

    async def work(session: Any) -> bool:
        if await session.scalar(select(exists().where(User.username == username))):
            return False
        user = User(username=username, password_hash=hash_password(password))
        session.add(user)
        await session.flush()
        session.add(Grant(user_id=user.id, role=Role.admin, unit_id=None))
        return True

    if not asyncio.run(_in_session(work)):
        return _fail(f"user {username} already exists")
    print(f"admin {username} created")
    return 0


def cmd_create_client(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from api.core.enums import Role
    from api.models import Unit
    from api.schemas.users import ClientCreate
    from api.services.users import create_client

    async def work(session: Any) -> dict[str, str] | None:
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == args.unit))
        if unit_id is None:
            return None
        client, secret = await create_client(
            session, None, ClientCreate(name=args.name, role=Role(args.role), unit_id=unit_id)
        )
        return {"id": str(client.id), "client_id": client.client_id, "client_secret": secret}

    result = asyncio.run(_in_session(work))
    if result is None:
        return _fail(f"no unit with code {args.unit}")
    print(json.dumps(result))
    return 0


def cmd_seed_demo(_args: argparse.Namespace) -> int:
    from api.services.counters import recount_all
    from api.services.demo import seed

    if get_settings().env == "production":
        return _fail("refusing to seed demo data with QD85_ENV=production")

    async def seed_and_count(session: Any) -> Any:
        result = await seed(session)
        await recount_all(session)  # the seed writes rows directly
        return result

    result = asyncio.run(_in_session(seed_and_count))
    print(
        f"demo data: {result.created_units} units, {result.created_members} members, "
        f"{result.created_users} logins created (existing ones kept)"
    )
    print("demo logins (username / password):")
    for username, password in result.logins:
        print(f"  {username:<12} {password}")
    return 0


def cmd_recount(_args: argparse.Namespace) -> int:
    from api.services.counters import recount_all

    units = asyncio.run(_in_session(recount_all))
    print(f"recounted the statistics of {units} units")
    return 0


def cmd_fold(_args: argparse.Namespace) -> int:
    from api.core.db import db
    from api.services.counters import fold_all

    async def work() -> int:
        try:
            async with db.sessionmaker() as session:  # fold_all commits batch by batch
                return await fold_all(session)
        finally:
            await db.dispose()

    folded = asyncio.run(work())
    print(f"folded {folded} pending statistics deltas")
    return 0


async def _storage_work(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(session)` with the database, then close the database and the stores."""
    from api.core.db import db
    from api.services.files import close_stores

    try:
        async with db.sessionmaker() as session:
            return await work(session)
    finally:
        await close_stores()
        await db.dispose()


def cmd_storage_gc(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from api.services import storage_admin
    from api.services.files import storage

    if args.grace_hours < 1:
        return _fail(
            "--grace-hours must be at least 1 (requests in flight have objects without rows)"
        )

    async def work(session: Any) -> Any:
        return await storage_admin.gc(
            session, storage(), grace=timedelta(hours=args.grace_hours), dry_run=args.dry_run
        )

    result = asyncio.run(_storage_work(work))
    verb = "would remove" if args.dry_run else "removed"
    for key in result.removed:
        print(f"{verb} {key}")
    print(
        f"{storage_name()}: {result.scanned} objects, {result.young} younger than "
        f"{args.grace_hours} h, {result.referenced} referenced, {verb} {len(result.removed)}"
    )
    return 0


def storage_name() -> str:
    settings = get_settings()
    if settings.storage_backend == "s3":
        return f"s3://{settings.storage_s3_bucket}/{settings.storage_s3_prefix}"
    return f"local {settings.storage_dir}"


def cmd_storage_verify(args: argparse.Namespace) -> int:
    from api.services import storage_admin
    from api.services.files import storage

    async def work(session: Any) -> Any:
        return await storage_admin.verify(session, storage(), sample=args.sample)

    result = asyncio.run(_storage_work(work))
    for key in result.missing:
        print(f"missing {key}")
    for key, want, got in result.wrong_size:
        print(f"wrong size {key}: {got} bytes stored, {want} recorded")
    for key in result.wrong_hash:
        print(f"wrong content {key}: its bytes do not hash to its name")
    print(
        f"{storage_name()}: {result.checked} referenced objects checked, {result.hashed} "
        f"read and hashed; {len(result.missing)} missing, {len(result.wrong_size)} wrong size, "
        f"{len(result.wrong_hash)} wrong content"
    )
    return 0 if result.ok else 1


def cmd_storage_migrate(args: argparse.Namespace) -> int:
    from api.services import storage_admin
    from api.services.files import LocalStorage, storage

    settings = get_settings()
    if not settings.storage_s3_bucket:
        return _fail("set QD85_STORAGE_S3_BUCKET (and the endpoint and credentials) first")
    target_settings = settings.model_copy(update={"storage_backend": "s3"})
    source = LocalStorage(args.source or settings.storage_dir)
    if not source.root.is_dir():
        return _fail(f"no local store at {source.root}")

    async def work(_session: Any) -> Any:
        return await storage_admin.migrate(source, storage(target_settings))

    result = asyncio.run(_storage_work(work))
    for key, why in result.failed:
        print(f"failed {key}: {why}")
    print(
        f"{source.root} -> s3://{settings.storage_s3_bucket}/{settings.storage_s3_prefix}: "
        f"{result.copied} copied, {result.skipped} already there, {len(result.failed)} failed"
    )
    if result.failed:
        return 1
    print("then set QD85_STORAGE_BACKEND=s3 and run `qd85 storage verify`")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from api.main import create_app

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_text(create_app().openapi()), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def openapi_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def serve_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header handling, from QD85_TRUSTED_PROXIES only (issue 14):
    with none configured X-Forwarded-For/-Proto are ignored, whoever sends them (uvicorn
    on its own trusts them from 127.0.0.1); with proxies configured, the client address
    is the first one of the X-Forwarded-For chain, from the right, that is not a trusted
    proxy."""
    trusted = settings.trusted_proxy_list
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted)}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    options = serve_options(get_settings())
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qd85-metrics-")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        **options,
        # Longer than clients' idle keep-alive (httpx: 5 s), so the server is not the one
        # closing a connection a request is just being sent on; a load balancer in front
        # must time idle connections out sooner than this.
        timeout_keep_alive=75,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qd85", description="qd85 operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="alembic upgrade head on QD85_DATABASE_URL").set_defaults(
        func=cmd_migrate
    )
    p = sub.add_parser(
        "create-admin", help="create an admin (password from QD85_ADMIN_PASSWORD or prompt)"
    )
    p.add_argument("username")
    p.set_defaults(func=cmd_create_admin)
    p = sub.add_parser(
        "create-client", help="create an API client; prints its secret once, as JSON"
    )
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["partner", "analyst"])
    p.add_argument("--unit", required=True, help="unit code")
    p.set_defaults(func=cmd_create_client)
    sub.add_parser("seed-demo", help="idempotent demo data; prints the demo logins").set_defaults(
        func=cmd_seed_demo
    )
    sub.add_parser(
        "recount", help="rebuild the statistics counters from the rows (one transaction)"
    ).set_defaults(func=cmd_recount)
    sub.add_parser(
        "fold", help="merge the pending statistics deltas into the rollups (what the folder does)"
    ).set_defaults(func=cmd_fold)
    store = sub.add_parser("storage", help="the file store: gc, verify, migrate").add_subparsers(
        dest="storage_command", required=True
    )
    p = store.add_parser("gc", help="remove objects no row references, older than a grace period")
    p.add_argument("--grace-hours", type=int, default=24)
    p.add_argument("--dry-run", action="store_true", help="list what would be removed")
    p.set_defaults(func=cmd_storage_gc)
    p = store.add_parser(
        "verify",
        help="every referenced object exists with its size; hash a sample (exit 1 on problems)",
    )
    p.add_argument("--sample", type=int, default=100, help="objects to read back and hash")
    p.set_defaults(func=cmd_storage_verify)
    p = store.add_parser(
        "migrate", help="copy the local store into the S3 bucket (resumable, verified)"
    )
    p.add_argument("--to", required=True, choices=["s3"])
    p.add_argument("--source", help="the local store (default: QD85_STORAGE_DIR)")
    p.set_defaults(func=cmd_storage_migrate)
    p = sub.add_parser("openapi", help="write the OpenAPI document")
    p.add_argument("--out", default="openapi/openapi.json")
    p.set_defaults(func=cmd_openapi)
    p = sub.add_parser("serve", help="serve the API with uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except Exception as exc:  # one line for operators, not a stack trace
        from pydantic import ValidationError

        from api.core.resilience import is_unavailable

        if isinstance(exc, ValidationError):  # settings: say which and why
            return _fail("; ".join(str(e["msg"]) for e in exc.errors())[:500])
        from api.services.files import StoreUnavailable

        if isinstance(exc, StoreUnavailable):
            return _fail(f"cannot reach the file store ({exc.reason[:300]})")
        if is_unavailable(exc) or isinstance(exc, OSError):
            return _fail(
                f"cannot reach the database ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200]})"
            )
        return _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
    return code


if __name__ == "__main__":
    sys.exit(main())
