"""The donor portal: one-time sign-in by email, gifts across nonprofits, receipts, recurring gifts."""
