"""Settings come from the environment or .env, name the variable of every wrong value, and never show secrets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import DESIGN_ROOT, Settings
from portal.domain.requests import RequestKind
from portal.settings import DEFAULT_DATABASE_URL, SettingsError, database_url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A working directory of its own (for .env) and none of our variables set."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields.values():
        monkeypatch.delenv(str(name.alias), raising=False)
    return monkeypatch


def test_built_by_hand_every_setting_has_a_default_and_the_environment_is_not_read(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("SLACK_APP_TOKEN", "xapp-from-the-machine")
    settings = Settings(slack_bot_token=SecretStr("xoxb-test"))
    assert settings.slack_app_token is None  # tests do not pick up the machine's Socket Mode token
    assert (settings.port, settings.log_level, settings.turn_workers, settings.transfer_expiry_days) == (
        3000,
        "WARNING",
        0,
        14,
    )
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.design_root == DESIGN_ROOT


def test_the_environment_then_dot_env_with_the_existing_variable_names(environment: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\nPORT=3999\nCHARGEDESK_AGENT_USERS=U01, U02,\nSLACK_APP_TOKEN=\n"
        "DATABASE_URL=sqlite+aiosqlite:///dotenv.db\n",
        encoding="utf-8",
    )
    environment.setenv("PORT", "3001")  # the environment wins over .env
    environment.setenv("LOG_LEVEL", "info")
    environment.setenv("CHARGEDESK_TRIAGE_CHANNEL", "C0TRIAGE")
    settings = Settings.from_env()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-dotenv"
    assert settings.port == 3001
    assert settings.log_level == "INFO"
    assert settings.agent_users == {"U01", "U02"}
    assert settings.slack_app_token is None  # blank is not set
    assert settings.triage_channel == "C0TRIAGE"
    assert database_url() == "sqlite+aiosqlite:///dotenv.db"  # the portal reads .env too


def test_every_wrong_value_is_named_with_the_form_it_needs(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("PORT", "three thousand")
    environment.setenv("CHARGEDESK_TURN_WORKERS", "-1")
    environment.setenv("CHARGEDESK_TRANSFER_EXPIRY_DAYS", "two weeks")
    environment.setenv("LOG_LEVEL", "loud")
    environment.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token-by-mistake")
    environment.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token")
    environment.setenv("RASA_URL", "localhost:5005")
    environment.setenv("DATABASE_URL", "chargedesk.db")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    lines = str(raised.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "CHARGEDESK_TRANSFER_EXPIRY_DAYS",
        "CHARGEDESK_TURN_WORKERS",
        "DATABASE_URL",
        "LOG_LEVEL",
        "PORT",
        "RASA_URL",
        "SLACK_APP_TOKEN",
        "SLACK_BOT_TOKEN",
    ]
    assert "PORT: expected a TCP port number, 1 to 65535 (got 'three thousand')" in lines
    assert "CHARGEDESK_TURN_WORKERS: expected a whole number of processes, 0 or more (got '-1')" in lines
    assert "SLACK_BOT_TOKEN: expected the app's bot token, xoxb-… (OAuth & Permissions)" in lines
    assert "xoxp-a-user-token-by-mistake" not in str(raised.value)  # secrets are never echoed
    assert "xoxb-not-an-app-token" not in str(raised.value)


def test_tokens_and_the_signing_secret_are_secret_strings(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SLACK_BOT_TOKEN", "xoxb-real-token")
    environment.setenv("SLACK_SIGNING_SECRET", "real-signing-secret")
    environment.setenv("SLACK_APP_TOKEN", "xapp-real-token")
    settings = Settings.from_env()
    for secret in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token):
        assert isinstance(secret, SecretStr)
    shown = repr(settings) + str(settings) + repr(settings.model_dump()) + settings.model_dump_json()
    for secret_value in ("xoxb-real-token", "real-signing-secret", "xapp-real-token"):
        assert secret_value not in shown


def test_the_command_names_the_variable_instead_of_a_traceback(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    environment.setenv("CHARGEDESK_TURN_WORKERS", "many")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "CHARGEDESK_TURN_WORKERS: expected a whole number of processes, 0 or more (got 'many')" in err


def test_the_sla_and_customer_wait_settings_have_defaults_and_name_a_wrong_value(
    environment: pytest.MonkeyPatch,
) -> None:
    settings = Settings()
    assert (settings.sla_digest_hour, settings.customer_remind_days, settings.customer_close_days) == (8, 3, 7)
    assert settings.sla_service_ticket == "4h/3d"
    environment.setenv("CHARGEDESK_SLA_DIGEST_HOUR", "24")
    environment.setenv("CHARGEDESK_CUSTOMER_REMIND_DAYS", "5")
    environment.setenv("CHARGEDESK_CUSTOMER_CLOSE_DAYS", "5")  # no later than the reminder
    environment.setenv("CHARGEDESK_SLA_TRANSFER", "one day")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    lines = str(raised.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "CHARGEDESK_CUSTOMER_CLOSE_DAYS",
        "CHARGEDESK_SLA_DIGEST_HOUR",
        "CHARGEDESK_SLA_TRANSFER",
    ]
    assert "CHARGEDESK_SLA_DIGEST_HOUR: expected an hour of the day in UTC, 0 to 23 (got '24')" in lines
    assert (
        "CHARGEDESK_CUSTOMER_CLOSE_DAYS: expected a whole number of days, more than CHARGEDESK_CUSTOMER_REMIND_DAYS "
        "(got '5')" in lines
    )
    environment.setenv("CHARGEDESK_SLA_DIGEST_HOUR", "6")
    environment.setenv("CHARGEDESK_CUSTOMER_CLOSE_DAYS", "10")
    environment.setenv("CHARGEDESK_SLA_TRANSFER", "2d/5d")
    settings = Settings.from_env()
    assert (settings.sla_digest_hour, settings.customer_remind_days, settings.customer_close_days) == (6, 5, 10)
    assert settings.sla_rules().targets[RequestKind.TRANSFER].resolution == timedelta(days=5)
