"""Settings: environment variables prefixed QD85_, safe defaults for local use."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QD85_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./qd85.db"
    redis_url: str | None = None
    secret_key: str = DEFAULT_SECRET
    jwt_issuer: str = "qd85"
    jwt_audience: str = "qd85-api"
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    cors_origins: list[str] = []
    # Reverse proxies whose X-Forwarded-For/-Proto are believed: comma-separated IP
    # addresses or networks (10.0.0.0/8), or "*". Empty (the default): none, so the
    # client address is the TCP peer's and a forged header changes nothing (issue 14).
    trusted_proxies: str = ""
    # GET /metrics: with a token, only for `Authorization: Bearer <token>`; without one,
    # open except in production, where it is off (issue 14).
    metrics_token: str | None = None
    # Strict-Transport-Security max-age in seconds, sent on every response when set
    # (only where the API is reached over HTTPS; e.g. 31536000).
    hsts_seconds: int | None = Field(default=None, ge=0)
    # The built SPA client, served at / when this folder holds an index.html ("" turns it
    # off). Relative to the working directory; the Docker image sets an absolute path.
    web_dir: str = "web/dist"
    # Per process. Size the pool to the requests a worker serves at once: connections
    # beyond it (overflow) are opened and closed per use, which is slow.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_echo: bool = False
    # Login throttling (OWASP authentication guidance; issue 14): failures per (account,
    # client address) pair are refused past `login_max_failures`; per address past
    # `login_max_failures_per_address`; per account from all addresses they are never
    # refused but delayed, doubling from 0.5 s up to `login_max_delay_seconds`.
    login_max_failures: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    login_max_delay_seconds: float = Field(default=8.0, ge=0, le=60)
    login_window_seconds: int = Field(default=300, ge=1)
    # Body limits (bytes) as in SPEC §3.
    max_json_body: int = 1_000_000
    max_roster_body: int = 50_000_000
    max_evidence_body: int = 10_000_000
    max_document_body: int = 20_000_000
    # Roster syncs: rows per sync (above the ~6M members of a national roster), and the
    # uncompressed size of an XLSX body's sheets and shared strings (issue 14).
    roster_max_rows: int = Field(default=10_000_000, ge=1)
    roster_xlsx_max_unzipped: int = Field(default=512 << 20, ge=1 << 20)
    # Spreadsheets (XLSX, XLS, ODS) are read by calamine in a child process whose memory
    # may grow by at most this much (issue 22); an .xls body at most this large.
    roster_sheet_memory: int = Field(default=200 << 20, ge=32 << 20)
    roster_xls_max_bytes: int = Field(default=32 << 20, ge=1 << 20)
    # Uploaded files (report evidence, document attachments): content-addressed by
    # SHA-256, written once. "local": under `storage_dir` (one machine, or a shared file
    # system). "s3": in a bucket behind the S3 API (SeaweedFS, MinIO, a cloud bucket), so
    # every node serves every file (issue 18).
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: str = "./data/files"
    # The S3 endpoint (e.g. http://seaweedfs:8333; empty: the provider's default for the
    # region), region, bucket, credentials and an optional key prefix ("qd85/").
    storage_s3_endpoint: str = ""
    storage_s3_region: str = "us-east-1"
    storage_s3_bucket: str = ""
    storage_s3_access_key: str = ""
    storage_s3_secret_key: SecretStr = SecretStr("")
    storage_s3_prefix: str = ""
    # Downloads: 0 (the default) streams the object through the API; N > 0 answers 307
    # to a presigned URL valid N seconds (with the same Content-Disposition and type), so
    # large files skip the API. Needs the store reachable by the clients (and CORS on the
    # bucket for the SPA's fetches).
    storage_s3_presign_seconds: int = Field(default=0, ge=0, le=604800)
    # Seconds to connect to the store and to wait for an answer; an upload while it is
    # unreachable answers 503 with this Retry-After.
    storage_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    storage_retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    # Report deadlines: hours from filing per category; categories not listed get the
    # default. JSON in the environment, e.g. QD85_REPORT_DUE_HOURS='{"scam": 48}'.
    report_due_hours: dict[str, int] = {
        "secret_leak": 24,
        "impersonation": 24,
        "incitement": 24,
    }
    report_due_default_hours: int = Field(default=72, ge=1)
    # Report filing: at most this many reports per member per window (shared state).
    report_rate_limit: int = Field(default=20, ge=1)
    report_rate_window_seconds: int = Field(default=3600, ge=1)
    log_requests: bool = True
    # PostgreSQL: each worker runs the statistics folder (api/services/counters/) this
    # often; one fold runs at a time across replicas. Medians lag by at most about this
    # plus one fold. 0: no folder in this process (then run `qd85 fold` elsewhere).
    fold_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    # The folder refreshes the medians of a resolved report's ancestors once its delta is
    # this old (counters.fold's `settle`): one percentile over a province's or the nation's
    # resolved reports per this many seconds, not per fold. Counts are never delayed.
    median_refresh_seconds: float = Field(default=5.0, ge=0, le=300)
    # API requests a worker runs at once; more wait before their handler starts and are
    # admitted fairly across kinds of request (api/core/middleware.py: Admission). Enough
    # to keep the cores and the database busy; 0 admits every request at once. Uploads
    # are not queued.
    concurrency: int = Field(default=16, ge=0, le=1000)
    # Seconds a process may reuse a principal check (user/client active, token version,
    # grants with their unit paths). Writes in this process clear it at once; other
    # replicas see a revocation within this bound. 0 checks the database every request.
    principal_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """The committed development key signs valid tokens for anyone who reads this
        file: it is refused outside `development` (issue 14), and production also
        needs at least 32 characters."""
        if self.env != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                f"QD85_SECRET_KEY must be set (a random value of at least 32 characters): "
                f"the committed development key is refused when QD85_ENV={self.env}"
            )
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError(
                "QD85_SECRET_KEY must be set to a random value of at least 32 characters "
                "when QD85_ENV=production"
            )
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage_backend == "s3" and not self.storage_s3_bucket:
            raise ValueError("QD85_STORAGE_S3_BUCKET must be set when QD85_STORAGE_BACKEND=s3")
        return self

    @property
    def s3_identity(self) -> tuple[str, ...]:
        """What tells one S3 store from another (a cache key for the client)."""
        return (
            self.storage_s3_endpoint,
            self.storage_s3_region,
            self.storage_s3_bucket,
            self.storage_s3_access_key,
            self.storage_s3_secret_key.get_secret_value(),
            self.storage_s3_prefix,
            str(self.storage_s3_presign_seconds),
            str(self.storage_timeout_seconds),
        )

    @property
    def uses_development_key(self) -> bool:
        return self.secret_key == DEFAULT_SECRET

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in (p.strip() for p in value.split(",")):
            if item and item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(
                        f"QD85_TRUSTED_PROXIES: {item!r} is not an IP address or network"
                    ) from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
