"""The app's log lines as JSON, for tests that check what an outage or a refused body logs."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from service.logging import configure_logging

Logs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Logs]:
    """The app's log lines as JSON, each read once (a stream of the test's own)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stderr", stream)
        configure_logging(json=True)
    read_up_to = 0

    def read() -> list[dict[str, Any]]:
        nonlocal read_up_to
        text = stream.getvalue()
        fresh, read_up_to = text[read_up_to:], len(text)
        return [json.loads(line) for line in fresh.splitlines() if line.startswith("{")]

    yield read
    root.handlers[:], root.level = saved
    structlog.reset_defaults()
