"""Background jobs: declarations, the outbox relay, running them, admin views."""
