"""Settings come from PVPP_* variables once; bad or missing values are named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.settings import Settings, SettingsError, get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_embedded_ones(monkeypatch, tmp_path):
    monkeypatch.delenv("PVPP_DATABASE_URL", raising=False)
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite://{(tmp_path / 'pvpp.sqlite3').as_posix()}"
    assert settings.port == 8000 and settings.display_timezone == "Asia/Seoul"


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("PVPP_PORT", "9100")
    monkeypatch.setenv("PVPP_DATABASE_URL", "postgres://u@h/db")
    settings = Settings()
    assert settings.port == 9100 and settings.resolved_database_url == "postgres://u@h/db"


def test_development_secret_is_generated_once(tmp_path):
    first = Settings(var_dir=tmp_path).signing_key
    assert len(first) >= 32 and Settings(var_dir=tmp_path).signing_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("missing", ["PVPP_DATABASE_URL", "PVPP_REDIS_URL", "PVPP_SECRET_KEY"])
def test_production_names_a_missing_required_value(monkeypatch, missing):
    env = {"PVPP_ENV": "production", "PVPP_DATABASE_URL": "postgres://u@h/db",
           "PVPP_REDIS_URL": "redis://h:6379/0", "PVPP_SECRET_KEY": "x" * 40}
    del env[missing]
    for key in ("PVPP_ENV", "PVPP_DATABASE_URL", "PVPP_REDIS_URL", "PVPP_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=missing):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_invalid_value_is_named_and_cli_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PVPP_PORT": "not-a-port", "PVPP_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "PVPP_PORT" in result.stderr and "Traceback" not in result.stderr


def test_serve_without_redis_url_names_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PVPP_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "PVPP_REDIS_URL" in result.stderr


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [f"PVPP_{name.upper()}" for name in Settings.model_fields if f"PVPP_{name.upper()}" not in readme]
    assert not missing, f"undocumented settings: {missing}"
