"""The user-facing explanations of what is wrong with a value and what to paste
instead. Their Vietnamese and English text is in the catalogs (api/locale, ids
`canonical.*`): a platform's label, an example address and a handle rule per platform.

Rejected as "not an account" (each with its own message): home pages; search, hashtag,
explore, feed, settings, login, help and similar system pages; posts; videos and photos;
playlists; events; stories; share links (they name no account until opened, so the
message says to open them and copy the profile address). Each platform's module lists
its own.
"""

from __future__ import annotations

from typing import NoReturn

from api.core.i18n import Message, msg
from api.services.canonical.core import fail, shown

PLATFORM_NAMES = (
    "facebook",
    "zalo",
    "youtube",
    "tiktok",
    "instagram",
    "x",
    "telegram",
    "threads",
    "linkedin",
    "website",
    "other",
)
RULE_NAMES = (
    "facebook",
    "facebook_group",
    "facebook_id",
    "youtube",
    "youtube_channel",
    "youtube_name",
    "tiktok",
    "tiktok_short",
    "instagram",
    "threads",
    "x",
    "telegram",
    "telegram_invite",
    "telegram_phone",
    "linkedin",
    "linkedin_company",
    "zalo",
    "zalo_group",
)

# A platform's name in a sentence ("Facebook", "trang web" / "website").
LABELS: dict[str, Message] = {p: msg(f"canonical.label.{p}") for p in PLATFORM_NAMES}
# What an account address of the platform looks like.
EXAMPLES: dict[str, Message] = {p: msg(f"canonical.example.{p}") for p in PLATFORM_NAMES}
# What a handle of the platform may hold.
RULES: dict[str, Message] = {r: msg(f"canonical.rule.{r}") for r in RULE_NAMES}


def bad_handle(rule: str, value: str) -> NoReturn:
    fail(msg("canonical.bad_handle", value=shown(value), rule=RULES[rule]))


def not_account(platform: str, what: Message) -> NoReturn:
    fail(msg("canonical.not_account", what=what, example=EXAMPLES[platform]))


def home_page(platform: str) -> NoReturn:
    not_account(platform, msg("canonical.home_page", label=LABELS[platform]))


def post_link(platform: str) -> NoReturn:
    not_account(platform, msg("canonical.post_link"))


def video_link(platform: str) -> NoReturn:
    not_account(platform, msg("canonical.video_link"))


def playlist_link(platform: str) -> NoReturn:
    not_account(platform, msg("canonical.playlist_link"))


def share_link(platform: str) -> NoReturn:
    fail(msg("canonical.share_link", label=LABELS[platform], example=EXAMPLES[platform]))


def system_page(platform: str, segment: str) -> NoReturn:
    not_account(
        platform, msg("canonical.system_page", segment=shown(segment), label=LABELS[platform])
    )


def unrecognised(platform: str) -> NoReturn:
    not_account(platform, msg("canonical.unrecognised", label=LABELS[platform]))
