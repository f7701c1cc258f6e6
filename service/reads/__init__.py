"""Reads: lists and pages (``listing``), one thing by its key with a field-named error (``lookup``), and values kept per process (``process_cache``)."""
