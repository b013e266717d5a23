from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pydantic import BaseModel

from api.core.enums import LABELS
from api.routers.common import public_router

router = public_router("/api/v1/meta", "meta")


class EnumValue(BaseModel):
    code: str
    vi: str
    en: str


class VersionRead(BaseModel):
    name: str
    version: str
    api: str


@router.get("/enums", name="enums", response_model=dict[str, list[EnumValue]])
async def enums() -> dict[str, list[EnumValue]]:
    """Every enumeration of the API, with Vietnamese and English labels (public)."""
    return {
        name: [EnumValue(code=m.value, vi=labels[m.value][0], en=labels[m.value][1]) for m in enum]
        for name, (enum, labels) in LABELS.items()
    }


@router.get("/version", name="version", response_model=VersionRead)
async def get_version() -> VersionRead:
    """Service version (public)."""
    try:
        v = version("qd85")
    except PackageNotFoundError:
        v = "0.0.0"
    return VersionRead(name="qd85", version=v, api="v1")
