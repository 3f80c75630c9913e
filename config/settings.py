"""Waypoint settings, all read from the environment with safe local defaults.

Without DATABASE_URL the app runs on a SQLite file in the project; without
REDIS_URL Celery runs every task eagerly, in process. See README "Environment".
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-waypoint"  # noqa: S105 - local development only
# The same bar as Django's deploy check W009: a key below it can be guessed, so production refuses to start.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def production_secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign production sessions, or None when it may."""
    if not key:
        return "SECRET_KEY must be set when DEBUG=0."
    if key == DEVELOPMENT_SECRET_KEY or key.startswith("django-insecure-"):
        return "SECRET_KEY is a development key; set a random one when DEBUG=0."
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"SECRET_KEY is too weak for DEBUG=0: it needs at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    return None


# What forbids serving with these settings when DEBUG=0. They are refused where Waypoint starts (manage.py,
# the WSGI app, Celery's worker and beat: config/startup.py), not here, so that a build step such as
# collectstatic can run without the production secrets.
PRODUCTION_PROBLEMS: list[str] = []

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEBUG and (problem := production_secret_key_problem(SECRET_KEY)):
    PRODUCTION_PROBLEMS.append(problem)
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

# Development answers on any host name; production names its own, or every request would be refused.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    PRODUCTION_PROBLEMS.append(
        "ALLOWED_HOSTS must be set when DEBUG=0: the host names Waypoint answers on, comma-separated "
        "(e.g. ALLOWED_HOSTS=waypoint.example.com)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_celery_beat",
    "axes",
    "csp",
    "objectives",
    "decisions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "decisions.accounts.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "decisions.audit.middleware.RequestIdMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "decisions.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Waiting on the write lock beats failing with "database is locked" when a
    # worker and the web process write at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The queue's covering index (INCLUDE columns) is a PostgreSQL speed-up; SQLite builds it without them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login throttling (django-axes) -------------------------------------------------------------
# Axes checks every login against the failures recorded for that username from that address; the
# model backend then does the real password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Per username *and* address: a guesser is stopped, and cannot lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "decisions.accounts.lockout_page"
# Failures are kept in the database, so every gunicorn worker sees the same count.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Failures and lockouts are still logged; this only drops the banner every command would print.
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Uploads above this size are spooled to disk and imported by a Celery task
# with a progress bar; smaller ones are imported during the request.
IMPORT_INLINE_MAX_BYTES = int(os.environ.get("IMPORT_INLINE_MAX_BYTES", str(512 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REDIS_URL = os.environ.get("REDIS_URL", "")

# --- Engine and apply ------------------------------------------------------------
WAYPOINT_WINDOW_DAYS = int(os.environ.get("WAYPOINT_WINDOW_DAYS", "90"))
WAYPOINT_PROPOSAL_TTL_HOURS = float(os.environ.get("WAYPOINT_PROPOSAL_TTL_HOURS", "72"))
WAYPOINT_MAX_P_LOSS = float(os.environ.get("WAYPOINT_MAX_P_LOSS", "0.35"))
# Proposal-level noise limits: the engine writes no proposal worth less than the floor per week (an anomaly
# pause or cut: the spend it saves per week) or likelier than the cap to lose value; bulk approval and
# auto-approval never take a proposal above the cap, whenever it was made.
WAYPOINT_MIN_WEEKLY_VALUE = float(os.environ.get("WAYPOINT_MIN_WEEKLY_VALUE", "25"))
# How long a process may reuse its sums of the days that guardrails read (evidence, this month's spend) when no
# import has written days since: see decisions/data/guardrail_figures.py. 0 sums them for every decision.
WAYPOINT_GUARDRAIL_FIGURES_SECONDS = float(os.environ.get("WAYPOINT_GUARDRAIL_FIGURES_SECONDS", "60"))
WAYPOINT_MAX_PROPOSAL_P_LOSS = float(os.environ.get("WAYPOINT_MAX_PROPOSAL_P_LOSS", "0.3"))
if not 0 <= WAYPOINT_MAX_PROPOSAL_P_LOSS <= 1:
    raise ImproperlyConfigured(
        f"WAYPOINT_MAX_PROPOSAL_P_LOSS must be a probability from 0 to 1, not {WAYPOINT_MAX_PROPOSAL_P_LOSS}."
    )


# Monthly pacing: a monthly budget whose month-to-date pace or projected month-end spend leaves this band
# (percent of its amount, "low,high") gets proposals that bring it back before the month ends.
def parse_pacing_band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise ImproperlyConfigured(
            f'WAYPOINT_PACING_BAND must be "low,high" in percent (e.g. "90,110"), not "{text}".'
        ) from None
    if not 0 < low <= 100 <= high:
        raise ImproperlyConfigured(f"WAYPOINT_PACING_BAND must have 0 < low ≤ 100 ≤ high, not {low:g},{high:g}.")
    return low / 100, high / 100


WAYPOINT_PACING_BAND = parse_pacing_band(os.environ.get("WAYPOINT_PACING_BAND", "90,110"))
# How approved changes reach the ad platforms: "ledger" (Waypoint's own record) or "webhook".
# WAYPOINT_CONNECTORS picks one per campaign platform ("google_ads=webhook,meta=webhook");
# WAYPOINT_CONNECTOR serves every platform it does not name.
WAYPOINT_CONNECTOR = os.environ.get("WAYPOINT_CONNECTOR", "ledger")


def parse_platform_connectors(value: str) -> dict[str, str]:
    """Read "google_ads=webhook, meta=webhook" as {"google_ads": "webhook", "meta": "webhook"}.

    A malformed entry stops startup: a typo here would otherwise send a
    platform's changes through the wrong connector without a word. Whether
    each name is a real connector is checked when an outbox row is written
    (the connectors cannot be imported while settings load).
    """
    mapping: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        platform, equals, connector = (side.strip() for side in entry.partition("="))
        if not (equals and platform and connector):
            raise ImproperlyConfigured(
                f'WAYPOINT_CONNECTORS: "{entry}" is not platform=connector '
                '(expected e.g. "google_ads=webhook,meta=webhook").'
            )
        if mapping.setdefault(platform, connector) != connector:
            raise ImproperlyConfigured(
                f'WAYPOINT_CONNECTORS names platform "{platform}" twice, with different connectors.'
            )
    return mapping


WAYPOINT_CONNECTORS = parse_platform_connectors(os.environ.get("WAYPOINT_CONNECTORS", ""))
WAYPOINT_WEBHOOK_URL = os.environ.get("WAYPOINT_WEBHOOK_URL", "")
WAYPOINT_WEBHOOK_SECRET = os.environ.get("WAYPOINT_WEBHOOK_SECRET", "")
WAYPOINT_WEBHOOK_TIMEOUT = float(os.environ.get("WAYPOINT_WEBHOOK_TIMEOUT", "10"))
WAYPOINT_APPLY_MAX_ATTEMPTS = int(os.environ.get("WAYPOINT_APPLY_MAX_ATTEMPTS", "5"))

# --- Audit log -------------------------------------------------------------
# The audit chain's hashes are HMACs under this key, kept apart from SECRET_KEY: whoever can write the
# database but does not hold the key cannot re-hash an edited chain so that it verifies. Keep it as long as
# the log (rows hashed under a lost key can no longer be verified).
DEVELOPMENT_AUDIT_KEY = "dev-only-insecure-audit-key-waypoint"  # noqa: S105 - local development only
AUDIT_KEY_MIN_LENGTH = 32


def production_audit_key_problem(key: str, secret_key: str) -> str | None:
    """Why `key` must not key the production audit chain, or None when it may."""
    generate = 'e.g. python -c "import secrets; print(secrets.token_urlsafe(50))"'
    if not key:
        return f"WAYPOINT_AUDIT_KEY must be set when DEBUG=0 ({generate})."
    if key == DEVELOPMENT_AUDIT_KEY:
        return f"WAYPOINT_AUDIT_KEY is the development key; set a random one when DEBUG=0 ({generate})."
    if key == secret_key:
        return "WAYPOINT_AUDIT_KEY must differ from SECRET_KEY: rotating one must not touch the other."
    if len(key) < AUDIT_KEY_MIN_LENGTH:
        return f"WAYPOINT_AUDIT_KEY is too short for DEBUG=0: it needs at least {AUDIT_KEY_MIN_LENGTH} characters."
    return None


WAYPOINT_AUDIT_KEY = os.environ.get("WAYPOINT_AUDIT_KEY", "")
if not DEBUG and (problem := production_audit_key_problem(WAYPOINT_AUDIT_KEY, SECRET_KEY)):
    PRODUCTION_PROBLEMS.append(problem)
WAYPOINT_AUDIT_KEY = WAYPOINT_AUDIT_KEY or DEVELOPMENT_AUDIT_KEY
# Signed checkpoints of the chain's head (latest id, hash, row count), one JSON line each, appended by a daily
# task and after every successful `verify_audit_log`: rows deleted from the end, or the table emptied, show
# as a head behind the last checkpoint. Keep the file where the database's administrators cannot write.
WAYPOINT_AUDIT_CHECKPOINT_PATH = Path(
    os.environ.get("WAYPOINT_AUDIT_CHECKPOINT_PATH") or BASE_DIR / "var" / "audit-checkpoints.jsonl"
)

# --- Email -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "waypoint@localhost")

# --- Production hardening (check --deploy) -----------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# Content-Security-Policy (django-csp 4): everything from Waypoint's own origin, nothing inline, no eval.
# htmx 2 and Chart.js need no more than that: htmx's indicator <style> is switched off in base.html
# (htmx-config meta) and Chart.js sizes its canvas through the DOM, which the policy does not govern.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Access and queries ------------------------------------------------------------------------
# Who a signed-in user without a role should ask for one (a name, an email, a channel); shown on their page.
WAYPOINT_ROLE_CONTACT = os.environ.get("WAYPOINT_ROLE_CONTACT", "")
# Where people reach this Waypoint (e.g. https://waypoint.example.com): the weekly email links to the report,
# its proposals and its unsubscribe page with it. Unset in production, the email carries no links.
WAYPOINT_SITE_URL = os.environ.get("WAYPOINT_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
# The earliest year a date may name: older ones are typos or probes (purchase histories reach back decades).
WAYPOINT_EARLIEST_YEAR = int(os.environ.get("WAYPOINT_EARLIEST_YEAR", "1990"))
if not 1900 <= WAYPOINT_EARLIEST_YEAR <= 2100:
    raise ImproperlyConfigured(
        f"WAYPOINT_EARLIEST_YEAR must be a year from 1900 to 2100, not {WAYPOINT_EARLIEST_YEAR}."
    )


def parse_stage_probabilities(text: str) -> dict[str, float]:
    """ "Demo booked=0.3,Trial=0.5" → {"demobooked": 0.3, "trial": 0.5} (keys as decisions/data/deals.stage_key)."""
    found = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        stage, _, value = entry.rpartition("=")
        try:
            chance = float(value)
        except ValueError:
            chance = -1.0
        if not stage.strip() or not 0 <= chance <= 1:
            raise ImproperlyConfigured(f'WAYPOINT_DEAL_STAGE_PROBABILITIES: "{entry}" is not stage=0..1')
        found["".join(ch for ch in stage.casefold() if ch.isalnum())] = chance
    return found


# CRM deals (decisions/data/deal_figures.py): pipeline counted at face value, or weighted by each deal's chance to
# close (the export's probability column, else its stage's); unmatched deals' value in the daily totals or not.
WAYPOINT_DEAL_PIPELINE_WEIGHTED = os.environ.get("WAYPOINT_DEAL_PIPELINE_WEIGHTED", "0") == "1"
WAYPOINT_DEAL_STAGE_PROBABILITIES = parse_stage_probabilities(os.environ.get("WAYPOINT_DEAL_STAGE_PROBABILITIES", ""))
WAYPOINT_DEALS_UNMATCHED_TO_TOTALS = os.environ.get("WAYPOINT_DEALS_UNMATCHED_TO_TOTALS", "1") == "1"

# --- Cache (import progress, report locks) -----------------------------------
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# No broker configured: run tasks in process so a fresh checkout works alone.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# At-least-once: a task is acknowledged only after it finished, and re-queued
# when its worker dies, so every task body must be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# One Redis can serve several Waypoints (or a test's private worker) on separate queues.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per eager task result drowns a command's own output; failures still show.
        "celery.app.trace": {"level": "WARNING"},
        # The in-memory broker used without REDIS_URL warns that it has no hostname, on every task.
        "kombu.connection": {"level": "ERROR"},
        # Axes notes every login at INFO ("deleted 0 failed attempts"); failures past the limit are warnings.
        "axes": {"level": "WARNING"},
    },
}
