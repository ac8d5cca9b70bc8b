"""Settings from the environment and ``.env`` (the environment wins), checked at start."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

import messages

TOKEN_SHAPE = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{30,64}$")
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///data/qualiopi-bot.sqlite3"


class SettingError(ValueError):
    """A setting is malformed: ``name`` says which, ``code`` and ``data`` why."""

    def __init__(self, name: str, code: str, **data: object) -> None:
        super().__init__(f"{name}: {code}")
        self.name = name
        self.code = code
        self.data = data

    def line(self, lang: str) -> str:
        """Returns the one-line explanation, in ``lang``."""
        return messages.text(lang, "settings", self.code, name=self.name, **self.data)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot reads from its environment."""

    token: str | None
    base_url: str
    database_url: str
    default_language: str
    log_level: str
    webhook_url: str | None
    webhook_secret: str | None
    webhook_listen: str
    webhook_port: int
    consultancy_name: str | None = None
    consultancy_presentation: str | None = None
    """Shown to everyone, unless ``consultancy_presentations`` has the person's language."""
    consultancy_presentations: tuple[tuple[str, str], ...] = ()
    """The presentation per language (``CONSULTANCY_PRESENTATION_EN``…), where one is set."""
    consultancy_contact_url: str | None = None
    consultancy_booking_url: str | None = None
    admin_chat_ids: frozenset[int] = frozenset()
    evidence_max_file_mb: int = 20
    """The largest file a person may attach (Telegram lets a bot download 20 MB at most)."""
    evidence_max_files: int = 100
    evidence_max_total_mb: int = 200
    """What one person's dossier de preuves may hold in all."""
    offer_not_concerned: bool = False
    """True: the consultancy's offer follows a "not concerned" result too."""
    data_retention_days: int = 365
    log_format: str = "json"
    max_messages_per_second: float = 30.0
    health_port: int | None = None
    """Where /health and /metrics listen (None: nowhere), apart from the webhook."""
    health_listen: str = "127.0.0.1"
    timezone: str = "Europe/Paris"
    """Where the consultancy reads times (CSV exports)."""
    migrate_on_start: bool = True
    """False: a worker refuses a database whose schema is not current (run ``migrate``)."""
    reply_lease_seconds: int = 30
    """How long a worker holds the replies it is saying before another may say them
    (``bot.telegram.delivery``)."""

    @property
    def base_file_url(self) -> str:
        """Returns the file endpoint matching ``base_url`` (…/bot → …/file/bot)."""
        if self.base_url.endswith("/bot"):
            return self.base_url[: -len("/bot")] + "/file/bot"
        return self.base_url.rstrip("/") + "/file/bot"

    @property
    def uses_webhook(self) -> bool:
        """Tells whether to receive updates by webhook rather than polling."""
        return bool(self.webhook_url)


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme in ("mailto", "tel")):
        raise SettingError(name, "bad_url", schemes=schemes, given=value)
    return value


def _zone(get: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = get("TIMEZONE", "Europe/Paris")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingError("TIMEZONE", "bad_timezone", given=name) from exc
    return str(name)


def _seconds(get: Any, name: str, default: int) -> int:
    value = get(name, str(default))
    if not value.isdigit() or not 1 <= int(value) <= 600:
        raise SettingError(name, "bad_seconds", given=value)
    return int(value)


def _bounded(get: Any, name: str, default: int, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high``."""
    text = get(name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingError(name, "bad_bounded", given=text, low=low, high=high)
    return int(text)


def _boolean(get: Any, name: str, *, default: bool) -> bool:
    value = get(name, "true" if default else "false").lower()
    if value not in ("true", "false"):
        raise SettingError(name, "one_of", allowed=("true", "false"), given=value)
    return bool(value == "true")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Reads the settings; raises SettingError naming the first malformed one."""
    environ = os.environ if environ is None else environ
    file_values: dict[str, str | None] = {}
    env_file = env_file if env_file is not None else Path(".env")
    if env_file.is_file():
        file_values = dict(dotenv_values(env_file))

    def get(name: str, default: str = "") -> str:
        return _lookup(name, environ, file_values) or default

    token = get("TELEGRAM_BOT_TOKEN") or None
    if token is not None and not TOKEN_SHAPE.match(token):
        raise SettingError("TELEGRAM_BOT_TOKEN", "bad_token")
    base_url = _url(
        "TELEGRAM_BASE_URL", get("TELEGRAM_BASE_URL", DEFAULT_BASE_URL), ("https", "http")
    )
    database_url = get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingError("DATABASE_URL", "bad_database_url")
    language = get("DEFAULT_LANGUAGE", messages.DEFAULT_LANGUAGE).lower()
    if language not in messages.LANGUAGES:
        raise SettingError(
            "DEFAULT_LANGUAGE", "one_of", allowed=messages.LANGUAGES, given=language
        )
    log_level = get("LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingError("LOG_LEVEL", "one_of", allowed=LOG_LEVELS, given=log_level)
    webhook_url = get("WEBHOOK_URL") or None
    if webhook_url is not None:
        _url("WEBHOOK_URL", webhook_url, ("https", "http"))
    secret = get("WEBHOOK_SECRET") or None
    if secret is not None and not SECRET_SHAPE.match(secret):
        raise SettingError("WEBHOOK_SECRET", "bad_secret")
    if webhook_url and not secret:
        raise SettingError("WEBHOOK_SECRET", "secret_required")
    port_text = get("WEBHOOK_PORT", "8443")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingError("WEBHOOK_PORT", "bad_port", given=port_text)
    log_format = get("LOG_FORMAT", "json").lower()
    if log_format not in ("json", "text"):
        raise SettingError("LOG_FORMAT", "one_of", allowed=("json", "text"), given=log_format)
    rate = get("TELEGRAM_MAX_MESSAGES_PER_SECOND", "30")
    try:
        max_rate = float(rate)
    except ValueError:
        max_rate = -1.0
    if not 0 < max_rate <= 100_000:
        raise SettingError("TELEGRAM_MAX_MESSAGES_PER_SECOND", "bad_rate", given=rate)
    health = get("HEALTH_PORT")
    if health and (not health.isdigit() or not 0 < int(health) < 65536):
        raise SettingError("HEALTH_PORT", "bad_port", given=health)
    if webhook_url and health and int(health) == int(port_text):
        raise SettingError("HEALTH_PORT", "same_port", other="WEBHOOK_PORT")
    consultancy = _consultancy(get)
    return Settings(
        token=token,
        base_url=base_url,
        database_url=database_url,
        default_language=language,
        log_level=log_level,
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=get("WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(port_text),
        log_format=log_format,
        max_messages_per_second=max_rate,
        health_port=int(health) if health else None,
        health_listen=get("HEALTH_LISTEN", "127.0.0.1"),
        migrate_on_start=_boolean(get, "MIGRATE_ON_START", default=True),
        timezone=_zone(get),
        reply_lease_seconds=_seconds(get, "REPLY_LEASE_SECONDS", 30),
        **consultancy,
    )


FILE_SECRETS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "DATABASE_URL")
"""Settings that may be read from a file named by ``<NAME>_FILE`` (Docker or Kubernetes
secrets), when ``<NAME>`` itself is not set."""


def _lookup(name: str, environ: Mapping[str, str], file_values: Mapping[str, str | None]) -> str:
    """One setting: the environment, else the .env file, else (a secret) the file that
    ``<NAME>_FILE`` names; stripped."""
    value = environ.get(name)
    if value is None:
        value = file_values.get(name)
    if value is None and name in FILE_SECRETS:
        path = environ.get(f"{name}_FILE") or file_values.get(f"{name}_FILE")
        if path:
            try:
                value = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingError(f"{name}_FILE", "unreadable_file", given=path) from exc
    return (value or "").strip()


def _consultancy(get: Callable[..., str]) -> dict[str, Any]:
    """Reads the consultancy's settings: branding, admin chats, retention."""
    admins: set[int] = set()
    for raw_piece in get("ADMIN_CHAT_IDS").replace(";", ",").split(","):
        piece = raw_piece.strip()
        if not piece:
            continue
        if not piece.lstrip("-").isdigit():
            raise SettingError("ADMIN_CHAT_IDS", "bad_chat_ids", given=piece)
        admins.add(int(piece))
    retention = get("DATA_RETENTION_DAYS", "365")
    if not retention.isdigit() or not 1 <= int(retention) <= 3650:
        raise SettingError("DATA_RETENTION_DAYS", "bad_days", given=retention)
    links = {}
    for name in ("CONSULTANCY_CONTACT_URL", "CONSULTANCY_BOOKING_URL"):
        value = get(name) or None
        links[name] = _url(name, value, ("https", "http", "mailto", "tel")) if value else None
    return {
        "consultancy_name": get("CONSULTANCY_NAME")[:100] or None,
        "consultancy_presentation": get("CONSULTANCY_PRESENTATION")[:600] or None,
        "consultancy_presentations": tuple(
            (lang, text[:600])
            for lang in messages.LANGUAGES
            if (text := get(f"CONSULTANCY_PRESENTATION_{lang.upper()}"))
        ),
        "consultancy_contact_url": links["CONSULTANCY_CONTACT_URL"],
        "consultancy_booking_url": links["CONSULTANCY_BOOKING_URL"],
        "admin_chat_ids": frozenset(admins),
        "offer_not_concerned": _boolean(get, "CONSULTANCY_OFFER_NOT_CONCERNED", default=False),
        "evidence_max_file_mb": _bounded(get, "EVIDENCE_MAX_FILE_MB", 20, 1, 20),
        "evidence_max_files": _bounded(get, "EVIDENCE_MAX_FILES", 100, 1, 1000),
        "evidence_max_total_mb": _bounded(get, "EVIDENCE_MAX_TOTAL_MB", 200, 1, 10_000),
        "data_retention_days": int(retention),
    }
