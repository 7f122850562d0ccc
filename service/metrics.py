"""Prometheus metrics shared by the process; exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "goodloop_http_requests_total",
    "HTTP requests by route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "goodloop_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WORKER_JOB_RUNS = Counter(
    "goodloop_worker_job_runs_total", "Worker job runs by job and outcome", ["job", "outcome"]
)
RATE_LIMITED = Counter("goodloop_rate_limited_total", "Requests refused by a rate limit", ["limit"])
DB_RETRIES = Counter(
    "goodloop_db_retries_total",
    "Units of work run again after PostgreSQL aborted them (deadlock, serialization failure)",
    ["unit", "reason"],
)

# `.labels()` validates and stringifies its arguments and takes a lock on every call; the
# children never change, so each (method, route, status) looks them up once.
_HTTP_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one HTTP request and its latency under its route template."""
    key = (method, route, status)
    children = _HTTP_CHILDREN.get(key)
    if children is None:
        children = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route))
        _HTTP_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def render_latest() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
