"""Broker accounts for ``pvpp run``'s embedded broker, so it is never an open broker: the
password and ACL files in ``var/mqtt/`` (unless ``PVPP_MQTT_PASSWORD_FILE``/``…_ACL_FILE`` name
others), the bridge's platform account (``PVPP_MQTT_USERNAME``/``…_PASSWORD``, or ``pvpp-bridge``
with a password made for this run), and the environment that hands all of it to the children.
The API adds each paired plug's account at pairing, the simulator its devices' accounts."""

from __future__ import annotations

import secrets

from backend.plugs import broker_auth
from backend.settings import Settings

BRIDGE_USER = "pvpp-bridge"


def prepare(settings: Settings) -> dict[str, str]:
    """Write the files with the bridge's account only (``pvpp broker-sync`` adds the paired
    plugs once the database is migrated) and return the children's ``PVPP_MQTT_*`` settings."""
    folder = settings.var_dir.resolve() / "mqtt"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    password_file = settings.mqtt_password_file or folder / "passwd"
    acl_file = settings.mqtt_acl_file or folder / "acl"
    user = settings.mqtt_username or BRIDGE_USER
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else secrets.token_urlsafe(24)
    passwd, acl = broker_auth.render_files([], user, broker_auth.mosquitto_hash(password))
    broker_auth.write_files(password_file, acl_file, passwd, acl)
    return {"PVPP_MQTT_USERNAME": user, "PVPP_MQTT_PASSWORD": password,
            "PVPP_MQTT_PASSWORD_FILE": str(password_file), "PVPP_MQTT_ACL_FILE": str(acl_file)}
