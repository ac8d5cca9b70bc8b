"""Settings: environment over .env, defaults, one clear line for a malformed setting."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, SettingError, load_settings
from bot.logs import configure_logging
from tests.bot.fakes import TOKEN


def test_defaults_without_any_setting(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "none")
    assert settings.token is None
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.base_file_url == "https://api.telegram.org/file/bot"
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.default_language == "fr"
    assert not settings.uses_webhook


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDEFAULT_LANGUAGE=en\n"
        "TELEGRAM_BASE_URL=http://127.0.0.1:8081/bot\n",
        encoding="utf-8",
    )
    settings = load_settings({"DEFAULT_LANGUAGE": "fr"}, env_file=env)
    assert settings.token == TOKEN
    assert settings.default_language == "fr"
    assert settings.base_url == "http://127.0.0.1:8081/bot"
    assert settings.base_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"WEBHOOK_URL": "https://bot.example.org/hook"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "https://x.org/h", "WEBHOOK_SECRET": "has space"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_PORT": "eighty"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_URL": "nope", "WEBHOOK_SECRET": "s"}, "WEBHOOK_URL"),
    ],
)
def test_a_malformed_setting_is_named(tmp_path: Path, environ: dict[str, str], name: str) -> None:
    with pytest.raises(SettingError) as caught:
        load_settings(environ, env_file=tmp_path / "none")
    assert caught.value.name == name
    for lang in ("fr", "en"):
        line = caught.value.line(lang)
        assert name in line
        assert "\n" not in line


def test_logs_never_show_the_token() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", [TOKEN], stream)
    log = logging.getLogger("qualiopi_bot.test")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("boom")
    assert logging.getLogger("httpx").level == logging.WARNING
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("<redacted>") == 2  # the message and the exception line
    logging.getLogger().handlers.clear()


def test_logs_never_show_the_webhook_secret_the_database_password_or_update_bodies() -> None:
    from types import SimpleNamespace

    from bot.logs import secrets_of

    settings = SimpleNamespace(
        token=TOKEN,
        webhook_secret="s3cr3t-webhook-value",
        database_url="postgresql://bot:pa55w0rd-db@127.0.0.1/qualiopi",
    )
    stream = io.StringIO()
    configure_logging("DEBUG", secrets_of(settings), stream)
    logging.getLogger("qualiopi_bot.test").warning(
        "webhook s3cr3t-webhook-value, database postgresql://bot:pa55w0rd-db@127.0.0.1/q"
    )
    logging.getLogger("telegram.ext.Updater").debug("update {'contact': '+33600000000'}")
    output = stream.getvalue()
    assert "s3cr3t-webhook-value" not in output
    assert "pa55w0rd-db" not in output
    assert "+33600000000" not in output, "the library's DEBUG lines carry update bodies"
    assert output.count("<redacted>") == 2


def test_chat_references_in_logs_are_keyed() -> None:
    import hashlib

    from bot.telegram.logref import chat_ref, use_key

    use_key("one deployment's token")
    first = chat_ref(123456)
    assert first != hashlib.sha256(b"123456").hexdigest()[:12], "not a plain hash"
    assert chat_ref(123456) == first, "stable within a deployment"
    use_key("another token")
    assert chat_ref(123456) != first


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    """Docker and Kubernetes secrets are files: ``<NAME>_FILE`` names one when ``<NAME>`` is
    not set; a file that cannot be read is named in one line."""
    from bot.config import SettingError, load_settings

    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    secret = tmp_path / "secret"
    secret.write_text("s3cret-from-file\n")
    env = {
        "TELEGRAM_BOT_TOKEN_FILE": str(token),
        "WEBHOOK_URL": "https://bot.example/telegram",
        "WEBHOOK_SECRET_FILE": str(secret),
    }
    loaded = load_settings(env, env_file=tmp_path / "none")
    assert loaded.token == TOKEN
    assert loaded.webhook_secret == "s3cret-from-file"
    with pytest.raises(SettingError) as refused:
        load_settings({"TELEGRAM_BOT_TOKEN_FILE": str(tmp_path / "absent")}, tmp_path / "none")
    assert refused.value.name == "TELEGRAM_BOT_TOKEN_FILE"
    assert "absent" in refused.value.line("fr")
