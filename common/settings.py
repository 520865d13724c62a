"""Settings read once from the environment and validated at start."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

# Standard Webhooks' schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (
    0.0,
    5.0,
    300.0,
    1800.0,
    7200.0,
    18000.0,
    36000.0,
    50400.0,
    72000.0,
    86400.0,
)


class SettingsError(ValueError):
    """A malformed environment variable; the message names it and says why."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")


@dataclass(frozen=True)
class Settings:
    """The service's configuration; every value comes from the environment."""

    database_url: str | None
    redis_url: str | None
    broker_url: str | None
    home: Path
    max_body_bytes: int
    task_max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lock_ttl_seconds: float
    batch_size: int
    # Most items one POST /api/leads/bulk-create/ may carry; more is a 413.
    bulk_max_items: int
    sweep_interval_seconds: float
    stuck_after_seconds: float
    auth_cache_seconds: float
    metrics_token: str | None
    broker_key_prefix: str
    log_level: str
    log_format: str
    # Fernet keys for provider secrets at rest (LEADGATE_SECRET_KEY, comma separated): the first
    # encrypts, every one decrypts, so the key itself can be rotated.
    secret_keys: tuple[str, ...] = ()
    # How long a rotated-out provider credential stays valid (LEADGATE_SECRET_GRACE_HOURS).
    secret_grace_seconds: float = 24 * 3600.0
    # Whether LEADGATE_HOME was set, rather than ``home`` being the default ./.leadgate: a
    # process started from a checkout (the Procfile's beat) keeps its state elsewhere then.
    home_given: bool = False
    # Outbound webhooks: whether loopback and private addresses may be sent to (closed networks,
    # tests), the seconds between attempts, and how long a webhook may fail before it is disabled.
    webhook_allow_private: bool = False
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    webhook_disable_after_seconds: float = 5 * 86400.0
    # The operators' console at /console/ (LEADGATE_CONSOLE), how long a sign-in lasts, the key
    # its CSRF tokens are signed with (a shared random one kept in Redis when unset), and how
    # many sign-in attempts one address may make in a quarter of an hour.
    console_enabled: bool = True
    console_session_seconds: float = 12 * 3600.0
    console_secret_key: str | None = None
    console_signin_attempts: int = 10
    # Drift alarms per config (worker.health.drift): the last N events looked at, the share of
    # them a path may be missing from (or that may fail) before the alarm, the share of the
    # baseline window's payloads a path must have been present in to count, that window, and
    # the fewest baseline events the rule needs before it judges at all.
    drift_recent_events: int = 50
    drift_missing_share: float = 0.2
    drift_failure_share: float = 0.2
    drift_baseline_share: float = 0.5
    drift_baseline_hours: float = 24.0
    drift_min_baseline_events: int = 20
    # A claimed event's lease (LEADGATE_LEASE_SECONDS): renewed while its worker is alive, so a
    # dead worker's events are free again this long after it died. Renewal stops once an attempt
    # has held its events for ``stuck_after_seconds``, so a hung worker still lets them go.
    lease_seconds: float = 5.0
    # The Redis behind REDIS_URL for locks and rate limits, past one node: a cluster
    # (LEADGATE_REDIS_CLUSTER; REDIS_URL names any of its nodes) or a master found through
    # Sentinel (LEADGATE_REDIS_SENTINELS, host:port list; LEADGATE_REDIS_SENTINEL_MASTER).
    redis_cluster: bool = False
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "mymaster"
    # Group commit in the web: how long a batch of inserts waits for the requests on their way
    # (LEADGATE_GROUP_COMMIT_WINDOW_MS) and how many rows it holds at most.
    group_commit_window_ms: float = 2.0
    group_commit_max_rows: int = 32
    # gunicorn threads per web worker (WEB_THREADS, no prefix: it sits beside WEB_CONCURRENCY).
    # Most of an ingest request's life is a wait (its batch's commit, Redis), so more threads
    # than cores keep the next batch filling while one commits.
    web_threads: int = 16
    # How long a wake-up for a config stays pending before the next event may send another
    # (LEADGATE_WAKE_PENDING_SECONDS): bounds the wait when a wake-up message is lost.
    wake_pending_seconds: float = 5.0
    # Uploaded files (LEADGATE_UPLOAD_DIR, default LEADGATE_HOME/uploads) and their size limit.
    upload_dir: Path = Path(".leadgate/uploads")
    upload_max_bytes: int = 100 * 1024 * 1024
    # Field provenance: how long a lead's field changes are kept (LEADGATE_HISTORY_RETENTION_DAYS);
    # 0 keeps none: the worker writes no field history (the DNC ledger and consent are kept).
    history_retention_days: float = 365.0
    # Safe test mode: how long a test lead lives before the sweeper deletes it
    # (LEADGATE_TEST_LEAD_TTL_HOURS).
    test_lead_ttl_hours: float = 24.0
    # The inbox: whole monthly partitions older than this many full months are dropped
    # (LEADGATE_EVENT_RETENTION_MONTHS); 0 keeps every event, the audit log stays whole.
    event_retention_months: int = 0
    # Raw bodies of done events older than this are emptied (LEADGATE_RAW_BODY_RETENTION_DAYS);
    # 0 keeps them. Failed and dead events keep theirs for a replay.
    raw_body_retention_days: float = 0.0
    # How often beat runs the inbox's upkeep (LEADGATE_INBOX_MAINTENANCE_SECONDS): its
    # partitions ahead, its retention and the idempotency keys' pruning.
    inbox_maintenance_seconds: float = 600.0

    @property
    def stuck_after(self) -> dt.timedelta:
        """How long an unfinished event may wait before the sweeper pushes it again."""
        return dt.timedelta(seconds=self.stuck_after_seconds)

    @property
    def keeps_field_history(self) -> bool:
        """False when LEADGATE_HISTORY_RETENTION_DAYS is 0: lead field changes are not recorded."""
        return self.history_retention_days > 0

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's form, with the psycopg 3 driver."""
        if self.database_url is None:
            raise SettingsError("DATABASE_URL is not set and no embedded database is running")
        return to_sqlalchemy_url(self.database_url)

    @property
    def celery_broker_url(self) -> str:
        """The broker: CELERY_BROKER_URL when given, else the Redis URL."""
        url = self.broker_url or self.redis_url
        if url is None:
            raise SettingsError("neither CELERY_BROKER_URL nor REDIS_URL is set")
        return url

    @property
    def locks_redis_url(self) -> str:
        """The Redis that holds the per-lead locks."""
        if self.redis_url is None:
            raise SettingsError("REDIS_URL is not set and no embedded Redis is running")
        return self.redis_url


def to_sqlalchemy_url(url: str) -> str:
    """Turn the usual ``postgresql://`` form into ``postgresql+psycopg://``."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise SettingsError(f"DATABASE_URL must start with postgresql://, got {url.split(':', 1)[0]}:")


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise SettingsError(f"{name} must use one of {', '.join(schemes)}; got scheme {scheme!r}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _retention_days(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default, 0.0)
    # Between none and a quarter of an hour, a typo (0.001 for 0.01) would silently keep nothing.
    if 0 < value < 0.01:
        raise SettingsError(f"{name} must be 0 (keep none) or at least 0.01 days, got {value!r}")
    return value


def _retention_months(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    # Whole months only: a partition is a month, and half of one cannot be dropped.
    if not raw.isdigit():
        raise SettingsError(f"{name} must be a whole number of months (0 keeps all), got {raw!r}")
    return int(raw)


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default, 0.0)
    if not value < 1.0:  # NaN too
        raise SettingsError(f"{name} must be a share below 1 (0.2 is 20%), got {value!r}")
    return value


def _fernet_keys(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "").strip()
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            # Never echo the value: it is a secret, even when malformed.
            raise SettingsError(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (32 bytes in "
                "URL-safe base64, 44 characters); make one with "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
    return keys


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    # Choices are matched in any case and returned in the case the list spells them.
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _seconds_list(
    env: Mapping[str, str], name: str, default: tuple[float, ...]
) -> tuple[float, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(
            f"{name} must be a comma-separated list of seconds, got {raw!r}"
        ) from None
    if not all(math.isfinite(value) and value >= 0 for value in values):
        raise SettingsError(f"{name} must hold seconds of 0 or more, got {raw!r}")
    return values


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    given_home = env.get("LEADGATE_HOME", "").strip()
    home = Path(given_home or ".leadgate").resolve()
    settings = Settings(
        database_url=_url(env, "DATABASE_URL", ("postgresql", "postgres", "postgresql+psycopg")),
        redis_url=_url(env, "REDIS_URL", ("redis", "rediss", "unix", "redis+socket")),
        broker_url=_url(
            env, "CELERY_BROKER_URL", ("redis", "rediss", "redis+socket", "amqp", "amqps", "pyamqp")
        ),
        home=home,
        max_body_bytes=int(_number(env, "LEADGATE_MAX_BODY_BYTES", 256 * 1024, 1)),
        task_max_attempts=int(_number(env, "LEADGATE_MAX_ATTEMPTS", 8, 1)),
        retry_base_seconds=_number(env, "LEADGATE_RETRY_BASE_SECONDS", 2.0, 0.0),
        retry_max_seconds=_number(env, "LEADGATE_RETRY_MAX_SECONDS", 300.0, 0.0),
        lock_ttl_seconds=_number(env, "LEADGATE_LOCK_TTL_SECONDS", 30.0, 0.05),
        batch_size=int(_number(env, "LEADGATE_BATCH_SIZE", 32, 1)),
        bulk_max_items=int(_number(env, "LEADGATE_BULK_MAX_ITEMS", 1000, 1)),
        sweep_interval_seconds=_number(env, "LEADGATE_SWEEP_INTERVAL_SECONDS", 15.0, 0.5),
        stuck_after_seconds=_number(env, "LEADGATE_STUCK_AFTER_SECONDS", 120.0, 1.0),
        auth_cache_seconds=_number(env, "LEADGATE_AUTH_CACHE_SECONDS", 5.0, 0.0),
        metrics_token=env.get("LEADGATE_METRICS_TOKEN", "").strip() or None,
        broker_key_prefix=env.get("LEADGATE_BROKER_KEY_PREFIX", "").strip(),
        secret_keys=_fernet_keys(env, "LEADGATE_SECRET_KEY"),
        secret_grace_seconds=_number(env, "LEADGATE_SECRET_GRACE_HOURS", 24.0, 0.0) * 3600.0,
        log_level=_choice(env, "LEADGATE_LOG_LEVEL", LOG_LEVELS, "INFO"),
        log_format=_choice(env, "LEADGATE_LOG_FORMAT", LOG_FORMATS, "json"),
        home_given=bool(given_home),
        webhook_allow_private=_flag(env, "LEADGATE_WEBHOOK_ALLOW_PRIVATE"),
        webhook_retry_schedule=_seconds_list(
            env, "LEADGATE_WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE
        ),
        webhook_disable_after_seconds=_number(
            env, "LEADGATE_WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 86400.0, 1.0
        ),
        console_enabled=_flag(env, "LEADGATE_CONSOLE", default=True),
        console_session_seconds=_number(env, "LEADGATE_CONSOLE_SESSION_HOURS", 12.0, 0.01) * 3600.0,
        console_secret_key=env.get("LEADGATE_CONSOLE_SECRET_KEY", "").strip() or None,
        console_signin_attempts=int(_number(env, "LEADGATE_CONSOLE_SIGNIN_ATTEMPTS", 10, 1)),
        drift_recent_events=int(_number(env, "LEADGATE_DRIFT_RECENT_EVENTS", 50, 1)),
        drift_missing_share=_share(env, "LEADGATE_DRIFT_MISSING_SHARE", 0.2),
        drift_failure_share=_share(env, "LEADGATE_DRIFT_FAILURE_SHARE", 0.2),
        drift_baseline_share=_share(env, "LEADGATE_DRIFT_BASELINE_SHARE", 0.5),
        drift_baseline_hours=_number(env, "LEADGATE_DRIFT_BASELINE_HOURS", 24.0, 1.0),
        drift_min_baseline_events=int(_number(env, "LEADGATE_DRIFT_MIN_BASELINE_EVENTS", 20, 1)),
        lease_seconds=_lease_seconds(env),
        redis_cluster=_flag(env, "LEADGATE_REDIS_CLUSTER"),
        redis_sentinels=_sentinels(env),
        redis_sentinel_master=env.get("LEADGATE_REDIS_SENTINEL_MASTER", "").strip() or "mymaster",
        group_commit_window_ms=_number(env, "LEADGATE_GROUP_COMMIT_WINDOW_MS", 2.0, 0.0),
        group_commit_max_rows=int(_number(env, "LEADGATE_GROUP_COMMIT_MAX_ROWS", 32, 1)),
        web_threads=int(_number(env, "WEB_THREADS", 16, 1)),
        wake_pending_seconds=_number(env, "LEADGATE_WAKE_PENDING_SECONDS", 5.0, 0.1),
        upload_dir=Path(env.get("LEADGATE_UPLOAD_DIR", "").strip() or home / "uploads").resolve(),
        upload_max_bytes=int(_number(env, "LEADGATE_UPLOAD_MAX_BYTES", 100 * 1024 * 1024, 1)),
        history_retention_days=_retention_days(env, "LEADGATE_HISTORY_RETENTION_DAYS", 365.0),
        test_lead_ttl_hours=_number(env, "LEADGATE_TEST_LEAD_TTL_HOURS", 24.0, 0.01),
        event_retention_months=_retention_months(env, "LEADGATE_EVENT_RETENTION_MONTHS", 0),
        raw_body_retention_days=_retention_days(env, "LEADGATE_RAW_BODY_RETENTION_DAYS", 0.0),
        inbox_maintenance_seconds=_number(env, "LEADGATE_INBOX_MAINTENANCE_SECONDS", 600.0, 1.0),
    )
    return _check_broker_beside(settings)


def _check_broker_beside(settings: Settings) -> Settings:
    # Celery's Redis transport speaks to one node: with the locks on a cluster or behind
    # Sentinel, REDIS_URL is no broker address, so the broker must be named on its own.
    if (settings.redis_cluster or settings.redis_sentinels) and settings.broker_url is None:
        raise SettingsError(
            "CELERY_BROKER_URL must be set when LEADGATE_REDIS_CLUSTER or "
            "LEADGATE_REDIS_SENTINELS is: the broker cannot use them (a single Redis or RabbitMQ)"
        )
    return settings


def _sentinels(env: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    name = "LEADGATE_REDIS_SENTINELS"
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    if _flag(env, "LEADGATE_REDIS_CLUSTER"):
        raise SettingsError(f"{name} and LEADGATE_REDIS_CLUSTER cannot both be set; choose one")
    found: list[tuple[str, int]] = []
    for part in (part.strip() for part in raw.split(",")):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(
                f"{name} must list host:port pairs separated by commas, got {part!r}"
            )
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


def _lease_seconds(env: Mapping[str, str]) -> float:
    lease = _number(env, "LEADGATE_LEASE_SECONDS", 5.0, 0.5)
    stuck_after = _number(env, "LEADGATE_STUCK_AFTER_SECONDS", 120.0, 1.0)
    if lease > stuck_after:
        raise SettingsError(
            f"LEADGATE_LEASE_SECONDS ({lease:g}) must not exceed LEADGATE_STUCK_AFTER_SECONDS "
            f"({stuck_after:g}), the longest one attempt may hold its events"
        )
    return lease


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
