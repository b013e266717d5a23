from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel, Field, create_model

from api.core.enums import LABELS
from api.routers.common import public_router

router = public_router("/api/v1/meta", "meta")


class EnumValue(BaseModel):
    """One member of an enumeration: its code (what the API sends) and its labels."""

    code: str
    vi: str = Field(description="Vietnamese label.")
    en: str = Field(description="English label.")


# One field per enumeration of the API (api/core/enums.py LABELS), named as there.
EnumCatalog: type[BaseModel] = create_model(
    "EnumCatalog",
    __doc__="Every enumeration of the API with its members' Vietnamese and English labels.",
    **{
        name: (list[EnumValue], Field(description=f"The members of `{enum.__name__}`."))
        for name, (enum, _labels) in LABELS.items()
    },  # type: ignore[call-overload]
)


class VersionRead(BaseModel):
    name: str
    version: str
    api: str


def package_version() -> str:
    """The installed qd85 version: `/meta/version` and the OpenAPI document's `info.version`."""
    try:
        return version("qd85")
    except PackageNotFoundError:
        return "0.0.0"


@router.get("/enums", name="enums", response_model=EnumCatalog)
async def enums() -> Any:
    """Every enumeration of the API, with Vietnamese and English labels (public): the
    codes for dropdowns and their labels in both languages."""
    return {
        name: [EnumValue(code=m.value, vi=labels[m.value][0], en=labels[m.value][1]) for m in enum]
        for name, (enum, labels) in LABELS.items()
    }


@router.get("/version", name="version", response_model=VersionRead)
async def get_version() -> VersionRead:
    """Service version (public)."""
    return VersionRead(name="qd85", version=package_version(), api="v1")
