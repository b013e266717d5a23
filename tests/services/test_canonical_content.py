"""canonical_content(): the canonical form of a link to reported content (a post, video,
page or site) that recognises two reports of the same thing, and the account it names or
was posted on."""

from __future__ import annotations

import pytest

from api.services.canonical import InvalidAccountUrl, canonical_content

FB_POST = "https://www.facebook.com/some.page/posts/1234567890"
# The username part of a post link is put in its keyed form (case and dots dropped).
FB_POST_CANONICAL = "https://www.facebook.com/somepage/posts/1234567890"

# (platform, value) -> (platform, canonical url, account key)
VALID: list[tuple[str | None, str, tuple[str, str, str | None]]] = [
    # --- Facebook posts: host aliases and tracking parameters collapse
    (None, FB_POST, ("facebook", FB_POST_CANONICAL, "facebook:user:somepage")),
    (
        None,
        "https://m.facebook.com/some.page/posts/1234567890?fbclid=IwAR0&__tn__=R",
        ("facebook", FB_POST_CANONICAL, "facebook:user:somepage"),
    ),
    (
        "facebook",
        "http://mbasic.facebook.com/some.page/posts/1234567890/?mibextid=x#c",
        ("facebook", FB_POST_CANONICAL, "facebook:user:somepage"),
    ),
    (
        "FACEBOOK",
        "  facebook.com/some.page/posts/1234567890  ",
        ("facebook", FB_POST_CANONICAL, "facebook:user:somepage"),
    ),
    (
        None,
        "https://vi-vn.facebook.com/some.page/posts/1234567890?utm_source=zalo&ref=share",
        ("facebook", FB_POST_CANONICAL, "facebook:user:somepage"),
    ),
    (
        None,
        "https://www.facebook.com/some.page/posts/1?fbclid=A&story_fbid=9",
        (
            "facebook",
            "https://www.facebook.com/somepage/posts/1?story_fbid=9",
            "facebook:user:somepage",
        ),
    ),
    # identifying parameters are kept, sorted; the owner is read from ?id=
    (
        None,
        "https://www.facebook.com/permalink.php?story_fbid=42&id=100012345678901&fbclid=x",
        (
            "facebook",
            "https://www.facebook.com/permalink.php?id=100012345678901&story_fbid=42",
            "facebook:profile:100012345678901",
        ),
    ),
    (
        None,
        "https://www.facebook.com/photo.php?fbid=123&set=a.1&type=3",
        ("facebook", "https://www.facebook.com/photo.php?fbid=123&set=a.1", None),
    ),
    (
        None,
        "https://www.facebook.com/watch?v=123456&ref=share",
        ("facebook", "https://www.facebook.com/watch?v=123456", None),
    ),
    (None, "https://fb.watch/abcDEF/", ("facebook", "https://www.facebook.com/watch/abcDEF", None)),
    (
        None,
        "https://www.facebook.com/groups/123/permalink/456/?mibextid=x",
        ("facebook", "https://www.facebook.com/groups/123/permalink/456", None),
    ),
    # an account link itself (a fake page) is its account's canonical url
    (
        None,
        "https://www.facebook.com/Nguyen.Van.An?ref=bookmarks",
        ("facebook", "https://www.facebook.com/nguyenvanan", "facebook:user:nguyenvanan"),
    ),
    (
        None,
        "https://www.facebook.com/profile.php?id=100012345678901",
        (
            "facebook",
            "https://www.facebook.com/profile.php?id=100012345678901",
            "facebook:profile:100012345678901",
        ),
    ),
    # --- YouTube
    (
        None,
        "https://youtu.be/dQw4w9WgXcQ?si=xyz&t=10",
        ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
    ),
    (
        None,
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&list=PL1",
        ("youtube", "https://www.youtube.com/watch?list=PL1&v=dQw4w9WgXcQ", None),
    ),
    (
        None,
        "https://www.youtube.com/shorts/abc123?feature=share",
        ("youtube", "https://www.youtube.com/shorts/abc123", None),
    ),
    (
        None,
        "https://www.youtube.com/@SonTungMTP",
        ("youtube", "https://www.youtube.com/@sontungmtp", "youtube:handle:sontungmtp"),
    ),
    # --- TikTok, X, Telegram, Threads, Instagram, LinkedIn, Zalo
    (
        None,
        "https://www.tiktok.com/@some.user/video/7234567890123456789?is_from_webapp=1&sender_device=pc",
        (
            "tiktok",
            "https://www.tiktok.com/@some.user/video/7234567890123456789",
            "tiktok:handle:some.user",
        ),
    ),
    (
        None,
        "https://twitter.com/VTVDigital/status/1234567890?s=20&t=abc",
        ("x", "https://x.com/VTVDigital/status/1234567890", "x:handle:vtvdigital"),
    ),
    (
        "x",
        "https://mobile.twitter.com/vtvdigital/status/1",
        ("x", "https://x.com/vtvdigital/status/1", "x:handle:vtvdigital"),
    ),
    (
        None,
        "https://t.me/durov/123",
        ("telegram", "https://t.me/durov/123", "telegram:handle:durov"),
    ),
    (
        None,
        "https://www.threads.net/@someone/post/abc",
        ("threads", "https://www.threads.com/@someone/post/abc", "threads:handle:someone"),
    ),
    (
        None,
        "https://www.instagram.com/p/Cabc123/?igshid=xyz",
        ("instagram", "https://www.instagram.com/p/Cabc123", None),
    ),
    (
        None,
        "https://www.linkedin.com/posts/someone_activity-123",
        ("linkedin", "https://www.linkedin.com/posts/someone_activity-123", None),
    ),
    (
        None,
        "https://zalo.me/0912345678",
        ("zalo", "https://zalo.me/0912345678", "zalo:phone:+84912345678"),
    ),
    # --- websites: www. dropped, tracking dropped, other parameters kept and sorted; the
    #     account key is the site key a member could have declared (host and path)
    (
        None,
        "https://www.example.com/tin-tuc/bai-viet?id=5&utm_source=fb#top",
        (
            "website",
            "https://example.com/tin-tuc/bai-viet?id=5",
            "website:example.com/tin-tuc/bai-viet",
        ),
    ),
    (
        None,
        "http://Example.COM:8080/a/b/",
        ("website", "https://example.com:8080/a/b", "website:example.com:8080/a/b"),
    ),
    (
        None,
        "https://example.com:443/a",
        ("website", "https://example.com/a", "website:example.com/a"),
    ),
    (
        None,
        "https://example.com/?b=2&a=1&gclid=x",
        ("website", "https://example.com?a=1&b=2", "website:example.com"),
    ),
    (
        None,
        "https://bücher.de/ä?q=ü",
        ("website", "https://xn--bcher-kva.de/%C3%A4?q=%C3%BC", "website:xn--bcher-kva.de/%C3%A4"),
    ),
    (
        "other",
        "https://baomoi.vn/x.html",
        ("other", "https://baomoi.vn/x.html", "other:baomoi.vn/x.html"),
    ),
    (
        "website",
        "https://baomoi.vn/tin/x.html?utm_medium=s",
        ("website", "https://baomoi.vn/tin/x.html", "website:baomoi.vn/tin/x.html"),
    ),
]

INVALID: list[tuple[str | None, str]] = [
    (None, ""),
    (None, "   "),
    (None, "javascript:alert(1)"),
    (None, "data:text/html,hi"),
    (None, "ftp://example.com/x"),
    (None, "fb://profile/1"),
    (None, "http://127.0.0.1/x"),
    (None, "http://[::1]/x"),
    (None, "http://localhost/x"),
    (None, "https://intranet.local/x"),
    (None, "https://example/x"),
    (None, "https://user:pw@example.com/x"),
    (None, "https://exa mple.com/x"),
    (None, "https://example.com/a\x00b"),
    (None, "https://" + "a" * 2050 + ".com/x"),
    ("youtube", "https://www.facebook.com/x/posts/1"),  # platform mismatch
    ("facebook", "https://www.example.com/a"),  # not a Facebook host
    ("website", "https://www.facebook.com/x/posts/1"),  # a platform host as a website
    ("myspace", "https://example.com/x"),  # unknown platform
    (None, "@someone"),  # bare handles name no content
    (None, "someone"),
    (None, "https://www.facebook.com/"),  # home pages name no content
    (None, "https://www.facebook.com"),
    ("facebook", "https://m.facebook.com/?ref=home"),
    (None, "https://www.youtube.com/"),
    (None, "https://youtu.be/"),
    (None, "https://fb.watch/"),
]


@pytest.mark.parametrize(("platform", "value", "expected"), VALID)
def test_canonical_form(
    platform: str | None, value: str, expected: tuple[str, str, str | None]
) -> None:
    link = canonical_content(platform, value)
    assert (link.platform, link.url, link.account_key) == expected


@pytest.mark.parametrize(("platform", "value", "expected"), VALID)
def test_canonical_form_is_a_fixed_point(
    platform: str | None, value: str, expected: tuple[str, str, str | None]
) -> None:
    link = canonical_content(platform, value)
    again = canonical_content(platform, link.url)
    assert (again.platform, again.url, again.account_key) == expected


@pytest.mark.parametrize(("platform", "value"), INVALID)
def test_invalid_links_raise(platform: str | None, value: str) -> None:
    with pytest.raises(InvalidAccountUrl) as info:
        canonical_content(platform, value)
    assert info.value.detail_en
    assert info.value.detail_vi
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("handle", ["@some.user", "some.user", "SomeUser"])
def test_bare_handle_with_a_platform_raises(handle: str) -> None:
    with pytest.raises(InvalidAccountUrl):
        canonical_content("facebook", handle)


def test_platform_host_with_a_port_raises() -> None:
    with pytest.raises(InvalidAccountUrl):
        canonical_content(None, "https://www.facebook.com:8443/x/posts/1")


def test_redirect_links_keep_their_target() -> None:
    one = canonical_content(None, "https://l.facebook.com/l.php?u=https%3A%2F%2Fscam-one.com%2F")
    two = canonical_content(None, "https://l.facebook.com/l.php?u=https%3A%2F%2Fother.net%2Fx")
    assert one.url != two.url


@pytest.mark.parametrize("platform", ["website", "other"])
def test_website_query_identifies_the_content_whatever_the_platform(platform: str) -> None:
    five = canonical_content(platform, "https://example.com/tin?id=5")
    six = canonical_content(platform, "https://example.com/tin?id=6")
    assert five.url != six.url
    assert five.url == canonical_content(None, "https://example.com/tin?id=5").url
