"""The "s3" file store (issue 18): objects in a bucket behind the S3 API (SeaweedFS, MinIO,
a cloud bucket), through aiobotocore, so every API node serves every file.

- Named `<prefix><sha256>`, written once: a key already present is not written again.
- Uploads stream from the request's spooled temporary file (never whole in memory): one
  pass hashes it (SHA-256 and MD5), then a PUT streams it with `x-amz-checksum-sha256` and
  `Content-MD5`, so the store checks the bytes it received against the hash before the
  object exists under its final key (BadDigest otherwise, and nothing is written).
- Any failure to reach the store (refused, timeout, a 5xx) is StoreUnavailable: 503
  `service_unavailable` with Retry-After. No state is kept across requests, so service
  resumes by itself when the store returns.
- One client (and connection pool) per event loop, closed at shutdown."""

from __future__ import annotations

import asyncio
import base64
import binascii
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any, BinaryIO

import aiohttp
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from api.core.config import Settings
from api.core.offload import FILES
from api.services.files import (
    CHUNK,
    FileMissing,
    Listed,
    Stored,
    StoreUnavailable,
    hash_file,
    is_key,
)

S3Client = Any  # aiobotocore ships no type information

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _unavailable(exc: BaseException) -> bool:
    """Connection failures, timeouts and the store's own 5xx answers."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or exc.response.get("Error", {}).get("Code") in {
            "SlowDown",
            "ServiceUnavailable",
            "InternalError",
            "RequestTimeout",
        }
    # Not every BotoCoreError: missing credentials or a bad configuration are no outage.
    return isinstance(
        exc, BotoConnectionError | HTTPClientError | aiohttp.ClientError | TimeoutError | OSError
    )


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3Storage:
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint: str = "",
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
        prefix: str = "",
        presign_seconds: int = 0,
        timeout: float = 10.0,
    ) -> None:
        self.bucket, self.prefix, self.presign_seconds = bucket, prefix, presign_seconds
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "config": Config(
                connect_timeout=min(timeout, 5.0),
                read_timeout=timeout,
                # One quick retry: an outage must answer 503 soon, not after a minute.
                retries={"max_attempts": 2, "mode": "standard"},
                # Checksums are ours (below); the newer default (CRC32 trailers on every
                # PUT) is not understood by every S3 implementation.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                max_pool_connections=50,
            ),
        }
        if endpoint:
            self._client_args["endpoint_url"] = endpoint
        if access_key:
            self._client_args["aws_access_key_id"] = access_key
            self._client_args["aws_secret_access_key"] = secret_key
        self._session = get_session()
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncExitStack, S3Client]
        ] = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        return cls(
            bucket=settings.storage_s3_bucket,
            endpoint=settings.storage_s3_endpoint,
            region=settings.storage_s3_region,
            access_key=settings.storage_s3_access_key,
            secret_key=settings.storage_s3_secret_key.get_secret_value(),
            prefix=settings.storage_s3_prefix,
            presign_seconds=settings.storage_s3_presign_seconds,
            timeout=settings.storage_timeout_seconds,
        )

    async def _client(self) -> S3Client:
        """This loop's client, made once: creating one loads botocore's S3 model (a
        noticeable CPU cost), so concurrent first requests wait for a single one."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None:
            return entry[1]
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            entry = self._clients.get(loop)
            if entry is None:
                stack = AsyncExitStack()
                client = await stack.enter_async_context(
                    self._session.create_client("s3", **self._client_args)
                )
                entry = self._clients[loop] = (stack, client)
        return entry[1]

    async def aclose(self) -> None:
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[0].aclose()

    def object_key(self, key: str) -> str:
        if not is_key(key):
            raise ValueError("not a sha256 key")
        return self.prefix + key

    async def put(self, file: BinaryIO) -> Stored:
        key, md5, size = await FILES.run(hash_file, file)
        if await self.size(key) == size:
            await self._touch(key)  # written once: already there
            return Stored(key=key, size=size)
        checksum = base64.b64encode(binascii.unhexlify(key)).decode()
        client = await self._client()
        try:
            file.seek(0)
            await client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=file,
                ContentLength=size,
                ContentMD5=md5,
                ChecksumSHA256=checksum,
                ContentType="application/octet-stream",
            )
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailable(f"put {key}: {exc}") from exc
            raise
        finally:
            file.seek(0)
        return Stored(key=key, size=size)

    async def _touch(self, key: str) -> None:
        """Refresh the object's LastModified (a copy onto itself, inside the store), so
        `qd85 storage gc` spares it while the request that found it commits its row."""
        client = await self._client()
        name = self.object_key(key)
        try:
            await client.copy_object(
                Bucket=self.bucket,
                Key=name,
                CopySource={"Bucket": self.bucket, "Key": name},
                MetadataDirective="REPLACE",
                ContentType="application/octet-stream",
            )
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailable(f"copy {key}: {exc}") from exc
            raise

    async def open(self, key: str) -> AsyncIterator[bytes]:
        client = await self._client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if isinstance(exc, ClientError) and _missing(exc):
                raise FileMissing(self.name, key) from None
            if _unavailable(exc):
                raise StoreUnavailable(f"get {key}: {exc}") from exc
            raise
        return self._chunks(response["Body"])

    @staticmethod
    async def _chunks(body: Any) -> AsyncIterator[bytes]:
        try:
            while chunk := await body.read(CHUNK):
                yield chunk
        finally:
            body.close()

    async def size(self, key: str) -> int | None:
        client = await self._client()
        try:
            head = await client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            if _unavailable(exc):
                raise StoreUnavailable(f"head {key}: {exc}") from exc
            raise
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailable(f"head {key}: {exc}") from exc
            raise
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        client = await self._client()
        try:
            await client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailable(f"delete {key}: {exc}") from exc
            raise

    async def list(self) -> AsyncIterator[Listed]:
        client = await self._client()
        paginator = client.get_paginator("list_objects_v2")
        try:
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = item.get("Key", "")[len(self.prefix) :]
                    if is_key(name):
                        yield Listed(name, int(item.get("Size", 0)), item["LastModified"])
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailable(f"list: {exc}") from exc
            raise

    async def download_url(self, key: str, disposition: str, content_type: str) -> str | None:
        """A presigned GET (signed locally after one HEAD) carrying the response's
        Content-Disposition and type, or None when presigning is off."""
        if self.presign_seconds <= 0:
            return None
        # One HEAD, so a missing object answers file_missing here rather than the store's
        # own 404 after the redirect (and an outage answers 503 with Retry-After).
        if await self.size(key) is None:
            raise FileMissing(self.name, key)
        client = await self._client()
        url: str = await client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
            ExpiresIn=self.presign_seconds,
        )
        return url

    async def ping(self) -> None:
        client = await self._client()
        try:
            await client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _unavailable(exc) or isinstance(exc, ClientError):
                raise StoreUnavailable(f"bucket {self.bucket}: {exc}") from exc
            raise

    async def create_bucket(self) -> None:
        """For tests and first installs: the bucket, unless it exists."""
        client = await self._client()
        try:
            await client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            }:
                raise
