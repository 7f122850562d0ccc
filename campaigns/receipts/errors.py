"""Errors of the receipts domain, each with a stable code."""

from __future__ import annotations

from service.errors import NotFound


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
