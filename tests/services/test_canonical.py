"""Canonical account keys: real link shapes per platform, invalid inputs, and properties."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from api.schemas.accounts import AccountCreate
from api.schemas.common import field_adapter
from api.schemas.reports import ReportCreate
from api.services.canonical import (
    MAX_LENGTH,
    PLATFORMS,
    Canonical,
    InvalidAccountUrl,
    canonical_content,
    canonicalize,
)
from api.services.canonical.facebook import FB_RESERVED
from api.services.canonical.instagram import IG_RESERVED
from api.services.canonical.telegram import TG_RESERVED
from api.services.canonical.x import X_RESERVED
from tests.properties import budget

FB_USER = "facebook:user:someuser"
FB_PROFILE = "facebook:profile:100012345678901"
YT_HANDLE = "youtube:handle:sontungmtp"
YT_CHANNEL = "youtube:channel:UC_x5XG1OV2P6uZZ5FSM9Ttw"
TT_HANDLE = "tiktok:handle:someuser"
ZALO_PHONE = "zalo:phone:+84912345678"
ZALO_OA = "zalo:oa:4368496045530729807"
IG_USER = "instagram:user:someuser"
X_HANDLE = "x:handle:vtvdigital"
TG_HANDLE = "telegram:handle:durov"
TG_INVITE = "telegram:invite:AbCdEfGhIjKlMnOp"
TH_HANDLE = "threads:handle:some.user"
LI_IN = "linkedin:in:nguyen-van-a-123abc"
LI_COMPANY = "linkedin:company:viettel-group"

VALID: list[tuple[str | None, str, str]] = [
    # --- Facebook: usernames (case and dots ignored), hosts, tracking, encodings
    (None, "https://www.facebook.com/someuser", FB_USER),
    ("facebook", "https://www.facebook.com/Some.User", FB_USER),
    ("facebook", "facebook.com/some.user/", FB_USER),
    (None, "http://m.facebook.com/SomeUser?ref=bookmarks", FB_USER),
    (None, "https://mbasic.facebook.com/some.user?refid=17", FB_USER),
    (None, "https://web.facebook.com/some.user?_rdc=1&_rdr", FB_USER),
    (None, "https://mobile.facebook.com/s.o.m.e.u.s.e.r", FB_USER),
    (None, "https://touch.facebook.com/someuser", FB_USER),
    (None, "https://vi-vn.facebook.com/someuser", FB_USER),
    (None, "fb.com/someuser", FB_USER),
    (None, "https://www.fb.com/Some.User", FB_USER),
    (None, "https://fb.me/someuser", FB_USER),
    (None, "https://m.me/someuser", FB_USER),
    (
        None,
        "https://www.facebook.com/Some.User?utm_source=zalo&utm_medium=share&fbclid=IwAR0abc",
        FB_USER,
    ),
    (None, "HTTPS://WWW.FACEBOOK.COM/SOMEUSER/", FB_USER),
    (None, "https://www.facebook.com/%53ome.%55ser", FB_USER),
    (None, "https://www.facebook.com/#!/some.user", FB_USER),
    (None, "https://www.facebook.com./someuser", FB_USER),
    (None, "https://www.facebook.com:443/someuser", FB_USER),
    (None, "//www.facebook.com/someuser", FB_USER),
    (None, "  https://www.facebook.com/someuser \n", FB_USER),
    (None, "\ufeffhttps://www.facebook.com/someuser\u200b", FB_USER),
    (None, "https://www.facebook.com//someuser//", FB_USER),
    (None, "https://www.facebook.com/some.user/about?ref=page_internal", FB_USER),
    (None, "https://www.facebook.com/someuser/photos", FB_USER),
    (None, "https://www.facebook.com/pg/SomeUser/about/", FB_USER),
    ("facebook", "@some.user", FB_USER),
    ("facebook", "Some.User", FB_USER),
    ("Facebook", "someuser", FB_USER),
    # --- Facebook: numeric ids, profile.php, people, pages, groups
    (None, "https://www.facebook.com/profile.php?id=100012345678901", FB_PROFILE),
    (None, "https://m.facebook.com/profile.php?id=100012345678901&mibextid=ZbWKwL", FB_PROFILE),
    (None, "https://www.facebook.com/profile.php/?id=100012345678901&sk=about#x", FB_PROFILE),
    (
        None,
        "https://www.facebook.com/people/Nguy%E1%BB%85n-V%C4%83n-A/100012345678901/",
        FB_PROFILE,
    ),
    (None, "https://www.facebook.com/p/Nguyen-Van-A-100012345678901/", FB_PROFILE),
    (None, "https://www.facebook.com/100012345678901", FB_PROFILE),
    ("facebook", "100012345678901", FB_PROFILE),
    (None, "https://www.facebook.com/4", "facebook:profile:4"),
    (
        None,
        "https://www.facebook.com/pages/Bao-Nhan-Dan/123456789012345",
        "facebook:profile:123456789012345",
    ),
    (None, "https://www.facebook.com/Bao-Nhan-Dan-123456789012/", "facebook:profile:123456789012"),
    (None, "https://www.facebook.com/groups/123456789012345/", "facebook:group:123456789012345"),
    (None, "https://www.facebook.com/groups/HoiNguoiViet/about", "facebook:group:hoinguoiviet"),
    (None, "https://m.facebook.com/groups/hoinguoiviet?ref=share", "facebook:group:hoinguoiviet"),
    # --- YouTube: handle vs channel vs c vs user, tabs, Unicode handles
    (None, "https://www.youtube.com/@SonTungMTP", YT_HANDLE),
    (None, "youtube.com/@sontungmtp/videos", YT_HANDLE),
    (None, "https://m.youtube.com/@SonTungMTP/featured?si=AbCdEf", YT_HANDLE),
    (None, "https://www.youtube.com/@SonTungMTP/shorts", YT_HANDLE),
    (None, "https://www.youtube.com/@SonTungMTP/streams/", YT_HANDLE),
    ("youtube", "@SonTungMTP", YT_HANDLE),
    ("youtube", "SonTungMTP", YT_HANDLE),
    (None, "https://www.youtube.com/@Nguy%E1%BB%85nV%C4%83nA", "youtube:handle:nguyễnvăna"),
    (
        None,
        "https://www.youtube.com/@" + unicodedata.normalize("NFD", "NguyễnVănA"),
        "youtube:handle:nguyễnvăna",
    ),
    (None, "https://www.youtube.com/@हिंदीसमाचार", "youtube:handle:हिंदीसमाचार"),
    (None, "https://www.youtube.com/@%E0%B8%82%E0%B9%88%E0%B8%B2%E0%B8%A7", "youtube:handle:ข่าว"),
    (None, "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", YT_CHANNEL),
    (
        None,
        "https://youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw/about?view_as=subscriber",
        YT_CHANNEL,
    ),
    ("youtube", "UC_x5XG1OV2P6uZZ5FSM9Ttw", YT_CHANNEL),
    (
        None,
        "https://music.youtube.com/channel/UC4R8DWoMoI7CAwX8_LjQHig",
        "youtube:channel:UC4R8DWoMoI7CAwX8_LjQHig",
    ),
    (None, "https://www.youtube.com/c/VTV24h", "youtube:c:vtv24h"),
    (None, "https://www.youtube.com/c/VTV24h/playlists", "youtube:c:vtv24h"),
    (None, "https://www.youtube.com/VTV24h", "youtube:c:vtv24h"),
    (None, "https://www.youtube.com/user/VTVCab", "youtube:user:vtvcab"),
    # --- TikTok
    (None, "https://www.tiktok.com/@Some_User.1", "tiktok:handle:some_user.1"),
    (
        None,
        "https://www.tiktok.com/@someuser?lang=vi&is_from_webapp=1&sender_device=pc",
        TT_HANDLE,
    ),
    (None, "tiktok.com/@SomeUser/", TT_HANDLE),
    (None, "https://m.tiktok.com/@someuser", TT_HANDLE),
    ("tiktok", "@SomeUser", TT_HANDLE),
    ("tiktok", "someuser", TT_HANDLE),
    (None, "https://vm.tiktok.com/ZSabc123/", "tiktok:short:ZSabc123"),
    (None, "https://vt.tiktok.com/ZSabc123", "tiktok:short:ZSabc123"),
    (None, "https://vm.tiktok.com/ZSABC123/", "tiktok:short:ZSABC123"),
    # --- Zalo: phone normalisation, OA ids, groups
    (None, "https://zalo.me/0912345678", ZALO_PHONE),
    (None, "zalo.me/84912345678", ZALO_PHONE),
    (None, "https://zalo.me/+84912345678", ZALO_PHONE),
    (None, "https://zalo.me/%2B84912345678", ZALO_PHONE),
    ("zalo", "0912345678", ZALO_PHONE),
    ("zalo", "+84 912 345 678", ZALO_PHONE),
    ("zalo", "(+84) 912.345.678", ZALO_PHONE),
    ("zalo", "0912-345-678", ZALO_PHONE),
    ("zalo", "+84 0912 345 678", ZALO_PHONE),
    ("zalo", "0084912345678", ZALO_PHONE),
    (None, "https://zalo.me/0381234567", "zalo:phone:+84381234567"),
    (None, "https://zalo.me/4368496045530729807", ZALO_OA),
    (None, "https://oa.zalo.me/4368496045530729807", ZALO_OA),
    ("zalo", "4368496045530729807", ZALO_OA),
    (None, "https://zalo.me/g/abcdef123", "zalo:group:abcdef123"),
    # --- Instagram
    (None, "https://www.instagram.com/Some.User_1/", "instagram:user:some.user_1"),
    (None, "https://instagram.com/someuser?igshid=NTc4MTIwNjQ2YQ==", IG_USER),
    (None, "https://www.instagram.com/someuser/?hl=vi", IG_USER),
    (None, "https://instagr.am/someuser", IG_USER),
    (None, "https://www.instagram.com/someuser/reels/", IG_USER),
    (None, "https://www.instagram.com/_u/someuser", IG_USER),
    ("instagram", "@SomeUser", IG_USER),
    # --- X / Twitter
    (None, "https://x.com/VTVDigital", X_HANDLE),
    (None, "https://twitter.com/VTVDigital", X_HANDLE),
    (None, "https://mobile.twitter.com/VTVDigital/", X_HANDLE),
    (None, "https://twitter.com/#!/VTVDigital", X_HANDLE),
    (None, "https://x.com/VTVDigital/media", X_HANDLE),
    (None, "https://x.com/vtvdigital?s=21&t=AbCdEf", X_HANDLE),
    ("x", "@VTVDigital", X_HANDLE),
    ("x", "VTV_Digital", "x:handle:vtv_digital"),
    # --- Telegram
    (None, "https://t.me/durov", TG_HANDLE),
    (None, "t.me/Durov/", TG_HANDLE),
    (None, "https://telegram.me/durov", TG_HANDLE),
    (None, "https://telegram.dog/durov", TG_HANDLE),
    (None, "https://t.me/s/durov", TG_HANDLE),
    (None, "https://durov.t.me", TG_HANDLE),
    ("telegram", "@durov", TG_HANDLE),
    (None, "https://t.me/+AbCdEfGhIjKlMnOp", TG_INVITE),
    (None, "https://t.me/joinchat/AbCdEfGhIjKlMnOp", TG_INVITE),
    (None, "https://t.me/+84912345678", "telegram:phone:+84912345678"),
    # --- Threads
    (None, "https://www.threads.net/@Some.User", TH_HANDLE),
    (None, "https://www.threads.com/@some.user?xmt=AQGz", TH_HANDLE),
    (None, "threads.net/@some.user/replies", TH_HANDLE),
    ("threads", "@some.user", TH_HANDLE),
    # --- LinkedIn
    (None, "https://www.linkedin.com/in/Nguyen-Van-A-123abc/", LI_IN),
    (None, "https://vn.linkedin.com/in/nguyen-van-a-123abc", LI_IN),
    (None, "https://www.linkedin.com/in/nguyen-van-a-123abc/recent-activity/all/", LI_IN),
    (None, "https://www.linkedin.com/company/viettel-group/", LI_COMPANY),
    (
        None,
        "https://www.linkedin.com/company/Viettel-Group/about/?viewAsMember=true",
        LI_COMPANY,
    ),
    # --- websites and other
    ("website", "https://www.Example.VN/Blog/", "website:example.vn/Blog"),
    ("website", "http://example.vn", "website:example.vn"),
    ("website", "example.vn/a/b/?utm_source=x#top", "website:example.vn/a/b"),
    ("website", "https://example.vn:8080/x", "website:example.vn:8080/x"),
    ("website", "https://example.vn:443/x", "website:example.vn/x"),
    ("website", "https://bücher.de/über", "website:xn--bcher-kva.de/%C3%BCber"),
    ("website", "https://xn--bcher-kva.de/%c3%bcber", "website:xn--bcher-kva.de/%C3%BCber"),
    ("website", "https://example.vn/%7Euser/./a/../b", "website:example.vn/~user/b"),
    ("website", "https://www.example.vn/a%20b", "website:example.vn/a%20b"),
    ("website", "https://blog.example.com.vn/Trang-Chu", "website:blog.example.com.vn/Trang-Chu"),
    ("other", "https://gapo.vn/someuser", "other:gapo.vn/someuser"),
]

URLS: list[tuple[str | None, str, str]] = [
    ("facebook", "Some.User", "https://www.facebook.com/someuser"),
    (
        None,
        "fb.com/people/A/100012345678901",
        "https://www.facebook.com/profile.php?id=100012345678901",
    ),
    (
        None,
        "https://m.facebook.com/groups/HoiNguoiViet/",
        "https://www.facebook.com/groups/hoinguoiviet",
    ),
    (None, "https://m.youtube.com/@SonTungMTP/videos", "https://www.youtube.com/@sontungmtp"),
    (None, "https://www.youtube.com/VTV24h", "https://www.youtube.com/c/vtv24h"),
    (None, "https://vt.tiktok.com/ZSabc123/", "https://vm.tiktok.com/ZSabc123"),
    ("zalo", "+84 912 345 678", "https://zalo.me/0912345678"),
    (None, "https://t.me/joinchat/AbCdEfGhIjKlMnOp", "https://t.me/+AbCdEfGhIjKlMnOp"),
    (None, "https://twitter.com/VTVDigital", "https://x.com/vtvdigital"),
    (None, "https://www.threads.net/@Some.User", "https://www.threads.com/@some.user"),
    ("website", "http://www.example.vn/Blog/?a=1", "https://example.vn/Blog"),
]

# (platform, value, a fragment of detail_en that proves the *specific* reason was given)
INVALID: list[tuple[str | None, str, str]] = [
    # Facebook: home, system pages, posts, videos, share links, bad handles
    (None, "https://www.facebook.com/", "home page"),
    ("facebook", "facebook.com", "home page"),
    (None, "https://www.facebook.com/search/top?q=abc", "system page"),
    (None, "https://www.facebook.com/watch/?v=123456", "video"),
    (None, "https://www.facebook.com/login.php", "system page"),
    (None, "https://www.facebook.com/home.php", "system page"),
    (None, "https://www.facebook.com/settings", "system page"),
    (None, "https://www.facebook.com/marketplace/item/123", "system page"),
    (None, "https://www.facebook.com/gaming", "system page"),
    (None, "https://www.facebook.com/help", "system page"),
    (None, "https://www.facebook.com/policies", "system page"),
    (None, "https://www.facebook.com/privacy/explanation", "system page"),
    (None, "https://www.facebook.com/friends", "system page"),
    (None, "https://www.facebook.com/messages/t/123", "system page"),
    (None, "https://www.facebook.com/notifications", "system page"),
    (None, "https://www.facebook.com/events/123456/", "system page"),
    (None, "https://www.facebook.com/hashtag/abc", "system page"),
    (None, "https://www.facebook.com/groups/", "system page"),
    (None, "https://www.facebook.com/pages/", "system page"),
    (None, "https://www.facebook.com/reel/123456789", "video"),
    (None, "https://www.facebook.com/reels", "video"),
    (None, "https://www.facebook.com/share/1AbCdEfGh/", "share link"),
    (None, "https://www.facebook.com/share/p/1AbCdEfGh/", "share link"),
    (None, "https://www.facebook.com/sharer/sharer.php?u=x", "share link"),
    (None, "https://www.facebook.com/photo.php?fbid=123", "post"),
    (None, "https://www.facebook.com/permalink.php?story_fbid=1&id=2", "post"),
    (None, "https://www.facebook.com/story.php?story_fbid=1&id=2", "post"),
    (None, "https://www.facebook.com/someuser/posts/pfbid02AbCdEf", "this is a post"),
    (None, "https://www.facebook.com/someuser/videos/123456789", "video"),
    (None, "https://www.facebook.com/groups/hoinguoiviet/posts/123", "this is a post"),
    (None, "https://www.facebook.com/groups/hoinguoiviet/permalink/123/", "this is a post"),
    (None, "https://www.facebook.com/profile.php", "?id="),
    (None, "https://www.facebook.com/profile.php?id=abc", "Facebook id"),
    (None, "https://www.facebook.com/0123456", "Facebook id"),
    ("facebook", "abc", "Facebook username"),
    ("facebook", "a.b.c.d", "Facebook username"),
    ("facebook", "some_user", "Facebook username"),
    ("facebook", "Somé.User", "Facebook username"),
    ("facebook", "s\u043eme.user", "Facebook username"),  # Cyrillic о is not an o
    ("instagram", ".", "Instagram username"),
    ("other", "@someone", "user name or password"),
    ("website", "example", "public domain"),
    ("tiktok", "@..", "TikTok username"),
    ("facebook", "1.2.3.4.5", "Facebook username"),
    (None, "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.vn", "redirect"),
    (None, "https://business.facebook.com/someuser", "not a recognised Facebook"),
    (None, "https://fb.watch/abc123/", "video"),
    # YouTube
    (None, "https://www.youtube.com/", "home page"),
    (None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
    (None, "https://youtu.be/dQw4w9WgXcQ", "video"),
    ("youtube", "https://youtu.be/dQw4w9WgXcQ?si=abc", "video"),
    (None, "https://www.youtube.com/shorts/AbC123xYz", "video"),
    (None, "https://www.youtube.com/live/AbC123xYz", "video"),
    (None, "https://www.youtube.com/embed/AbC123xYz", "video"),
    (None, "https://www.youtube.com/playlist?list=PL1234567890", "playlist"),
    (None, "https://www.youtube.com/results?search_query=abc", "system page"),
    (None, "https://www.youtube.com/feed/subscriptions", "system page"),
    (None, "https://www.youtube.com/channel/UCabc", "channel id"),
    (None, "https://www.youtube.com/channel/uc_x5XG1OV2P6uZZ5FSM9Ttw", "channel id"),
    (None, "https://www.youtube.com/@SonTungMTP/videos/extra", "not a recognised YouTube"),
    ("youtube", "@ab", "YouTube handle"),
    ("youtube", "@bad!handle", "YouTube handle"),
    ("youtube", "@\u0301abc", "YouTube handle"),
    # TikTok
    (None, "https://www.tiktok.com/", "home page"),
    (None, "https://www.tiktok.com/@someuser/video/7234567890123456789", "video"),
    (None, "https://www.tiktok.com/@someuser/photo/7234567890123456789", "video"),
    (None, "https://www.tiktok.com/someuser", "@ before the name"),
    (None, "https://www.tiktok.com/t/ZTRabc123/", "share link"),
    (None, "https://vm.tiktok.com/ab/", "short-link code"),
    ("tiktok", "@a", "TikTok username"),
    ("tiktok", "@some-user", "TikTok username"),
    # Zalo
    (None, "https://zalo.me/", "home page"),
    (None, "https://zalo.me/s/1234567890/", "Mini App"),
    (None, "https://zalo.me/0123456789", "Vietnamese mobile number"),
    (None, "https://zalo.me/02438123456", "Vietnamese mobile number"),
    (None, "https://zalo.me/123456789012", "Vietnamese mobile number"),
    (None, "https://zalo.me/someone", "Vietnamese mobile number"),
    ("zalo", "+1 415 555 0100", "Vietnamese mobile number"),
    ("zalo", "091234567", "Vietnamese mobile number"),
    (None, "https://chat.zalo.me/", "not a recognised Zalo"),
    # Instagram
    (None, "https://www.instagram.com/", "home page"),
    (None, "https://www.instagram.com/p/CxYz123AbC/", "post"),
    (None, "https://www.instagram.com/someuser/p/CxYz123AbC/", "post"),
    (None, "https://www.instagram.com/reel/CxYz123AbC/", "video"),
    (None, "https://www.instagram.com/explore/tags/abc/", "system page"),
    (None, "https://www.instagram.com/stories/someuser/3123456789/", "story"),
    ("instagram", "@some user", "spaces"),
    ("instagram", "@" + "a" * 31, "Instagram username"),
    # X
    (None, "https://x.com/", "home page"),
    (None, "https://x.com/someuser/status/1234567890", "post"),
    (None, "https://twitter.com/someuser/statuses/1234567890", "post"),
    (None, "https://x.com/home", "system page"),
    (None, "https://x.com/search?q=abc", "system page"),
    (None, "https://x.com/i/lists/123", "system page"),
    (None, "https://twitter.com/intent/tweet?text=hi", "system page"),
    ("x", "@this_is_too_long_for_x", "X (Twitter) username"),
    ("x", "@some.user", "X (Twitter) username"),
    # Telegram
    (None, "https://t.me/", "home page"),
    (None, "https://t.me/durov/123", "post"),
    (None, "https://t.me/s/durov/123", "post"),
    (None, "https://t.me/share/url?url=https://example.vn", "system page"),
    (None, "https://t.me/addstickers/SomePack", "system page"),
    ("telegram", "@abc", "Telegram username"),
    (None, "https://t.me/+1", "phone number"),
    # Threads, LinkedIn
    (None, "https://www.threads.net/@someuser/post/C1AbCdEf", "post"),
    (None, "https://www.threads.net/someuser", "@ before the name"),
    (None, "https://www.linkedin.com/feed/", "system page"),
    (None, "https://www.linkedin.com/posts/someone_activity-7123456789", "post"),
    (None, "https://www.linkedin.com/pub/nguyen-van-a/12/345/678", "old LinkedIn"),
    ("linkedin", "someone", "full link"),
    (None, "https://lnkd.in/abc123", "share link"),
    # schemes, hosts, ports, userinfo
    (None, "javascript:alert(document.cookie)", "http and https"),
    ("website", "javascript:alert(1)", "http and https"),
    ("website", "data:text/html,<script>alert(1)</script>", "http and https"),
    ("website", "file:///etc/passwd", "http and https"),
    ("website", "ftp://example.vn/file", "http and https"),
    (None, "fb://profile/100012345678901", "http and https"),
    (None, "https:facebook.com/someuser", "malformed"),
    ("website", "https://", "malformed"),
    ("website", "http://[::1", "malformed"),
    ("website", "http://127.0.0.1/", "public domain"),
    ("website", "http://[::1]/", "public domain"),
    ("website", "http://localhost:8000/", "public domain"),
    ("website", "https://intranet/", "public domain"),
    ("website", "https://server.local/", "public domain"),
    ("website", "https://example.123/", "public domain"),
    ("website", "https://-bad-.example.vn/", "public domain"),
    ("website", "https://user:pass@example.vn/", "user name or password"),
    (None, "https://someone@www.facebook.com/someuser", "user name or password"),
    (None, "https://www.facebook.com:8443/someuser", "port"),
    (None, "https://www.facebook.com:99999/someuser", "malformed"),
    # platform mismatch and unknown platforms
    ("youtube", "https://www.facebook.com/someuser", "belongs to Facebook"),
    ("facebook", "https://x.com/someuser", "belongs to X"),
    ("tiktok", "https://example.vn/@someuser", "not a TikTok address"),
    ("website", "https://www.facebook.com/someuser", "declare it with platform “facebook”"),
    ("other", "https://t.me/durov", "declare it with platform “telegram”"),
    ("myspace", "https://myspace.com/someone", "Unknown platform"),
    ("", "someuser", "Unknown platform"),
    (None, "https://example.vn/", "Cannot tell the platform"),
    (None, "someuser", "Choose the platform"),
    (None, "@someuser", "Choose the platform"),
    # raw input hygiene
    (None, "", "No address"),
    ("facebook", "   \t ", "No address"),
    (None, "https://www.facebook.com/some\x00user", "invalid character"),
    (None, "https://www.facebook.com/some\u202euser", "invalid character"),
    (None, "https://www.facebook.com/some%00user", "invalid character"),
    (None, "https://www.facebook.com\\@evil.vn/", "invalid character"),
    (None, "https://www.facebook.com/" + "a" * MAX_LENGTH, "too long"),
    ("facebook", "some user", "spaces"),
    ("website", "https://exa mple.vn/", "spaces"),
    (None, "https://www.facebook.com/some%ffuser", "percent-encoding"),
]


def _id(case: tuple[str | None, str, str]) -> str:
    platform, value, _ = case
    return f"{platform}|{value[:70]}"


@pytest.mark.parametrize(("platform", "value", "key"), VALID, ids=[_id(c) for c in VALID])
def test_valid_shapes(platform: str | None, value: str, key: str) -> None:
    result = canonicalize(platform, value)
    assert result.key == key
    assert result.platform == key.split(":", 1)[0]
    assert result.url.startswith("https://")
    # Idempotent: the canonical url canonicalises to the very same result...
    assert canonicalize(result.platform, result.url) == result
    # ...and names its platform by itself (except a website, which has no platform host).
    if result.platform not in ("website", "other"):
        assert canonicalize(None, result.url) == result


@pytest.mark.parametrize(("platform", "value", "url"), URLS, ids=[_id(c) for c in URLS])
def test_canonical_urls(platform: str | None, value: str, url: str) -> None:
    assert canonicalize(platform, value).url == url


@pytest.mark.parametrize(("platform", "value", "reason"), INVALID, ids=[_id(c) for c in INVALID])
def test_invalid_inputs(platform: str | None, value: str, reason: str) -> None:
    with pytest.raises(InvalidAccountUrl) as caught:
        canonicalize(platform, value)
    error = caught.value
    assert reason.lower() in error.detail_en.lower()
    assert error.detail_vi
    assert error.detail_vi != error.detail_en
    assert str(error) == error.detail_en


def test_tables_are_big_enough() -> None:
    assert len(VALID) >= 60
    assert len(INVALID) >= 25
    assert {key.split(":", 1)[0] for _, _, key in VALID} == PLATFORMS


def test_youtube_handle_custom_and_user_names_are_different_accounts() -> None:
    keys = {
        canonicalize("youtube", f"https://www.youtube.com/{path}").key
        for path in ("@vtv24h", "c/vtv24h", "user/vtv24h")
    }
    assert keys == {"youtube:handle:vtv24h", "youtube:c:vtv24h", "youtube:user:vtv24h"}


def test_channel_ids_are_case_sensitive() -> None:
    upper = canonicalize(None, "https://www.youtube.com/channel/UCX6OQ3DkcsbYNE6H8uQQuVA")
    lower = canonicalize(None, "https://www.youtube.com/channel/UCx6oq3dkcsbyne6h8uqquvA")
    assert upper.key != lower.key


def test_username_and_numeric_id_stay_distinct_keys() -> None:
    assert (
        canonicalize(None, "facebook.com/someuser").key
        != canonicalize(None, "facebook.com/profile.php?id=100012345678901").key
    )


def test_error_is_a_value_error_with_both_languages() -> None:
    with pytest.raises(ValueError, match="home page") as caught:
        canonicalize("facebook", "https://www.facebook.com/")
    assert isinstance(caught.value, InvalidAccountUrl)
    assert "trang chủ" in caught.value.detail_vi


def test_canonical_is_frozen() -> None:
    result = canonicalize("x", "@jack")
    assert result == Canonical("x", "x:handle:jack", "https://x.com/jack")
    with pytest.raises(AttributeError):
        result.key = "x:handle:other"  # type: ignore[misc]


def test_input_at_the_length_cap_is_accepted() -> None:
    path = "/" + "a" * (MAX_LENGTH - len("https://example.vn/"))
    value = "https://example.vn" + path
    assert len(value) == MAX_LENGTH
    assert canonicalize("website", value).key == f"website:example.vn{path}"


# --------------------------------------------------------------------------- properties

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _not_only_dots(handle: str) -> bool:
    return bool(handle.lstrip("@").strip(".-·"))


def _not_reserved(words: frozenset[str]) -> Callable[[str], bool]:
    return lambda handle: handle.lower().lstrip("@") not in words


_fb_usernames = (
    st.from_regex(r"[A-Za-z0-9.]{5,50}", fullmatch=True)
    .filter(lambda u: len(u.replace(".", "")) >= 5)
    .filter(lambda u: not u.replace(".", "").isdigit())
    .filter(lambda u: u.lower().replace(".", "") not in FB_RESERVED)
    .filter(lambda u: not u.lower().endswith(".php"))
)
_yt_handles = (
    st.text(
        alphabet=st.one_of(
            st.sampled_from(_ALNUM + "_-.·"),
            st.characters(categories=["Ll", "Lo", "Nd"], max_codepoint=0x2FFFF),
        ),
        min_size=3,
        max_size=30,
    )
    .flatmap(  # sprinkle combining marks after the first character
        lambda h: st.lists(
            st.characters(categories=["Mn", "Mc"], max_codepoint=0x2FFFF), max_size=2
        ).map(lambda marks: h[0] + "".join(marks) + h[1:])
    )
    .map(lambda h: unicodedata.normalize("NFC", h))
    .filter(lambda h: 3 <= len(h) <= 30)
    .filter(_not_only_dots)
    # A bare `youtu.be` is the short-link host, not a handle: typed alone it is read as a
    # video link and refused as not an account, while `@youtu.be` is a handle.
    .filter(lambda h: h.casefold() not in {"youtu.be", "youtube.com", "m.youtube.com"})
)
_zalo_phones = st.builds(
    lambda prefix, n, spaced: f"{prefix}{n[:3]} {n[3:6]} {n[6:]}" if spaced else f"{prefix}{n}",
    st.sampled_from(["0", "84", "+84", "+84 ", "0084", "+840"]),
    st.from_regex(r"[35789][0-9]{8}", fullmatch=True),
    st.booleans(),
)

HANDLES: dict[str, st.SearchStrategy[str]] = {
    "facebook": _fb_usernames,
    "youtube": st.one_of(
        _yt_handles,
        _yt_handles.map(lambda h: "@" + h),
        st.from_regex(r"UC[A-Za-z0-9_\-]{21}[AQgw]", fullmatch=True),
    ),
    "tiktok": st.from_regex(r"@?[A-Za-z0-9_.]{2,24}", fullmatch=True).filter(_not_only_dots),
    "instagram": st.from_regex(r"@?[A-Za-z0-9_.]{1,30}", fullmatch=True)
    .filter(_not_only_dots)
    .filter(_not_reserved(IG_RESERVED | {"p", "tv", "reel", "reels", "_u"})),
    "threads": st.from_regex(r"@?[A-Za-z0-9_.]{1,30}", fullmatch=True).filter(_not_only_dots),
    "x": st.from_regex(r"@?[A-Za-z0-9_]{1,15}", fullmatch=True).filter(_not_reserved(X_RESERVED)),
    "telegram": st.from_regex(r"@?[A-Za-z0-9_]{5,32}", fullmatch=True).filter(
        _not_reserved(TG_RESERVED)
    ),
    "zalo": st.one_of(_zalo_phones, st.from_regex(r"[1-9][0-9]{14,19}", fullmatch=True)),
}


@pytest.mark.parametrize("platform", sorted(HANDLES))
@settings(max_examples=budget(150), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_valid_handles_round_trip_through_their_url(platform: str, data: st.DataObject) -> None:
    handle = data.draw(HANDLES[platform], label="handle")
    first = canonicalize(platform, handle)
    assert first.platform == platform
    assert first.key.startswith(f"{platform}:")
    again = canonicalize(platform, first.url)
    assert again == first
    assert canonicalize(None, first.url) == first
    assert canonicalize(platform, again.url) == first


_URLISH = "abcxyzABQgwUC019.:/?#@%+-_~=&!$'()*,;[] \u00e9\u1ec5"
_PREFIXES = [
    "",
    "https://",
    "http://www.",
    "//",
    "facebook.com/",
    "https://m.facebook.com/profile.php?id=",
    "https://www.facebook.com/groups/",
    "https://www.youtube.com/",
    "youtube.com/@",
    "https://www.tiktok.com/@",
    "vm.tiktok.com/",
    "zalo.me/",
    "https://instagram.com/",
    "x.com/",
    "t.me/",
    "t.me/+",
    "threads.net/@",
    "linkedin.com/in/",
    "https://example.vn/",
    "javascript:",
]
_values = st.one_of(
    st.text(max_size=200),
    st.builds(str.__add__, st.sampled_from(_PREFIXES), st.text(max_size=80)),
    st.builds(str.__add__, st.sampled_from(_PREFIXES), st.text(alphabet=_URLISH, max_size=80)),
)
_platforms = st.one_of(st.none(), st.sampled_from(sorted(PLATFORMS)), st.text(max_size=10))


@settings(max_examples=budget(1500), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(platform=_platforms, value=_values)
def test_any_text_gives_a_canonical_or_invalid_account_url(
    platform: str | None, value: str
) -> None:
    result: Canonical | InvalidAccountUrl
    try:
        result = canonicalize(platform, value)
    except InvalidAccountUrl as error:  # any other exception fails the test
        result = error
    if isinstance(result, InvalidAccountUrl):
        assert result.detail_en
        assert result.detail_vi
        return
    # Whatever is accepted is a fixed point.
    assert canonicalize(result.platform, result.url) == result


@st.composite
def _facebook_variants(draw: st.DrawFn) -> tuple[str, str]:
    base = draw(st.from_regex(r"[a-z][a-z0-9]{4,30}", fullmatch=True))
    assume(base not in FB_RESERVED)
    chars = []
    for char in base:
        chars.append(char.upper() if draw(st.booleans()) else char)
        if draw(st.integers(0, 4)) == 0:
            chars.append(".")
    variant = "".join(chars)
    assume(len(variant) <= 50)
    form = draw(
        st.sampled_from(
            [
                "{u}",
                "@{u}",
                "https://www.facebook.com/{u}",
                "https://m.facebook.com/{u}/?mibextid=abc",
                "mbasic.facebook.com/{u}",
                "fb.com/{u}/about",
            ]
        )
    )
    return base, form.format(u=variant)


@settings(max_examples=budget(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_facebook_variants())
def test_facebook_case_and_dot_variants_are_one_account(case: tuple[str, str]) -> None:
    base, variant = case
    assert canonicalize("facebook", variant).key == canonicalize("facebook", base).key
    assert canonicalize("facebook", variant).key == f"facebook:user:{base}"


# --- one normaliser per value, whatever the entrance (issue 20) ---------------------------

_ACCOUNT_URL = field_adapter(AccountCreate, "url")
_REPORT_URL = field_adapter(ReportCreate, "url")
_EDGE_BLANKS = st.text(st.sampled_from(list(" \t\n\r\xa0\u2028\u3000\u200b\ufeff")), max_size=3)


@settings(max_examples=budget(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    platform=st.sampled_from(sorted(HANDLES)),
    data=st.data(),
    before=_EDGE_BLANKS,
    after=_EDGE_BLANKS,
)
@example(platform="facebook", data=None, before="\xa0", after="\n")
def test_an_account_link_names_one_account_whether_declared_or_reported(
    platform: str, data: st.DataObject | None, before: str, after: str
) -> None:
    """A member declares an account through `POST /members/{id}/accounts`; a report
    of the same link (padded with blanks as a paste leaves them) must name the same
    account, or the report is not linked to its subject member."""
    handle = "Nguyen.Van.An" if data is None else data.draw(HANDLES[platform], label="handle")
    url = canonicalize(platform, handle).url
    padded = before + url + after
    try:
        declared: str | None = canonicalize(None, _ACCOUNT_URL.validate_python(padded)).key
    except InvalidAccountUrl:
        declared = None  # refused (e.g. a zero-width mark): the report must refuse it too
    try:
        reported = canonical_content(None, _REPORT_URL.validate_python(padded)).account_key
    except InvalidAccountUrl:
        reported = None
    assert reported == declared
    if not (before + after).strip(" \t\n\r\xa0\u2028\u3000"):
        assert declared == canonicalize(platform, handle).key
