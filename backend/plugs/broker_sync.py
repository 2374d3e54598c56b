"""Keep the broker's password and ACL files in step with the active MQTT pairings."""

from __future__ import annotations

import asyncio
import fcntl
from contextlib import contextmanager
from pathlib import Path

from backend.plugs import broker_auth
from backend.plugs.models import Plug
from backend.plugs.readings import Vendor
from backend.settings import Settings

_LOCK = asyncio.Lock()


def enabled(settings: Settings) -> bool:
    return settings.mqtt_password_file is not None and settings.mqtt_acl_file is not None


@contextmanager
def _file_lock(path: Path):
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def sync_broker(settings: Settings) -> int | None:
    """Rewrite both files from the database and SIGHUP the broker; the number of plug
    accounts written, or None when the platform does not manage the broker's files.

    Reading and writing happen under a file lock, so of two concurrent pairings the later
    snapshot always wins and no account is lost."""
    if not enabled(settings):
        return None
    assert settings.mqtt_password_file is not None and settings.mqtt_acl_file is not None
    async with _LOCK:
        with _file_lock(settings.mqtt_acl_file):
            rows = await Plug.filter(unpaired_at=None, mqtt_password_hash__isnull=False).order_by("id").values(
                "mqtt_username", "mqtt_password_hash", "vendor", "device_id", "topic_template")
            # a multi-channel device has one account on each channel's row: written once
            unique = {r["mqtt_username"]: r for r in rows}.values()
            accounts = [broker_auth.Account(r["mqtt_username"], r["mqtt_password_hash"], Vendor(r["vendor"]),
                                            r["device_id"], r["topic_template"]) for r in unique]
            bridge_password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
            if not settings.mqtt_username or not bridge_password:
                raise ValueError("PVPP_MQTT_USERNAME and PVPP_MQTT_PASSWORD are needed for the bridge's account")
            passwd, acl = broker_auth.render_files(accounts, settings.mqtt_username,
                                                   broker_auth.mosquitto_hash(bridge_password))
            broker_auth.write_files(settings.mqtt_password_file, settings.mqtt_acl_file, passwd, acl)
        if settings.mqtt_broker_pid_file is not None:
            broker_auth.reload_broker(settings.mqtt_broker_pid_file)
    return len(accounts)
