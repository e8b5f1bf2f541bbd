import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from paperclub.env import env_bool, env_int

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "EMAIL_BACKEND",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("ON", True), ("0", False), ("off", False), ("", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)

    assert env_bool("FLAG", default=not expected) is expected


@pytest.mark.parametrize("raw", ["yes", "2", "enabled"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)

    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        env_bool("FLAG", default=False)


def test_env_int_refuses_words(monkeypatch):
    monkeypatch.setenv("N", "ten")

    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 1)


def test_app_refuses_to_start_without_secret_key_in_production():
    result = run_manage("check", DEBUG="0")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_bad_debug_value_stops_the_app():
    result = run_manage("check", DEBUG="yes")

    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-value",
        ALLOWED_HOSTS="paperclub.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_every_page_sends_a_strict_content_security_policy(client, db):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_have_no_inline_scripts(client, db):
    html = client.get("/accounts/login/").content.decode() + client.get("/").content.decode()

    assert "<script>" not in html
    assert " onclick=" not in html


def test_sessions_app_is_labelled_meetings():
    from django.apps import apps

    assert apps.get_app_config("meetings").name == "sessions"
    assert apps.get_app_config("sessions").name == "django.contrib.sessions"


def test_empty_database_url_means_the_default_sqlite_file():
    result = run_manage("check", DEBUG="1", DATABASE_URL="")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISCORD_PUBLIC_KEY": "not-hex"}, "DISCORD_PUBLIC_KEY must be the 64 hex characters"),
        ({"DISCORD_PUBLIC_KEY": "ab" * 31}, "DISCORD_PUBLIC_KEY must be the 64 hex characters"),
        ({"DISCORD_APPLICATION_ID": "my-app"}, "DISCORD_APPLICATION_ID must be the application"),
        ({"DISCORD_TIMEOUT": "0"}, "DISCORD_TIMEOUT must be a number of seconds above 0."),
    ],
)
def test_bad_discord_settings_stop_the_app(env, message):
    result = run_manage("check", DEBUG="1", **env)

    assert result.returncode != 0
    assert message in result.stderr


def test_a_discord_public_key_as_the_portal_shows_it_is_accepted():
    result = run_manage("check", DEBUG="1", DISCORD_PUBLIC_KEY="AB" * 32)

    assert result.returncode == 0, result.stderr
