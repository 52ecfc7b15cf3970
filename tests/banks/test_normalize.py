from __future__ import annotations

import pytest

from vigil.banks.normalize import (
    NormaliseError,
    extract_urls,
    normalise_domain,
    normalise_entry,
    normalise_text,
    normalise_url,
    url_domains,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTP://WWW.Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag",
            "https://example.com/a/b?a=1&b=2",
        ),
        ("https://example.com", "https://example.com/"),
        ("www.example.com/path/", "https://example.com/path"),
        ("https://example.com:8443/x?fbclid=abc", "https://example.com:8443/x"),
        ("https://bücher.example/%7Euser", "https://xn--bcher-kva.example/~user"),
    ],
)
def test_normalise_url(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("bad", ["ftp://example.com/x", "not a url", "https://"])
def test_normalise_url_rejects(bad: str) -> None:
    with pytest.raises(NormaliseError):
        normalise_url(bad)


def test_url_domains_lists_parents() -> None:
    assert url_domains("https://a.b.example.com/x") == [
        "a.b.example.com",
        "b.example.com",
        "example.com",
    ]


def test_domain_and_text_normalisation() -> None:
    assert normalise_domain("https://WWW.Spam.Example/path") == "spam.example"
    assert normalise_text("  \uff32ed\tHAND  front ") == "red hand front"


def test_extract_urls_strips_trailing_punctuation() -> None:
    text = "see (https://example.com/a), and www.example.org/b."
    assert extract_urls(text) == ["https://example.com/a", "www.example.org/b"]


def test_hash_entries_are_validated() -> None:
    assert (
        normalise_entry("md5", "D41D8CD98F00B204E9800998ECF8427E")
        == "d41d8cd98f00b204e9800998ecf8427e"
    )
    with pytest.raises(NormaliseError, match="32 hex digits"):
        normalise_entry("md5", "xyz")
    with pytest.raises(NormaliseError, match="64 hex digits"):
        normalise_entry("sha256", "ab" * 31)
