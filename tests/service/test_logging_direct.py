"""service.logging's Logger writes an info line itself while structlog is configured as
configure_logging left it (the access line, on every request): the line must be the one
structlog's own bound logger writes, and any other configuration must still be followed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from service.logging import REQUEST_ID, configure_logging, get_logger


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], root.level = saved
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def without_timestamp(line: str) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(line)
    assert fields.pop("timestamp").endswith("Z")
    return fields


@pytest.mark.usefixtures("restore_logging")
def test_an_info_line_is_the_one_structlogs_bound_logger_writes(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    structlog.contextvars.bind_contextvars(tenant="np_1")
    token = REQUEST_ID.set("0123456789abcdef")
    fields = {"method": "GET", "path": "/c/x", "route": "/c/{slug:str}", "status": 200, "duration_ms": 0.04}
    try:
        get_logger("goodloop.http").info("request", **fields)
        structlog.get_logger("goodloop.http").info("request", **fields)
    finally:
        REQUEST_ID.reset(token)

    ours, structlogs = capsys.readouterr().err.splitlines()
    assert list(json.loads(ours)) == list(json.loads(structlogs)), "same fields in the same order"
    assert without_timestamp(ours) == without_timestamp(structlogs)
    assert without_timestamp(ours)["request_id"] == "0123456789abcdef"


@pytest.mark.usefixtures("restore_logging")
def test_a_level_above_info_drops_it_and_another_configuration_is_followed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = get_logger("goodloop.http")
    configure_logging(json=True, level=logging.WARNING)
    log.info("dropped")
    configure_logging(json=True)
    log.info("written")
    with capture_logs() as captured:
        log.info("captured", status=200)

    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["written"]
    assert captured == [{"event": "captured", "status": 200, "log_level": "info"}]
