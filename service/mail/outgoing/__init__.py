"""Mail out: who hears what (notices), composing, sending."""
