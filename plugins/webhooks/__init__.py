"""Signed webhooks (builtin plugin): in progress."""
