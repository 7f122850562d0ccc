"""Prometheus metrics for webhook intake and processing (exposed with the rest at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS_RECEIVED = Counter(
    "goodloop_webhooks_received_total",
    "Verified webhook deliveries by endpoint and outcome",
    ["endpoint", "outcome"],
)
WEBHOOK_BACKLOG = Gauge(
    "goodloop_webhook_backlog", "Stored events not processed yet (excluding dead letters)"
)
WEBHOOK_DEAD_LETTERS = Gauge("goodloop_webhook_dead_letters", "Events that exhausted their attempts")
WEBHOOK_LAG = Histogram(
    "goodloop_webhook_processing_lag_seconds",
    "Time from receipt to processed",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0),
)
WEBHOOK_FAILURES = Counter(
    "goodloop_webhook_failures_total", "Failed processing attempts by event type and kind", ["type", "kind"]
)
INTAKE_BATCHES = Counter(
    "goodloop_webhook_intake_batches_total", "Group commits of the webhook intake (one statement, one commit)"
)
INTAKE_BATCH_ROWS = Counter(
    "goodloop_webhook_intake_batch_rows_total",
    "Distinct events written by the intake's group commits (rows per batch = this / batches)",
)
