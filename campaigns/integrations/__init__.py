"""Integrations: signed outbound webhooks to the nonprofit's own systems."""
