"""Broker accounts for the simulated devices, issued as pairing issues them (``plug-<id>`` of
the device's first channel, a random password, its hash on every channel's row), when the
platform keeps the broker's password and ACL files: so ``pvpp run``'s simulator logs in like a
real device and its broker refuses everyone else."""

from __future__ import annotations

from collections import defaultdict

from backend.plugs import broker_auth, broker_sync
from backend.plugs.fleet_model import FleetModel
from backend.plugs.models import Plug
from backend.plugs.readings import Vendor
from backend.settings import Settings

Accounts = dict[tuple[Vendor, str], tuple[str, str]]  # (vendor, device id) -> (user, password)


async def issue_accounts(settings: Settings, fleet: FleetModel) -> Accounts:
    """A new account for every MQTT device of ``fleet`` that is paired, then the broker's files
    rewritten; empty when the platform does not keep them."""
    if not broker_sync.enabled(settings):
        return {}
    devices = {(p.vendor, p.device_id) for p in fleet.plugs if p.vendor is not Vendor.HTTP}
    rows: dict[tuple[Vendor, str], list[Plug]] = defaultdict(list)
    ids = sorted({device for _, device in devices})
    for plug in await Plug.filter(unpaired_at=None, device_id__in=ids).order_by("id"):
        key = (Vendor(plug.vendor), plug.device_id)
        if key in devices:
            rows[key].append(plug)
    accounts: Accounts = {}
    changed = []
    for key, plugs in rows.items():
        credentials = broker_auth.new_credentials(plugs[0].id)
        for plug in plugs:
            plug.mqtt_username, plug.mqtt_password_hash = credentials.username, credentials.password_hash
        changed += plugs
        accounts[key] = (credentials.username, credentials.password)
    if changed:
        await Plug.bulk_update(changed, fields=["mqtt_username", "mqtt_password_hash"], batch_size=1_000)
    await broker_sync.sync_broker(settings)
    return accounts
