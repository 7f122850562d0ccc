"""Structured logs: one JSON (or console) line per event, with the request id bound in."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class LineWriter:
    """structlog's final logger: writes each rendered line to the stdlib handler's stream.

    Our own lines (one access line per request) skip the stdlib machinery (a LogRecord, the
    handler chain, a second pass through the processors) and cost a fraction of it; the
    handler's lock keeps them whole beside lines that uvicorn and alembic log through it.
    """

    def __init__(self, name: str, handler: logging.StreamHandler[TextIO]) -> None:
        self.name = name
        self._handler = handler

    def msg(self, line: str) -> None:
        handler = self._handler
        handler.acquire()
        try:
            handler.stream.write(line + "\n")
            handler.stream.flush()
        finally:
            handler.release()

    debug = info = warning = error = critical = msg


class LineWriterFactory:
    def __init__(self, handler: logging.StreamHandler[TextIO]) -> None:
        self._handler = handler
        self._writers: dict[str, LineWriter] = {}

    def __call__(self, *args: Any) -> LineWriter:
        name = str(args[0]) if args else "goodloop"
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = LineWriter(name, self._handler)
        return writer


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    """Write structlog and stdlib logging (uvicorn, alembic) as one format to one stream.

    contextvars carry the request id, so every line logged while serving a request has it,
    whichever library wrote it.
    """
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED_PROCESSORS,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.processors.format_exc_info, renderer],
        logger_factory=LineWriterFactory(handler),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Module-level loggers are created before configuration runs; caching would pin them.
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Our middleware writes the access line (with the request id); uvicorn's would lack it.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
