"""Mail in: SMTP listener, IMAP poller, and turning a raw mail into a ticket or message."""
