from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from service.logging import configure_logging, get_logger, iso_utc, render_json


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], root.level = saved
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=10,
)


class TestRenderJson:
    @given(st.dictionaries(st.text(), json_values | st.just(Opaque()), max_size=8))
    def test_writes_what_json_dumps_writes(self, event: dict[str, Any]) -> None:
        assert render_json(event) == json.dumps(event, default=repr)


class TestIsoUtc:
    @given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9))
    def test_writes_what_datetime_isoformat_writes(self, epoch_ns: int) -> None:
        second, nanos = divmod(epoch_ns, 10**9)
        instant = datetime.fromtimestamp(second, UTC).replace(microsecond=nanos // 1000)

        assert iso_utc(epoch_ns) == instant.isoformat().replace("+00:00", "Z")


class TestLogger:
    @pytest.mark.usefixtures("restore_logging")
    def test_a_line_carries_the_standard_fields_and_bound_context(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(json=True)
        structlog.contextvars.bind_contextvars(request_id="req-12345678")

        get_logger("goodloop.test").info("request", status=200, duration_ms=1.5)
        logging.getLogger("uvicorn.error").warning("from the standard library")

        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        ours, theirs = lines
        assert ours["event"] == "request" and ours["status"] == 200 and ours["duration_ms"] == 1.5
        assert (ours["level"], ours["logger"]) == ("info", "goodloop.test")
        assert (theirs["level"], theirs["logger"]) == ("warning", "uvicorn.error")
        assert ours["request_id"] == theirs["request_id"] == "req-12345678"
        for line in lines:
            assert datetime.fromisoformat(line["timestamp"]).tzinfo == UTC

    @pytest.mark.usefixtures("restore_logging")
    def test_a_logger_made_before_configuration_follows_it(self, capsys: pytest.CaptureFixture[str]) -> None:
        log = get_logger("goodloop.test")
        log.info("before")
        configure_logging(json=True)
        log.info("json")
        configure_logging(json=False, level=logging.WARNING)
        log.info("filtered")
        log.warning("console")

        err = capsys.readouterr().err.splitlines()
        assert json.loads(err[0])["event"] == "json"
        assert len(err) == 2 and "console" in err[1] and not err[1].startswith("{")
