"""Notifications: the emails nonprofit members and admins get (new gifts, digests, payouts,
match decisions, invitations, password resets)."""
