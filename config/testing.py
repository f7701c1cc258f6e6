"""Settings for the test suite (point KEFU_SETTINGS here or pass as test_config)."""

TESTING = True
SECRET_KEY = "test-secret-key-not-for-production"
PUBLIC_RATE_LIMIT = "1000 per minute"
AUTO_CLOSE_DAYS = 7
