"""The user-facing explanations of what is wrong with a value and what to paste
instead, in Vietnamese and English.

Rejected as "not an account" (each with its own message): home pages; search, hashtag,
explore, feed, settings, login, help and similar system pages; posts; videos and photos;
playlists; events; stories; share links (they name no account until opened, so the
message says to open them and copy the profile address). Each platform's module lists
its own.
"""

from __future__ import annotations

from typing import NoReturn

from api.services.canonical.core import fail, shown

LABELS: dict[str, tuple[str, str]] = {
    "facebook": ("Facebook", "Facebook"),
    "zalo": ("Zalo", "Zalo"),
    "youtube": ("YouTube", "YouTube"),
    "tiktok": ("TikTok", "TikTok"),
    "instagram": ("Instagram", "Instagram"),
    "x": ("X (Twitter)", "X (Twitter)"),
    "telegram": ("Telegram", "Telegram"),
    "threads": ("Threads", "Threads"),
    "linkedin": ("LinkedIn", "LinkedIn"),
    "website": ("trang web", "website"),
    "other": ("khác", "other"),
}

EXAMPLES: dict[str, tuple[str, str]] = {
    "facebook": (
        "facebook.com/<tên người dùng> hoặc facebook.com/profile.php?id=<số>",
        "facebook.com/<username> or facebook.com/profile.php?id=<number>",
    ),
    "zalo": (
        "zalo.me/<số điện thoại>, zalo.me/<mã Official Account> hoặc zalo.me/g/<mã nhóm>",
        "zalo.me/<phone number>, zalo.me/<Official Account id> or zalo.me/g/<group code>",
    ),
    "youtube": (
        "youtube.com/@<tên kênh> hoặc youtube.com/channel/UC…",
        "youtube.com/@<handle> or youtube.com/channel/UC…",
    ),
    "tiktok": ("tiktok.com/@<tên người dùng>", "tiktok.com/@<username>"),
    "instagram": ("instagram.com/<tên người dùng>", "instagram.com/<username>"),
    "x": ("x.com/<tên người dùng>", "x.com/<username>"),
    "telegram": ("t.me/<tên người dùng>", "t.me/<username>"),
    "threads": ("threads.net/@<tên người dùng>", "threads.net/@<username>"),
    "linkedin": (
        "linkedin.com/in/<tên> hoặc linkedin.com/company/<tên>",
        "linkedin.com/in/<name> or linkedin.com/company/<name>",
    ),
    "website": ("https://<tên miền>/…", "https://<domain>/…"),
    "other": ("https://<tên miền>/…", "https://<domain>/…"),
}

RULES: dict[str, tuple[str, str]] = {
    "facebook": (
        "tên người dùng Facebook chỉ gồm chữ cái không dấu, chữ số và dấu chấm, dài 5–50 ký tự "
        "(không tính dấu chấm vẫn phải đủ 5 ký tự) và không thể chỉ toàn chữ số",
        "a Facebook username has only letters a–z, digits and dots, 5–50 characters "
        "(at least 5 besides the dots), and is not all digits",
    ),
    "facebook_group": (
        "tên nhóm Facebook chỉ gồm chữ cái không dấu, chữ số, dấu chấm, dấu gạch ngang "
        "và dấu gạch dưới (tối đa 100 ký tự), hoặc là mã số nhóm",
        "a Facebook group name has only letters a–z, digits, dots, hyphens and underscores "
        "(up to 100 characters), or is the group's number",
    ),
    "facebook_id": (
        "mã số Facebook gồm 1–20 chữ số, không bắt đầu bằng số 0",
        "a Facebook id is 1–20 digits, not starting with 0",
    ),
    "youtube": (
        "tên kênh YouTube (@handle) dài 3–30 ký tự gồm chữ cái, chữ số, dấu gạch dưới, "
        "dấu gạch ngang, dấu chấm hoặc dấu chấm giữa (·)",
        "a YouTube handle is 3–30 letters, digits, underscores, hyphens, dots or middle dots (·)",
    ),
    "youtube_channel": (
        "mã kênh YouTube dài 24 ký tự, bắt đầu bằng UC (phân biệt chữ hoa chữ thường)",
        "a YouTube channel id is 24 characters starting with UC (case-sensitive)",
    ),
    "youtube_name": (
        "tên tùy chỉnh của kênh YouTube dài 1–100 ký tự gồm chữ cái, chữ số, "
        "dấu gạch dưới, dấu gạch ngang hoặc dấu chấm",
        "a YouTube custom or user name is 1–100 letters, digits, underscores, hyphens or dots",
    ),
    "tiktok": (
        "tên TikTok dài 2–24 ký tự, chỉ gồm chữ cái không dấu, chữ số, dấu gạch dưới và dấu chấm",
        "a TikTok username is 2–24 letters a–z, digits, underscores and dots",
    ),
    "tiktok_short": (
        "mã liên kết rút gọn TikTok gồm 5–20 chữ cái không dấu hoặc chữ số",
        "a TikTok short-link code is 5–20 letters a–z or digits",
    ),
    "instagram": (
        "tên Instagram dài 1–30 ký tự, chỉ gồm chữ cái không dấu, chữ số, dấu gạch dưới "
        "và dấu chấm",
        "an Instagram username is 1–30 letters a–z, digits, underscores and dots",
    ),
    "threads": (
        "tên Threads (giống tên Instagram) dài 1–30 ký tự, chỉ gồm chữ cái không dấu, chữ số, "
        "dấu gạch dưới và dấu chấm",
        "a Threads username (the Instagram one) is 1–30 letters a–z, digits, underscores and dots",
    ),
    "x": (
        "tên X (Twitter) dài 1–15 ký tự, chỉ gồm chữ cái không dấu, chữ số và dấu gạch dưới",
        "an X (Twitter) username is 1–15 letters a–z, digits and underscores",
    ),
    "telegram": (
        "tên Telegram dài 5–32 ký tự, chỉ gồm chữ cái không dấu, chữ số và dấu gạch dưới",
        "a Telegram username is 5–32 letters a–z, digits and underscores",
    ),
    "telegram_invite": (
        "mã mời Telegram dài 5–64 ký tự gồm chữ cái không dấu, chữ số, dấu gạch ngang "
        "và dấu gạch dưới",
        "a Telegram invite code is 5–64 letters a–z, digits, hyphens and underscores",
    ),
    "telegram_phone": (
        "số điện thoại sau dấu + phải gồm 7–15 chữ số (mã quốc gia và số thuê bao)",
        "the phone number after + must be 7–15 digits (country code and number)",
    ),
    "linkedin": (
        "tên hồ sơ LinkedIn dài 3–100 ký tự gồm chữ cái, chữ số và dấu gạch ngang",
        "a LinkedIn profile name is 3–100 letters, digits and hyphens",
    ),
    "linkedin_company": (
        "tên trang công ty LinkedIn dài 1–100 ký tự gồm chữ cái, chữ số và dấu gạch ngang",
        "a LinkedIn company name is 1–100 letters, digits and hyphens",
    ),
    "zalo": (
        "Zalo cần số điện thoại di động Việt Nam (10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09, "
        "có thể viết dạng +84) hoặc mã Official Account (15–20 chữ số)",
        "Zalo needs a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09, "
        "or the +84 form) or an Official Account id (15–20 digits)",
    ),
    "zalo_group": (
        "mã nhóm Zalo dài 4–64 ký tự gồm chữ cái không dấu, chữ số, dấu gạch ngang "
        "và dấu gạch dưới",
        "a Zalo group code is 4–64 letters a–z, digits, hyphens and underscores",
    ),
}


def bad_handle(rule: str, value: str) -> NoReturn:
    vi, en = RULES[rule]
    fail(
        f"“{shown(value)}” không hợp lệ: {vi}.",
        f"“{shown(value)}” is not valid: {en}.",
    )


def not_account(platform: str, what_vi: str, what_en: str) -> NoReturn:
    ex_vi, ex_en = EXAMPLES[platform]
    fail(
        f"{what_vi} Hãy nhập địa chỉ của tài khoản, ví dụ {ex_vi}.",
        f"{what_en} Give the account's address, e.g. {ex_en}.",
    )


def home_page(platform: str) -> NoReturn:
    vi, en = LABELS[platform]
    not_account(
        platform,
        f"Đây là trang chủ {vi}, không chỉ tới tài khoản nào.",
        f"This is the {en} home page; it names no account.",
    )


def post_link(platform: str) -> NoReturn:
    not_account(
        platform,
        "Đây là liên kết tới một bài viết, không phải tới tài khoản.",
        "This is a post, not an account.",
    )


def video_link(platform: str) -> NoReturn:
    not_account(
        platform,
        "Đây là liên kết tới một video (hoặc ảnh), không phải tới tài khoản hay kênh.",
        "This is a video (or photo), not an account or channel.",
    )


def playlist_link(platform: str) -> NoReturn:
    not_account(
        platform,
        "Đây là liên kết tới một danh sách phát, không phải tới kênh.",
        "This is a playlist, not a channel.",
    )


def share_link(platform: str) -> NoReturn:
    vi, en = LABELS[platform]
    ex_vi, ex_en = EXAMPLES[platform]
    fail(
        f"Liên kết chia sẻ {vi} không cho biết tài khoản nào nếu chưa mở nó. Hãy mở liên kết, "
        f"vào trang của tài khoản rồi sao chép địa chỉ trên thanh địa chỉ (dạng {ex_vi}).",
        f"A {en} share link does not name an account until it is opened. Open it, go to the "
        f"account's page and copy the address from the address bar (like {ex_en}).",
    )


def system_page(platform: str, segment: str) -> NoReturn:
    vi, en = LABELS[platform]
    not_account(
        platform,
        f"“{shown(segment)}” là một trang chức năng của {vi} (tìm kiếm, cài đặt, bảng tin…), "
        "không phải tài khoản.",
        f"“{shown(segment)}” is a {en} system page (search, settings, feed…), not an account.",
    )


def unrecognised(platform: str) -> NoReturn:
    vi, en = LABELS[platform]
    not_account(
        platform,
        f"Không nhận ra địa chỉ tài khoản {vi} trong liên kết này.",
        f"This link is not a recognised {en} account address.",
    )
