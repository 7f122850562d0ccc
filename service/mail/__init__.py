"""Email: the transactional outbox, rendering in the reader's language, SMTP sending, the sandbox mailbox."""
