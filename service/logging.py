"""Structured logs: one JSON (or console) line per event, with the request id bound in.

Every request writes an access line, so the path of a line is kept short: loggers keep their
bound structlog logger between calls, the standard fields are added by one processor, and a
line goes straight to the handler's stream instead of through a stdlib LogRecord. Lines from
other libraries (uvicorn, alembic) take the stdlib route through the same processors.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from structlog.contextvars import merge_contextvars
from structlog.typing import EventDict, FilteringBoundLogger, WrappedLogger

_LEVEL_NAMES = {"warn": "warning", "exception": "error"}

# The id of the request being served, on every line logged while serving it. One ContextVar
# of our own: structlog's bind_contextvars/reset_contextvars cost more than the rest of the
# request's bookkeeping together.
REQUEST_ID: ContextVar[str | None] = ContextVar("goodloop_request_id", default=None)


def add_standard_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """The request id, then structlog's merge_contextvars, add_log_level, add_logger_name and
    an ISO UTC TimeStamper, as one processor."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    merge_contextvars(logger, method_name, event_dict)
    event_dict["level"] = _LEVEL_NAMES.get(method_name, method_name)
    record = event_dict.get("_record")
    event_dict["logger"] = record.name if record is not None else logger.name
    event_dict["timestamp"] = iso_utc_now()
    return event_dict


_second_and_prefix: tuple[int, str] = (-1, "")


def iso_utc_now() -> str:
    return iso_utc(time.time_ns())


def iso_utc(epoch_ns: int) -> str:
    """What `datetime.isoformat()` writes for this UTC instant, with Z; the date and time of
    day are formatted once per second."""
    global _second_and_prefix
    second, nanos = divmod(epoch_ns, 1_000_000_000)
    cached_second, prefix = _second_and_prefix
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_and_prefix = (second, prefix)
    micros = nanos // 1000
    return f"{prefix}.{micros:06d}Z" if micros else f"{prefix}Z"


def _json_default(value: Any) -> Any:
    # What structlog's JSONRenderer does with values json cannot encode.
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


_encoder = json.JSONEncoder(default=_json_default)
# json.dumps builds an encoder on every call; the C one is built once here, with the
# arguments JSONEncoder.iterencode gives it (same output, minus the circular-reference check).
_c_make_encoder: Callable[..., Callable[[Any, int], Iterable[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_c_encode = (
    _c_make_encoder(
        None, _json_default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    if _c_make_encoder is not None
    else None
)


def render_json(value: Any, **_: Any) -> str:
    if _c_encode is None or not isinstance(value, dict):
        return _encoder.encode(value)
    return "".join(_c_encode(value, 0))


class LineWriter:
    """structlog's final logger: writes each rendered line to the stdlib handler's stream,
    under the handler's lock so lines stay whole beside the ones logged through it."""

    def __init__(self, name: str, handler: logging.StreamHandler[TextIO]) -> None:
        self.name = name
        self._handler = handler

    def msg(self, line: str) -> None:
        handler = self._handler
        handler.acquire()
        try:
            handler.stream.write(line + "\n")
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


# A logger whose structlog configuration is still the one configure_logging installed may run
# that configuration's processors itself and hand the line to its LineWriter: the filtering
# bound logger would do the same (a copy of its empty context, the event under "event", the
# chain, DropEvent dropping the line, the rendered string to the writer's method) through
# three more calls per line. (processors, writer, level at or above which lines are written.)
_Direct = tuple[list[Any], LineWriter, int]
_standard: tuple[list[Any], LineWriterFactory, object, int] | None = None


class Logger:
    """A named logger that follows structlog's current configuration.

    structlog's lazy proxy (what `structlog.get_logger` returns) assembles a new bound logger
    on every call; this one keeps the logger it assembled until structlog is configured again
    (`configure_logging`, or `structlog.reset_defaults` in tests).
    """

    __slots__ = ("_bound", "_config", "_direct", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._bound: FilteringBoundLogger | None = None
        self._config: tuple[object, object, object] = (None, None, None)
        self._direct: _Direct | None = None

    def _logger(self) -> FilteringBoundLogger:
        config = structlog.get_config()
        processors, factory, wrapper = config["processors"], config["logger_factory"], config["wrapper_class"]
        bound = self._bound
        if bound is None or self._config != (processors, factory, wrapper):
            bound = self._bound = structlog.get_logger(self.name).bind()
            self._config = (processors, factory, wrapper)
            self._direct = None
            writer = getattr(bound, "_logger", None)
            standard = _standard
            if standard is not None and standard[:3] == self._config and isinstance(writer, LineWriter):
                self._direct = (processors, writer, standard[3])
        return bound

    def debug(self, event: str, *args: Any, **kw: Any) -> Any:
        return self._logger().debug(event, *args, **kw)

    def info(self, event: str, *args: Any, **kw: Any) -> Any:
        bound = self._logger()
        direct = self._direct
        if direct is None or args:
            return bound.info(event, *args, **kw)
        # Every request writes one: what the bound logger does (see _Direct), without it.
        processors, writer, min_level = direct
        if min_level > logging.INFO:
            return None
        event_dict: Any = kw
        event_dict["event"] = event
        try:
            for processor in processors:
                event_dict = processor(writer, "info", event_dict)
        except structlog.DropEvent:
            return None
        writer.msg(event_dict)
        return None

    def warning(self, event: str, *args: Any, **kw: Any) -> Any:
        return self._logger().warning(event, *args, **kw)

    def error(self, event: str, *args: Any, **kw: Any) -> Any:
        return self._logger().error(event, *args, **kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> Any:
        return self._logger().exception(event, *args, **kw)

    def critical(self, event: str, *args: Any, **kw: Any) -> Any:
        return self._logger().critical(event, *args, **kw)


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    """Write structlog and stdlib logging (uvicorn, alembic) as one format to one stream.

    contextvars carry the request id, so every line logged while serving a request has it,
    whichever library wrote it.
    """
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=render_json)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[add_standard_fields],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    global _standard
    processors: list[structlog.typing.Processor] = [
        add_standard_fields,
        structlog.processors.format_exc_info,
        renderer,
    ]
    factory = LineWriterFactory(handler)
    wrapper = structlog.make_filtering_bound_logger(level)
    structlog.configure(
        processors=processors, logger_factory=factory, wrapper_class=wrapper, cache_logger_on_first_use=False
    )
    _standard = (processors, factory, wrapper, level)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Our middleware writes the access line (with the request id); uvicorn's would lack it.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> Logger:
    return Logger(name)


def loggable_path(path: str, route: str) -> str:
    """The path for a log line: its route template where a segment is a one-time secret.

    Sign-in, password reset, invitation and card links carry their token in the path, and log
    files are read by more people than the mailbox the link went to: such a path is logged as its
    template (`/donor/sign-in/{token}`).
    """
    return route if "{token" in route else path
