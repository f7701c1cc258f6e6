"""Example production settings: copy, edit, and name the copy in KEFU_SETTINGS.

Secrets are better given as environment variables (KEFU_SECRET_KEY,
KEFU_DATABASE_URL, KEFU_REDIS_URL) than written here.
"""

DATABASE_URL = "postgresql+psycopg://kefu@127.0.0.1:5432/kefu"
REDIS_URL = "redis://127.0.0.1:6379/0"
RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/1"
SESSION_COOKIE_SECURE = True
# One reverse proxy (nginx) in front, setting X-Forwarded-For and -Proto.
PROXY_FIX_X_FOR = 1
PROXY_FIX_X_PROTO = 1
PREFERRED_URL_SCHEME = "https"
