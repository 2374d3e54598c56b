"""One typed settings object, read once from ``PVPP_*`` environment variables.

Every variable, its default and its meaning is listed in the README. In production
(``PVPP_ENV=production``) the values that have no safe default are required and a missing
one stops start-up with its name.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """A required setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PVPP_", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str = ""
    secret_key: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    display_timezone: str = "Asia/Seoul"
    graphiql: bool = True

    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    signin_window_seconds: int = Field(900, ge=1)
    signin_max_failures_per_account: int = Field(5, ge=1)
    signin_max_failures_per_address: int = Field(100, ge=1)
    ws_session_check_seconds: float = Field(2.0, gt=0, le=60)
    signup_window_seconds: int = Field(600, ge=1)
    signup_max_per_address: int = Field(30, ge=1)
    password_min_length: int = Field(10, ge=8)
    password_min_strength: int = Field(2, ge=0, le=4)
    guardian_consent_age: int = Field(14, ge=0)
    unconsented_account_days: int = Field(14, ge=1)
    password_hash_memory_kib: int = Field(65_536, ge=1_024)
    password_hash_time_cost: int = Field(3, ge=1)

    graphql_max_depth: int = Field(10, ge=2)
    graphql_max_aliases: int = Field(15, ge=1)
    graphql_max_tokens: int = Field(2_000, ge=10)
    max_request_bytes: int = Field(1_000_000, ge=1_024)

    ledger_signing_key: SecretStr | None = None
    ledger_origin: str = Field("peoples-vpp.local/ledger", min_length=1, max_length=100, pattern=r"^[^\s+]+$")
    ledger_checkpoint_minutes: int = Field(10, ge=1, le=60)
    ledger_proofs_per_minute: int = Field(600, ge=1, le=1_000_000)
    redemption_code_ttl_seconds: int = Field(300, ge=30, le=86_400)
    activity_max_age_days: int = Field(31, ge=1, le=366)

    mqtt_url: str = Field("", pattern=r"^(mqtt://[^\s/]+(:\d+)?/?)?$")
    mqtt_version: int = Field(5, ge=4, le=5)
    mqtt_client_id: str = Field("pvpp-bridge", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    mqtt_shared_group: str = Field("", max_length=32, pattern=r"^[A-Za-z0-9_-]*$")
    mqtt_username: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    mqtt_password: SecretStr | None = None
    mqtt_password_file: Path | None = None  # Mosquitto password_file the platform keeps
    mqtt_acl_file: Path | None = None  # Mosquitto acl_file the platform keeps
    mqtt_broker_pid_file: Path | None = None  # SIGHUP-ed after the files change
    # the broker as devices reach it, shown after pairing (mqtts:// = TLS); default PVPP_MQTT_URL
    mqtt_device_url: str = Field("", pattern=r"^(mqtts?://[^\s/:]+(:\d+)?/?)?$")
    electricity_price_won_per_kwh: float = Field(150.0, gt=0, le=10_000)
    tou_table_path: Path | None = None
    plug_pairing_code_ttl_seconds: int = Field(600, ge=60, le=86_400)
    plug_raw_retention_days: int = Field(35, ge=8, le=3_650)
    plug_batch_size: int = Field(5_000, ge=1, le=100_000)
    plug_push_per_minute: int = Field(120, ge=1, le=100_000)
    plug_push_bad_tokens_per_address: int = Field(20, ge=1, le=100_000)
    plug_command_confirm_seconds: float = Field(10.0, gt=0, le=300)
    plug_command_attempts: int = Field(3, ge=1, le=10)
    bridge_metrics_port: int = Field(0, ge=0, le=65535)
    dr_min_notice_minutes: int = Field(60, ge=0, le=10_080)
    dr_max_duration_minutes: int = Field(240, ge=5, le=1_440)
    dr_opt_out_grace_minutes: int = Field(15, ge=0, le=240)
    dr_push_seconds: float = Field(5.0, gt=0, le=300)
    dr_live_seconds: float = Field(10.0, gt=0, le=600)
    dr_reference_days: int = Field(10, ge=1, le=60)
    dr_reference_min_days: int = Field(3, ge=1, le=60)
    dr_min_aggregate_households: int = Field(5, ge=1, le=1_000)
    dr_settle_after_hours: float = Field(6.0, ge=0, le=168)
    dr_restate_days: int = Field(7, ge=0, le=35)
    dr_default_baseline: Literal["kpx_mid_6_10", "kpx_max_4_5", "uk_dfs", "ohmconnect"] = "kpx_mid_6_10"
    dr_choice_days: int = Field(60, ge=14, le=365)

    # photo evidence (docs/photos.md)
    photo_dir: Path | None = None
    photo_max_upload_bytes: int = Field(12 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    photo_url_ttl_seconds: int = Field(300, ge=10, le=3_600)
    photo_model_path: Path | None = None
    photo_model_check_seconds: float = Field(30.0, ge=0, le=3_600)
    photo_auto_accept_confidence: float = Field(0.98, ge=0.5, le=1.0)
    photo_auto_reject_invalid_confidence: float = Field(0.97, ge=0.5, le=1.01)
    photo_auto_reject_screenshot_score: float = Field(0.90, ge=0.5, le=1.01)
    photo_auto_reject_uniform_score: float = Field(0.90, ge=0.5, le=1.01)
    photo_capture_max_days: int = Field(3, ge=0, le=366)
    photo_verify_retry_seconds: int = Field(60, ge=1, le=3_600)
    photo_ocr_enabled: bool = True
    public_base_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    scoreboard_min_students: int = Field(5, ge=1, le=1_000)
    grid_emission_factor_t_per_mwh: float = Field(0.4173, gt=0, le=2)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @model_validator(mode="after")
    def _production_requires_explicit_values(self) -> Settings:
        if self.env == "production":
            for name in ("database_url", "redis_url", "secret_key"):
                if not getattr(self, name):
                    raise SettingsError(f"PVPP_{name.upper()} is required when PVPP_ENV=production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``var_dir``."""
        return self.database_url or f"sqlite://{(self.var_dir / 'pvpp.sqlite3').as_posix()}"

    @property
    def photo_store_dir(self) -> Path:
        """Where sanitised photos are kept: ``PVPP_PHOTO_DIR`` or ``var_dir/photos``."""
        return self.photo_dir or self.var_dir / "photos"

    @property
    def mqtt_address(self) -> tuple[str, int]:
        """Host and port of ``PVPP_MQTT_URL`` (``mqtt://host:port``)."""
        if not self.mqtt_url:
            raise SettingsError("PVPP_MQTT_URL is not set (use 'pvpp run' for an embedded broker)")
        netloc = self.mqtt_url.removeprefix("mqtt://").rstrip("/")
        host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "1883")
        return host, int(port)

    @property
    def mqtt_device_address(self) -> tuple[str, int, bool] | None:
        """(host, port, TLS) of the broker as devices reach it: ``PVPP_MQTT_DEVICE_URL``
        (``mqtts://`` is TLS, default port 8883), else ``PVPP_MQTT_URL``; None when neither is set."""
        url = self.mqtt_device_url or self.mqtt_url
        if not url:
            return None
        tls = url.startswith("mqtts://")
        netloc = url.split("://", 1)[1].rstrip("/")
        host, _, port = netloc.partition(":")
        return host, int(port or (8883 if tls else 1883)), tls

    @property
    def signing_key(self) -> str:
        """The token signing key; outside production one is generated once under ``var_dir``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _development_secret(self.var_dir.resolve())

    @property
    def ledger_key_seed(self) -> bytes:
        """The 32-byte Ed25519 seed that signs ledger checkpoints.

        From ``PVPP_LEDGER_SIGNING_KEY`` (base64) when set; otherwise generated on first run and
        kept in ``var_dir/ledger_signing_key`` (mode 0600), so checkpoints stay verifiable.
        """
        if self.ledger_signing_key is not None:
            try:
                seed = base64.b64decode(self.ledger_signing_key.get_secret_value(), validate=True)
            except binascii.Error:
                seed = b""
            if len(seed) != 32:
                raise SettingsError("PVPP_LEDGER_SIGNING_KEY must be 32 bytes in base64")
            return seed
        return _generated_ledger_seed(self.var_dir.resolve())


@functools.cache
def _development_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@functools.cache
def _generated_ledger_seed(var_dir: Path) -> bytes:
    path = var_dir / "ledger_signing_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        tmp.chmod(0o600)
        tmp.replace(path)
    return base64.b64decode(path.read_text().strip())


@functools.cache
def get_settings() -> Settings:
    """Read the environment once; raise :class:`SettingsError` naming a bad variable."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PVPP_{'_'.join(str(p) for p in err['loc']).upper() or '?'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(problems) from None
