"""Receipts: a numbered, tax-ready receipt for every confirmed gift, its PDF, corrections, statements."""
