"""Settings, all from the environment.

With nothing set, ToxiScope runs on one machine: a SQLite file under var/, Redis on localhost.
`DATABASE_URL` selects PostgreSQL (or any database dj-database-url understands).
"""

import hashlib
import ipaddress
import math
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TOXISCOPE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_number(name: str, default: float, *, minimum: float, maximum: float = math.inf, kind: type = float) -> float:
    """A number from the environment, refused at start (not at first use) when it is not one of
    `kind` or is outside [`minimum`, `maximum`]."""
    value = os.environ.get(name)
    if value is None:
        return kind(default)
    try:
        number = kind(value)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {expected}, got {value!r}") from None
    if not number >= minimum:  # `not >=`: NaN is refused too
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value!r}")
    if number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value!r}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def private_var_dir() -> None:
    """var/ holds the SQLite database (its sessions table included), the secret key, the admin's
    first password and the models: no other local user may read any of it. Everything this
    process creates is private too (umask), the SQLite file and its WAL included."""
    os.umask(0o077)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    for path in (VAR_DIR, *(p for p in VAR_DIR.iterdir() if p.is_file())):
        if path.stat().st_uid == os.getuid():  # a shared or mounted var/ is its owner's business
            path.chmod(0o700 if path.is_dir() else 0o600)


private_var_dir()


def secret_key_from_file() -> str:
    """A one-machine start gets a random key, created once and kept under var/."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or secret_key_from_file()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "moderation.web.access.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # naturaltime: "12 seconds ago" where a page refreshes each second
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "moderation",
]

MIDDLEWARE = [
    "toxiscope.request_log.RequestIdMiddleware",
    "moderation.metrics.MetricsMiddleware",
    "moderation.http.RefuseChunkedBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "moderation.http.DocumentCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login attempt
]

# Scripts and styles only from this server's own files: no inline script anywhere (htmx is
# vendored, its eval and injected styles are off; Swagger UI is served in its split form).
# Inline style attributes stay allowed for the score bars' widths.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Failed logins (/login/ and /admin/login/) lock that username from that address out for a
# while (django-axes): a password cannot be guessed at speed, and nobody else can lock a
# person out by failing on purpose from elsewhere.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("TOXISCOPE_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("TOXISCOPE_LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client's address as the rate limits see it: X-Forwarded-For only behind trusted proxies.
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("TOXISCOPE_NUM_PROXIES", 0)) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
AXES_LOCKOUT_TEMPLATE = "moderation/web/locked_out.html"

ROOT_URLCONF = "toxiscope.urls"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:overview"
LOGOUT_REDIRECT_URL = "web:login"
WSGI_APPLICATION = "toxiscope.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "moderation.web.context.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'toxiscope.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The one-machine default must hold up under the web workers, the Celery worker and two
    # moderators at once: WAL lets readers run beside the writer; IMMEDIATE takes the write lock
    # when a transaction starts, so two writers queue for it instead of one failing at once with
    # "database is locked" (SQLite cannot upgrade a reader to a writer while waiting); the busy
    # timeout is how long one may queue.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("TOXISCOPE_SQLITE_TIMEOUT_S", 30)),
    }
    if env_bool("DATABASE_POOL", False):
        # The web workers close their connection after each request (below): keep the closed
        # ones to lend again, as PostgreSQL's pool does (toxiscope/sqlite/base.py).
        DATABASES["default"]["ENGINE"] = "toxiscope.sqlite"
        DATABASES["default"]["OPTIONS"]["pool"] = {"max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", 8))}
elif env_bool("DATABASE_POOL", False):
    # The web workers (toxiscope/gunicorn_conf.py): each request runs in a greenlet of its own,
    # so a connection cannot be kept per thread; a pool per worker process lends one per request
    # instead of opening one (PostgreSQL starts a process for each: ~10 ms a request).
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # what a pool requires: it keeps the connections
    # A request waits at most DATABASE_POOL_TIMEOUT_S for a connection: a database that has gone answers 503
    # "not saved" in seconds, not after the client has given up.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", 8)),
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT_S", 5)),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Serve the apps' static files even before `collectstatic` has filled STATIC_ROOT (a fresh
# checkout, the test server); collected files win where both exist.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Requests larger than this are refused before a view parses them (1,000 comments of 20,000
# characters fit; anything bigger is abuse or a mistake).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("TOXISCOPE_MAX_REQUEST_BYTES", 25 * 1024 * 1024))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "moderation.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Per API key and per IP, counted in Redis so every web process shares the count.
    "DEFAULT_THROTTLE_CLASSES": [
        "moderation.api.throttling.PerKeyRateThrottle",
        "moderation.api.throttling.PerIpRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "key": os.environ.get("TOXISCOPE_RATE_PER_KEY", "6000/min"),
        "anon": os.environ.get("TOXISCOPE_RATE_PER_IP", "120/min"),
    },
    # Behind N proxies (a load balancer), the client's address is N from the end of
    # X-Forwarded-For. By default no proxy is trusted: X-Forwarded-For is ignored, since any
    # client can send one to escape its per-IP limit.
    "NUM_PROXIES": int(os.environ.get("TOXISCOPE_NUM_PROXIES", 0)),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A JSON API: other bodies get 415 rather than half-parsed form data.
    "DEFAULT_PARSER_CLASSES": ["moderation.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "moderation.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "moderation.api.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ToxiScope API",
    "DESCRIPTION": "Submit comments, get per-label toxicity scores and the review route.",
    "VERSION": "1.0.0",
    # 3.1: full JSON Schema (propertyNames, null), so the schema can state every rule we enforce.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "moderation.api.schema.document_error_responses",
        "moderation.api.schema.bound_comment_batches",
        "moderation.api.schema.require_request_bodies",
        "moderation.api.schema.refuse_unknown_fields",
        "moderation.api.schema.document_perspective",
    ],
}


def _deployment_prefix() -> str:
    """Named after the database, the one thing two installs never share: two installs on one
    Redis (with the default URLs) then keep apart their broker queues, cache entries and
    rate-limit counts."""
    db = DATABASES["default"]
    identity = f"{db['ENGINE']}|{db.get('HOST', '')}|{db.get('PORT', '')}|{db['NAME']}"
    return "toxiscope-" + hashlib.sha256(identity.encode()).hexdigest()[:10]


# Every key this deployment writes to Redis starts with it (TOXISCOPE_REDIS_PREFIX to choose it).
TOXISCOPE_REDIS_PREFIX = os.environ.get("TOXISCOPE_REDIS_PREFIX") or _deployment_prefix()
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("TOXISCOPE_CACHE_URL", "redis://127.0.0.1:6379/1"),
        "TIMEOUT": 300,
        "KEY_PREFIX": TOXISCOPE_REDIS_PREFIX,  # the rate limits' counts live here too
    }
}

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# No result backend: every task records its outcome in the database (a run's status, a
# comment's route), and nothing waits on a task's return value.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Task names: moderation/jobs.py.
CELERY_TASK_ROUTES = {
    "moderation.tasks.training_run_execute": {"queue": "training"},
    "moderation.tasks.recalibration_execute": {"queue": "training"},
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# A training run may take hours on a large corpus; anything else is short.
TOXISCOPE_TRAINING_TIME_LIMIT_S = int(os.environ.get("TOXISCOPE_TRAINING_TIME_LIMIT_S", 6 * 3600))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 15 * 60))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# acks_late: a task whose worker dies is delivered again. Redis re-delivers an unacked message
# only after the visibility timeout, so it must outlast the longest task or a running training
# would be handed to a second worker.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TOXISCOPE_TRAINING_TIME_LIMIT_S + 3600,
    # Queues, unacked messages and the workers' broadcast channels, under this deployment's name.
    "global_keyprefix": f"{TOXISCOPE_REDIS_PREFIX}:",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (JSON lines), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A web request that enqueues must learn within ~2 s that the broker is down (it then scores
# synchronously), not hang through Celery's default retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "reap-stale-training-runs": {
        "task": "moderation.tasks.training_runs_reap_stale",
        "schedule": 60.0,
    },
    "triage-waiting-comments": {
        "task": "moderation.tasks.comments_triage_waiting",
        "schedule": 60.0,
    },
    "scheduled-retrain": {
        "task": "moderation.tasks.training_retrain_if_due",
        "schedule": 3600.0,
    },
    "resend-due-webhook-deliveries": {
        "task": "moderation.tasks.webhook_deliveries_resend_due",
        "schedule": 300.0,
    },
    # The bytes of uploads killed before their version was recorded.
    "prune-artifact-blobs": {
        "task": "moderation.tasks.artifact_blobs_prune",
        "schedule": 86400.0,
    },
}

# --- ToxiScope ----------------------------------------------------------------------------
# This host's cache of model artifacts: the database holds every version's files (the artifact
# store, moderation/storage.py); a process materialises a version here on first use.
TOXISCOPE_ARTIFACTS_DIR = Path(os.environ.get("TOXISCOPE_ARTIFACTS_DIR", VAR_DIR / "artifacts"))
# A host's copy of a retired version no process there has used for this many days is removed
# when the host's active version changes (the database keeps it).
TOXISCOPE_ARTIFACT_CACHE_DAYS = env_number("TOXISCOPE_ARTIFACT_CACHE_DAYS", 7, minimum=0)
# Where artifacts' bytes are kept: a class implementing moderation.storage.BlobStore.
TOXISCOPE_ARTIFACT_STORE = os.environ.get("TOXISCOPE_ARTIFACT_STORE", "moderation.storage.DatabaseBlobStore")
# The database store's chunk size: one row's bytes (PostgreSQL takes up to 1 GB a value; a few
# MiB keep a reader's memory small).
TOXISCOPE_ARTIFACT_CHUNK_BYTES = env_number(
    "TOXISCOPE_ARTIFACT_CHUNK_BYTES", 4 << 20, minimum=1024, maximum=256 << 20, kind=int
)
# The base model new training runs start from. The reference is the hub's prajjwal1/bert-tiny;
# `scratch` needs no download (see README: base models).
TOXISCOPE_BASE_MODEL = os.environ.get("TOXISCOPE_BASE_MODEL", "scratch")
# The word tagger whose marks the work page highlights (training/span_tagger.py: learnt from
# annotators' marked spans); empty: the model's own driving words only.
TOXISCOPE_SPAN_TAGGER = os.environ.get("TOXISCOPE_SPAN_TAGGER", str(BASE_DIR / "moderation" / "fixtures" / "spans"))
# How often each process asks which model version is active (a promotion reaches it this fast).
TOXISCOPE_MODEL_CHECK_INTERVAL_S = float(os.environ.get("TOXISCOPE_MODEL_CHECK_INTERVAL_S", 2.0))
# Threads ONNX Runtime (or torch, for an artifact without ONNX) scores with in each process: web
# and worker processes already run side by side, one per core, so one thread each avoids
# oversubscribing the cores.
TOXISCOPE_SCORING_THREADS = max(1, int(os.environ.get("TOXISCOPE_SCORING_THREADS", 1)))
# How long a process trusts an API key it has checked (no query per request): a revocation made
# elsewhere takes effect within this many seconds (at once in the process that made it).
TOXISCOPE_API_KEY_CACHE_S = float(os.environ.get("TOXISCOPE_API_KEY_CACHE_S", 5))
# Wrong API keys one address may send per minute before its requests are refused (429).
TOXISCOPE_API_KEY_FAILURES_PER_MINUTE = int(os.environ.get("TOXISCOPE_API_KEY_FAILURES_PER_MINUTE", 20))
# Submits with more comments than this, or more characters in all (the model's cost grows with
# the text: a 20,000-character comment is ~58 windows), or with ?async=1, are scored by a
# worker. 200,000 characters of real comments score in about 2 s on one thread with the
# starter model (docs/benchmarks.md): no valid sync request comes near gunicorn's 30 s timeout.
TOXISCOPE_SYNC_BATCH_MAX = int(os.environ.get("TOXISCOPE_SYNC_BATCH_MAX", 256))
TOXISCOPE_SYNC_SCORING_CHARS = int(os.environ.get("TOXISCOPE_SYNC_SCORING_CHARS", 200_000))
# Each hour a review item waits adds this to its priority (a flag adds its label's severity,
# 1–3): after a day, an unflagged near-threshold comment outranks a fresh flagged one.
TOXISCOPE_PRIORITY_PER_HOUR = float(os.environ.get("TOXISCOPE_PRIORITY_PER_HOUR", 0.1))
TOXISCOPE_MAX_TEXT_CHARS = int(os.environ.get("TOXISCOPE_MAX_TEXT_CHARS", 20_000))
# Languages (training/languages.py). A detection below this confidence leaves a comment's
# language unknown (at 0.9, 0.07 % of English Jigsaw comments are taken for another language,
# and none of 3 words or fewer: bench/languages.py). A version serves a language it
# learnt from at least this many labelled comments of (one that recorded no languages: English).
# A comment in a language the active version does not serve goes to people, not to a rule.
TOXISCOPE_LANGUAGE_CONFIDENCE = float(os.environ.get("TOXISCOPE_LANGUAGE_CONFIDENCE", 0.9))
TOXISCOPE_LANGUAGE_MIN_COMMENTS = int(os.environ.get("TOXISCOPE_LANGUAGE_MIN_COMMENTS", 100))
TOXISCOPE_REVIEW_UNSERVED_LANGUAGES = os.environ.get("TOXISCOPE_REVIEW_UNSERVED_LANGUAGES", "1") == "1"
# Drift (selectors/drift.py): each TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S a worker compares the live
# comments of the last TOXISCOPE_DRIFT_DAYS with the active version's evaluation set and keeps the
# day's snapshot. A label's scores or the comments' length moved this far (population stability
# index; 0.25 is the usual "a shift worth acting on") raise an alarm: an audit event, a webhook,
# the models page's banner, and, with TOXISCOPE_DRIFT_RETRAIN and scheduled retraining on
# (TOXISCOPE_RETRAIN_MIN_DECISIONS), a retrain without waiting for the interval.
TOXISCOPE_DRIFT_PSI_ALERT = env_number("TOXISCOPE_DRIFT_PSI_ALERT", 0.25, minimum=0.01)
TOXISCOPE_DRIFT_DAYS = env_number("TOXISCOPE_DRIFT_DAYS", 7, minimum=1, kind=int)
TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S = env_number("TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S", 3600, minimum=1)
TOXISCOPE_DRIFT_RETRAIN = env_bool("TOXISCOPE_DRIFT_RETRAIN", False)
# The "teach the model" queue (engine/teaching.py): each day, up to TOXISCOPE_TEACH_DAILY_BUDGET
# comments the model would decide alone go to people to be labelled instead (0: none), a share of
# them (TOXISCOPE_TEACH_RANDOM_SHARE) drawn at random, the rest those it is least sure of.
TOXISCOPE_TEACH_QUEUE = os.environ.get("TOXISCOPE_TEACH_QUEUE", "uncertain")
TOXISCOPE_TEACH_DAILY_BUDGET = env_number("TOXISCOPE_TEACH_DAILY_BUDGET", 20, minimum=0, kind=int)
TOXISCOPE_TEACH_RANDOM_SHARE = env_number("TOXISCOPE_TEACH_RANDOM_SHARE", 0.2, minimum=0, maximum=1)
# Of the comments a distilled model decides alone, the share its teacher reads too, to find where
# they disagree (services/triage.py: about 70 % more scoring at 0.05 with a MiniLM teacher).
TOXISCOPE_TEACH_TEACHER_SHARE = env_number("TOXISCOPE_TEACH_TEACHER_SHARE", 0.05, minimum=0, maximum=1)
CELERY_BEAT_SCHEDULE["drift-snapshot"] = {
    "task": "moderation.tasks.drift_snapshot_record",
    "schedule": TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S,
}
TOXISCOPE_MAX_BATCH = int(os.environ.get("TOXISCOPE_MAX_BATCH", 1_000))
TOXISCOPE_DEFAULT_QUEUE = os.environ.get("TOXISCOPE_DEFAULT_QUEUE", "general")
# The moderators' workspace: a claim is a lease that lapses, an undo has a short window.
TOXISCOPE_CLAIM_SECONDS = int(os.environ.get("TOXISCOPE_CLAIM_SECONDS", 5 * 60))
TOXISCOPE_UNDO_SECONDS = int(os.environ.get("TOXISCOPE_UNDO_SECONDS", 2 * 60))
# The share of automatic decisions sent, blind, to the audit queue to measure their precision.
TOXISCOPE_AUDIT_SAMPLE_RATE = float(os.environ.get("TOXISCOPE_AUDIT_SAMPLE_RATE", 0.02))
# The admins' model lifecycle: a candidate more than this much below the active version's
# macro-F1 (on the same evaluation-set comments) is promoted only with an audited override.
TOXISCOPE_PROMOTION_MARGIN = float(os.environ.get("TOXISCOPE_PROMOTION_MARGIN", 0.02))
# How far below the active version's final bias metric (identity templates) a candidate may be
# promoted without an override.
TOXISCOPE_BIAS_MARGIN = float(os.environ.get("TOXISCOPE_BIAS_MARGIN", 0.01))
# How many recent comments a comparison re-routes with the candidate.
TOXISCOPE_COMPARE_TRAFFIC = int(os.environ.get("TOXISCOPE_COMPARE_TRAFFIC", 500))
# The gate also refuses a candidate that would route more than this share of recent traffic
# (of the evaluation set, without traffic) differently, or whose F1 on any one label falls
# more than TOXISCOPE_PROMOTION_LABEL_MARGIN below the active version's.
TOXISCOPE_PROMOTION_MAX_REROUTE = float(os.environ.get("TOXISCOPE_PROMOTION_MAX_REROUTE", 0.2))
TOXISCOPE_PROMOTION_LABEL_MARGIN = float(os.environ.get("TOXISCOPE_PROMOTION_LABEL_MARGIN", 0.05))
# Scheduled retraining (off unless TOXISCOPE_RETRAIN_MIN_DECISIONS > 0): at most every
# TOXISCOPE_RETRAIN_INTERVAL_DAYS, once that many new moderator decisions exist; the new
# version is promoted automatically only with TOXISCOPE_RETRAIN_AUTO_PROMOTE and a passed gate.
TOXISCOPE_RETRAIN_MIN_DECISIONS = int(os.environ.get("TOXISCOPE_RETRAIN_MIN_DECISIONS", 0))
TOXISCOPE_RETRAIN_INTERVAL_DAYS = float(os.environ.get("TOXISCOPE_RETRAIN_INTERVAL_DAYS", 7))
TOXISCOPE_RETRAIN_AUTO_PROMOTE = env_bool("TOXISCOPE_RETRAIN_AUTO_PROMOTE", False)
# When set, /metrics asks for `Authorization: Bearer <token>` (Prometheus' bearer_token).
TOXISCOPE_METRICS_TOKEN = os.environ.get("TOXISCOPE_METRICS_TOKEN", "")
TOXISCOPE_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("TOXISCOPE_WEBHOOK_MAX_ATTEMPTS", 8))
TOXISCOPE_WEBHOOK_TIMEOUT_S = float(os.environ.get("TOXISCOPE_WEBHOOK_TIMEOUT_S", 5))
TOXISCOPE_WEBHOOK_BACKOFF_S = float(os.environ.get("TOXISCOPE_WEBHOOK_BACKOFF_S", 10))


def env_networks(name: str) -> list[str]:
    try:
        return [str(ipaddress.ip_network(item, strict=False)) for item in env_list(name, "")]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


# Webhooks reach only public addresses; these networks (comma-separated CIDR, e.g.
# "10.20.0.0/16") are let through too, for a receiver on the deployment's own network.
TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS = env_networks("TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS")
TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS = int(os.environ.get("TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS", 1))
# A running training run whose worker has not reported for this long is declared lost.
TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S = int(os.environ.get("TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S", 10 * 60))

# JSON lines by default (for log shippers); TOXISCOPE_LOG_FORMAT=text for a person at a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "toxiscope.request_log.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": os.environ.get("TOXISCOPE_LOG_FORMAT", "json")}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Behind TLS (set TOXISCOPE_HTTPS=1 in production): secure cookies, HSTS, redirect to https.
if env_bool("TOXISCOPE_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Declares eligibility only: the list itself needs a submission by the domain's owner.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
