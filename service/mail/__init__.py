"""Email: the transactional outbox, rendering in the reader's language, SMTP sending and the sandbox mailbox."""
