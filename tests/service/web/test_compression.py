"""service/web/compression.py: which requests take gzip (RFC 9110, 12.5.3), and gzip that gives
the same bytes for the same page in every process."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.web import compression


@pytest.mark.parametrize(
    ("accept_encoding", "takes_gzip"),
    [
        ("gzip, deflate, br, zstd", True),  # Chromium
        ("gzip, deflate, br", True),  # Firefox, Safari
        ("gzip", True),
        ("GZip", True),
        ("x-gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip; q=1.000", True),
        ("gzip;q=0.001", True),
        ("*", True),
        ("deflate, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*, gzip;q=0", False),  # named beats the wildcard
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("br, deflate", False),
        ("identity", False),
        ("", False),
        (None, False),
        ("gzip;q=2", False),  # a weight that cannot be read: identity, always acceptable
        ("gzip;q=0.5000", False),
        ("gzip;q=abc", False),
        ("gzipped", False),
    ],
)
def test_which_requests_take_gzip(accept_encoding: str | None, takes_gzip: bool) -> None:
    assert compression.accepts_gzip(accept_encoding) is takes_gzip


@given(st.binary(min_size=compression.MIN_SIZE, max_size=20_000))
def test_compressing_gives_the_body_back_and_the_same_bytes_every_time(body: bytes) -> None:
    compressed = compression.compress(body)

    assert gzip.decompress(compressed) == body
    assert compression.compress(body) == compressed
    # No timestamp (RFC 1952 MTIME, bytes 4 to 7): another process compresses it alike.
    assert compressed[4:8] == b"\0\0\0\0"


def test_only_bodies_worth_it_are_compressed() -> None:
    assert not compression.worth_compressing(b"x" * (compression.MIN_SIZE - 1))
    assert compression.worth_compressing(b"x" * compression.MIN_SIZE)
