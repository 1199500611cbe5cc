"""Django settings. What a deployment changes comes from the environment (docs/operations.md)."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CONFERO_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _secret_key() -> str:
    """The key comes from CONFERO_SECRET_KEY; a single-machine install keeps a generated one."""
    if key := os.environ.get("CONFERO_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("CONFERO_DEBUG", "") == "1"
ALLOWED_HOSTS = _env_list("CONFERO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CONFERO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "confero.events",
    "confero.access",
    "confero.customfields",
    "confero.people",
    "confero.programme",
    "confero.exhibitors",
    "confero.messaging",
    "confero.registration",
    "confero.api",
    "confero.console",
]

MIDDLEWARE = [
    "confero.api.middleware.ApiFastPathMiddleware",  # API calls skip everything below
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "confero.urls"
WSGI_APPLICATION = "confero.wsgi.application"

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
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'confero.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=_env_int("CONFERO_DB_CONN_MAX_AGE", 60))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing
        # with "database is locked" when it upgrades a read lock (docs/decisions/0002).
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    else:
        db.setdefault("OPTIONS", {})
        db["CONN_HEALTH_CHECKS"] = True
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The planners' console (confero.console) at /manage/; Django admin at /admin/ is for superusers.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:events"
LOGOUT_REDIRECT_URL = "console:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Requests: the API refuses bodies over 1 MiB itself (code 202); Django's own limit sits above it.
CONFERO_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = CONFERO_MAX_BODY_BYTES + 1
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Client addresses: peers in this list may set X-Forwarded-For (contract §3).
CONFERO_TRUSTED_PROXIES = _env_list("CONFERO_TRUSTED_PROXIES")
# Rate limits (contract §3): calls per token per minute unless the API profile overrides it, and
# failed authentications per client address per minute.
CONFERO_RATE_LIMIT_PER_TOKEN = _env_int("CONFERO_RATE_LIMIT_PER_TOKEN", 1200)
CONFERO_AUTH_FAILURE_LIMIT = _env_int("CONFERO_AUTH_FAILURE_LIMIT", 30)
CONFERO_RATE_WINDOW_SECONDS = _env_int("CONFERO_RATE_WINDOW_SECONDS", 60)
# Messages a user may send per minute, counted in the database (every server process shares the
# count: confero.messaging.services); 0 = no limit.
CONFERO_MESSAGES_PER_MINUTE = _env_int("CONFERO_MESSAGES_PER_MINUTE", 30)
# The call-log rows of calls that changed nothing are written in batches, by each server process,
# at most this many milliseconds after their answers (confero.api.calllog); 0 = one by one.
CONFERO_CALL_LOG_FLUSH_MS = _env_int("CONFERO_CALL_LOG_FLUSH_MS", 50)
# Feeds on PostgreSQL read their next chunk on a connection of their own while the current one
# streams (confero.api.records): one more connection per feed of 1,000 records or more. 0 = off.
CONFERO_FEED_READ_AHEAD = os.environ.get("CONFERO_FEED_READ_AHEAD", "1") != "0"
# PostgreSQL: a server process answers an admission it made a moment ago from memory, for at most
# this many seconds; any change to events, sites, profiles or tokens empties every process's
# cache as it commits (LISTEN/NOTIFY; confero.access.gatecache). 0 = every call reads the database.
CONFERO_GATE_CACHE_SECONDS = _env_float("CONFERO_GATE_CACHE_SECONDS", 2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line redacted: a path, a Host header or an exception may carry a token (issue 16).
    "formatters": {
        "plain": {
            "()": "confero.access.redaction.RedactingFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("CONFERO_LOG_LEVEL", "INFO")},
    "loggers": {
        # django.request would log "Bad Request: /path"; the API logs its own calls (no parameters).
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"level": "ERROR"},
    },
}

if os.environ.get("CONFERO_HTTPS") == "1":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
