"""The core's default settings.

Loaded first by ``service.settings.load_settings``; then the file named by
``KEFU_SETTINGS``, then ``KEFU_<KEY>`` environment variables, then a test's
overrides. Only UPPER_CASE names are settings. Plugins declare their own
settings, with defaults and validation, through ``register_settings``
(``kefu plugins --check`` lists them with their values).
"""

# Embedded default: a SQLite file in the instance folder. ``{instance}`` is
# replaced by the app's instance path when the settings are loaded.
DATABASE_URL = "sqlite:///{instance}/kefu.db"

# Signs tracking tokens and sessions. None: a random one is written to
# instance/secret_key on first start (one machine only; with REDIS_URL set,
# give every node the same key in KEFU_SECRET_KEY).
SECRET_KEY = None

# Largest request body, bytes (413 above it).
MAX_CONTENT_LENGTH = 10 * 1024 * 1024

# Attachments: stored outside the database (docs/attachments.md). Where:
# "local" keeps them under ATTACHMENT_DIR, which only this machine sees;
# "s3" keeps them in an S3-compatible bucket that every node shares (needs
# the s3 extra: pip install 'kefu[s3]').
ATTACHMENT_STORAGE = "local"
ATTACHMENT_DIR = "{instance}/attachments"
# The bucket (required with "s3") and the prefix of every object's key.
ATTACHMENT_S3_BUCKET = None
ATTACHMENT_S3_PREFIX = "attachments/"
# Another store than AWS (MinIO, Ceph, ...): its URL, e.g. "http://minio:9000".
# None means AWS S3 in ATTACHMENT_S3_REGION.
ATTACHMENT_S3_ENDPOINT_URL = None
ATTACHMENT_S3_REGION = "us-east-1"
# None takes boto3's usual credential chain (AWS_* environment variables,
# ~/.aws, an instance role); set both to give the keys here instead.
ATTACHMENT_S3_ACCESS_KEY_ID = None
ATTACHMENT_S3_SECRET_ACCESS_KEY = None
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = [
    "image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain",
    "text/csv", "application/zip",
]

# Prefix of human ticket numbers, e.g. KF-000123.
TICKET_PREFIX = "KF"

# A resolution rejected later than this many days after it was given opens a
# linked follow-up ticket instead of reopening.
REOPEN_WINDOW_DAYS = 14

# A resolved ticket with no answer from the customer closes after this many days.
AUTO_CLOSE_DAYS = 7

# Core default SLA targets (minutes, round the clock) by priority; the tier_sla
# plugin replaces them with tier x priority targets in business time.
DEFAULT_SLA_MINUTES = {
    "urgent": {"first_response": 60, "resolution": 8 * 60},
    "high": {"first_response": 4 * 60, "resolution": 24 * 60},
    "normal": {"first_response": 8 * 60, "resolution": 3 * 24 * 60},
    "low": {"first_response": 24 * 60, "resolution": 7 * 24 * 60},
}

# Remedies up to this amount are approved by the core default decider; larger
# ones wait for a supervisor. The credit_check plugin replaces this rule.
DEFAULT_REMEDY_AUTO_APPROVE = 0

# A staff API token, once looked up, is trusted by the same process for this
# many seconds without a query. Revoking applies at once in the process that
# revokes and within this time in the others; 0 looks up every request.
AUTH_CACHE_SECONDS = 5

# Categories named by new tickets are remembered per process this long; a
# change made in another process shows after at most this many seconds.
REFERENCE_CACHE_SECONDS = 60

# Plugins are discovered from the "kefu" entry-point group; these are not loaded.
DISABLED_PLUGINS = []

# Log every hook call (name, arguments, results) at DEBUG level.
TRACE_HOOKS = False

# Plugins whose guards refuse a change when they fail (raise or answer
# malformed). By default a failing guard is no objection: it is recorded as a
# plugin error and the change goes on, so a broken plugin cannot freeze
# every ticket. Name a plugin here when a missed check is worse than a stop.
GUARDS_FAIL_CLOSED = []

# Rate limit for the public (customer) endpoints, per client address.
PUBLIC_RATE_LIMIT = "30 per minute"
# Where the limits are counted. None: REDIS_URL when that is set (every node
# counts in the same place), else this process's memory ("memory://").
RATELIMIT_STORAGE_URI = None
# When that store stops answering, limits are counted in this process's
# memory (one warning is logged) and go back to the store once it answers
# again (checked after 1, 2, 4 ... up to 32 seconds): a customer is never
# refused because the limiter's Redis is down.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
# A store error the fallback does not catch (one that happens after the
# request's check) is logged, not turned into a 500.
RATELIMIT_SWALLOW_ERRORS = True
# False lifts every rate limit (Flask-Limiter's own switch): for contract
# tests that must reach the endpoints' logic, never for a served kefu.
RATELIMIT_ENABLED = True

# Behind a reverse proxy: how many proxies in front of kefu append to each
# X-Forwarded-* header (Werkzeug's ProxyFix). The client address the rate
# limits count by comes from X-Forwarded-For only when PROXY_FIX_X_FOR is
# set; 0 trusts no header, which is right when clients reach kefu directly.
# One nginx in front: PROXY_FIX_X_FOR = 1 and PROXY_FIX_X_PROTO = 1 (and
# X_HOST/X_PORT/X_PREFIX = 1 if it sets those headers).
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0
PROXY_FIX_X_PORT = 0
PROXY_FIX_X_PREFIX = 0

# Redis for RQ and shared rate limits; None runs jobs in-process. Setting
# it means several processes serve: SECRET_KEY must then be set (the same on
# every node), kefu refuses to start with a key of its own making.
REDIS_URL = None

# Seconds a client is told to wait (Retry-After) when the database cannot be
# reached: requests answer 503, and so does /readyz.
DB_UNAVAILABLE_RETRY_AFTER = 5

# Default page size for lists, and the largest a client may ask for.
PAGE_SIZE = 25
PAGE_SIZE_MAX = 100

# Languages the UI and mails speak.
LANGUAGES = ["en", "zh_CN"]
DEFAULT_LANGUAGE = "en"

# ---------------------------------------------------------------- background jobs
# Without REDIS_URL the serving process runs every job itself (RQ over an
# in-process fakeredis, one thread). None: in-process when there is no
# REDIS_URL and not testing; True/False force it.
JOBS_IN_PROCESS = None
# Seconds before a dead Redis is given up on (a request still commits; its
# jobs are relayed later).
REDIS_TIMEOUT_SECONDS = 0.5
# Retries of a failed job, and the waits between them (seconds; the last
# one repeats).
JOB_RETRIES = 5
JOB_RETRY_INTERVALS = [10, 60, 300, 900, 3600]
# How long failed jobs stay listed for admins (seconds).
JOB_FAILURE_TTL = 30 * 24 * 3600
# How often workers look for periodic jobs that are due (seconds).
JOB_TICK_SECONDS = 1
# Periodic intervals by job name, overriding the declared ones (0: off),
# e.g. {"tickets.autoclose": 600}.
JOB_INTERVALS = {}
# How often a busy worker heartbeats (seconds). A job whose worker stopped
# heartbeating for three of these counts as abandoned, and is retried by the
# next worker maintenance pass.
JOB_MONITORING_SECONDS = 10
# How often each worker does RQ's maintenance: recovering abandoned jobs,
# moving retries whose scheduler died with its worker (seconds).
JOB_MAINTENANCE_SECONDS = 15
# The longest wait between two attempts to reach a Redis that went away
# (seconds; the waits double from 1 up to this).
JOB_RECONNECT_MAX_SECONDS = 30
# How long after being relayed an outbox row or periodic run may be missing
# from RQ before the reconciliation relays it again (seconds).
JOB_RECONCILE_GRACE_SECONDS = 10
# How long finished periodic runs stay in periodic_runs (days).
PERIODIC_RUNS_KEEP_DAYS = 7
# How long a job whose side effect (a mail) happened waits for a database
# that went away to record it done, before failing (seconds). Kept below
# the effect's claim (120 s) and the jobs' timeout: failing earlier would
# have the job's retry repeat the effect.
EFFECT_DONE_PATIENCE = 60

# ---------------------------------------------------------------- e-mail out
# Without SMTP_HOST mail is not sent but written to MAIL_LOG_DIR (the dev
# mail log), one .eml file per message.
SMTP_HOST = None
SMTP_PORT = 25
SMTP_USER = None
SMTP_PASSWORD = None
SMTP_STARTTLS = False
SMTP_SSL = False
SMTP_TIMEOUT = 20
# A worker keeps its SMTP connection open between mails; one idle longer
# than this many seconds is closed and opened again (servers drop idle clients).
SMTP_IDLE_SECONDS = 30
MAIL_FROM = "kefu support <support@localhost>"
# The domain in Message-IDs kefu makes.
MAIL_DOMAIN = "kefu.localhost"
MAIL_LOG_DIR = "{instance}/mail"
# Base URL of this kefu for links in mail (tracking page, answers).
PUBLIC_URL = "http://127.0.0.1:5000"
# Customers get a "we received it" mail for tickets from these channels.
MAIL_RECEIPT_CHANNELS = ["web", "email"]

# ---------------------------------------------------------------- e-mail in
# The support address `kefu mail serve` accepts mail for (None: any).
SUPPORT_ADDRESS = None
# An existing mailbox to poll (the periodic mail.imap_poll job); None: off.
IMAP_HOST = None
IMAP_PORT = 993
IMAP_SSL = True
IMAP_USER = None
IMAP_PASSWORD = None
IMAP_FOLDER = "INBOX"
# Largest inbound mail taken in (bytes); larger ones are quarantined.
MAIL_MAX_BYTES = 20 * 1024 * 1024
# Quarantine mail whose sender the MTA in front of kefu found forged: its
# Authentication-Results say dmarc=fail or spf=fail (softfail and dkim=fail
# alone do not; see service/mail/incoming/auth.py). Mail without a trusted
# Authentication-Results header is taken in: production needs an MTA that
# verifies. False turns the check off.
MAIL_QUARANTINE_UNVERIFIED = True
# The authserv-id(s) your MTA writes in its Authentication-Results headers
# (a name, names separated by commas, or a list); only those headers count,
# since any sender can write one. None: only the topmost header counts (the
# one the last MTA prepended).
MAIL_AUTHSERV_ID = None

# ---------------------------------------------------------------- web UI
# Time zone for pages shown to customers (and staff who set none); staff
# pages use each staff member's own time zone.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Staff console sessions: the cookie is HttpOnly and SameSite; set
# SESSION_COOKIE_SECURE = True when kefu is served over HTTPS (production.py does).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
# A console login lasts this many seconds (8 hours) after its last use.
PERMANENT_SESSION_LIFETIME = 8 * 3600
# ... where "use" is counted to this many seconds: the cookie is re-issued
# (its 8 hours start again) at most this often, not on every page.
SESSION_REFRESH_AFTER = 300
# Login attempts per client address on the console login form (throttling).
LOGIN_RATE_LIMIT = "10 per minute"
# Failed login attempts per account (the e-mail address tried), from any
# address: one account cannot be sprayed from many machines. Only failures
# count, so the owner signing in spends nothing; once over, the account's
# sign-in waits until the window passes (Retry-After says how long).
LOGIN_ACCOUNT_RATE_LIMIT = "10 per 15 minutes"
# Seconds a CSRF token stays valid (None: as long as the session).
WTF_CSRF_TIME_LIMIT = None
# Queue pages show this many tickets per page.
CONSOLE_PAGE_SIZE = 25
# The console's search counts its results exactly up to this many, then says "more than"
# (a text search reads every ticket it cannot rule out: counting all of them has no bound).
SEARCH_COUNT_CAP = 1000
# The console flags a customer's complaints as rising when the last
# COMPLAINT_TREND_DAYS hold more complaints than the same span before them.
COMPLAINT_TREND_DAYS = 90
# The "at risk" queue holds open tickets whose next SLA deadline is past or
# falls within this many minutes.
CONSOLE_AT_RISK_MINUTES = 240
# The sidebar's queue counts are kept this many seconds per staff member and
# process; a ticket filed or changed anywhere counts afresh at once
# (service.web.queues.queue_counts). 0: count on every page.
CONSOLE_COUNTS_SECONDS = 30
# Console fragments (the sidebar, the keyboard help) a process keeps drawn, keyed by the
# whole of what they show, so never out of date (service.web.fragments); 0: draw every time.
FRAGMENT_CACHE_SIZE = 2048
# Files of a refused reply (a stale version, a guard) are kept this many hours for the
# staff member to send again without choosing them again; then the sweep deletes them.
HELD_UPLOAD_HOURS = 24
# What counts as a ticket's first response (for the SLA clock and the ticket
# page): "confirm" (confirming it), "reply" (the first public reply by staff)
# or "either" (whichever comes first).
FIRST_RESPONSE = "either"
# Seconds a colleague's open ticket page counts as "also viewing" after its
# last poll (the page polls every 15 seconds).
PRESENCE_SECONDS = 60
