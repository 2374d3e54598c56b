"""Device topic layouts other than the vendor defaults, chosen per plug at pairing.

* Tasmota: the device's ``FullTopic`` with ``%prefix%`` once, fixed levels and the device's own
  tokens ``%topic%``, ``%hostname%``, ``%id%`` (its MAC, 12 hex digits; each at most once, at
  least one), e.g. ``%topic%/%prefix%/``, ``home/%prefix%/%topic%/``, ``%prefix%/%hostname%/``;
  the default is ``%prefix%/%topic%/``. The device id given at pairing is the value of the
  template's *key* token: ``%topic%`` when it has one, else ``%hostname%``, else ``%id%``. The
  other tokens are read as any level and learned (from the device's topics and its discovery
  config) where a concrete topic is needed: its commands.
* Shelly Gen2+: the "MQTT prefix" when it has several levels (``home/shellies/strip-1``);
  the device id given at pairing is then the device's own id (its RPC ``src``).

A :class:`TopicMap` built from the paired plugs turns a templated topic back into the
vendor's default layout, so one parser reads both; :func:`filters` gives the bridge the
subscriptions for the templates in use (a device on such a layout that is not paired is then
counted as a reject, not unseen). Pure functions: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.errors import ValidationFailed
from backend.plugs.readings import Rejected, RejectReason, Vendor

TASMOTA_DEFAULT = "%prefix%/%topic%"
DEVICE_TOKENS = ("%topic%", "%hostname%", "%id%")  # in this order the key token (module docstring)
TASMOTA_PREFIXES = ("tele", "stat", "cmnd")
MAX_LEVELS = 6
_LEVEL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
#: first levels a template may not start with: they are other trees' (a device's account could
#: otherwise write into them)
_FOREIGN = frozenset({"tele", "stat", "cmnd", "tasmota", "homeassistant", "$SYS", "pvpp-bridge"})
DISCOVERY_FILTER = "tasmota/discovery/+/config"


def _levels_ok(levels: list[str]) -> bool:
    return 0 < len(levels) <= MAX_LEVELS and all(0 < len(x) <= 64 and _LEVEL_CHARS.issuperset(x)
                                                 for x in levels)


def key_token(template: str | None) -> str:
    """The token whose value is the device id given at pairing (see the module docstring)."""
    levels = (template or TASMOTA_DEFAULT).split("/")
    return next((t for t in DEVICE_TOKENS if t in levels), "%topic%")


def clean_template(vendor: Vendor, template: str | None) -> str | None:
    """A validated, normalised template (None: the vendor's default); ValidationFailed else."""
    if template is None or not template.strip():
        return None
    text = template.strip().strip("/")
    if vendor is Vendor.TASMOTA:
        levels = text.split("/")
        if levels.count("%prefix%") != 1 or any(levels.count(t) > 1 for t in DEVICE_TOKENS) \
                or not any(t in levels for t in DEVICE_TOKENS):
            raise ValidationFailed("topicTemplate", "A Tasmota FullTopic has %prefix% once and %topic%, %hostname% "
                                                    "or %id% (each at most once), as whole levels "
                                                    "(e.g. %topic%/%prefix%/).")
        fixed = [x for x in levels if x not in ("%prefix%", *DEVICE_TOKENS)]
        if (fixed and not _levels_ok(fixed)) or len(levels) > MAX_LEVELS or levels[0] in _FOREIGN:
            raise ValidationFailed("topicTemplate", "FullTopic levels are letters, digits and . _ : - "
                                                    f"(at most {MAX_LEVELS} levels).")
        return None if text == TASMOTA_DEFAULT else text
    if vendor is Vendor.SHELLY_GEN2:
        levels = text.split("/")
        if not _levels_ok(levels) or levels[0] in _FOREIGN or len(levels) < 2:
            raise ValidationFailed("topicTemplate", "A Shelly MQTT prefix of several levels, each of letters, "
                                                    "digits and . _ : - (a one-level prefix is the device id).")
        return text
    raise ValidationFailed("topicTemplate", "Only Tasmota and Shelly Gen2+ devices take a topic layout.")


def tasmota_topic(template: str | None, prefix: str, device_id: str, learned: Mapping[str, str] | None = None) -> str:
    """The topic root of one Tasmota prefix (``tele``/``stat``/``cmnd``) for a device: its key
    token is the device id, its other tokens the ``learned`` values, or ``+`` (any level)."""
    text = template or TASMOTA_DEFAULT
    key = key_token(text)
    out = []
    for level in text.split("/"):
        if level == "%prefix%":
            out.append(prefix)
        elif level == key:
            out.append(device_id)
        elif level in DEVICE_TOKENS:
            out.append((learned or {}).get(level, "+"))
        else:
            out.append(level)
    return "/".join(out)


def gen2_prefix(template: str | None, device_id: str) -> str:
    return template or device_id


def command_topic(vendor: Vendor, device_id: str, template: str | None, topic: str,
                  learned: Mapping[str, str] | None = None) -> str:
    """A default-layout command topic (``cmnd/<t>/POWER2``, ``<id>/rpc``) in the plug's layout
    (with ``+`` where a token's value is not learned yet: not sendable)."""
    if template is None:
        return topic
    if vendor is Vendor.TASMOTA:
        return tasmota_topic(template, "cmnd", device_id, learned) + "/" + topic.rpartition("/")[2]
    if vendor is Vendor.SHELLY_GEN2:
        return f"{template}/rpc"
    return topic


def device_acl(vendor: Vendor, device_id: str, template: str) -> tuple[list[str], list[str]]:
    """(topics the device may write, topics it may read) on its own layout."""
    if vendor is Vendor.TASMOTA:
        return ([tasmota_topic(template, p, device_id) + "/#" for p in ("tele", "stat")],
                [tasmota_topic(template, "cmnd", device_id) + "/#"])
    return [f"{template}/online", f"{template}/status/#", f"{template}/events/rpc"], [f"{template}/rpc"]


def filters(templates: Iterable[tuple[Vendor, str]]) -> list[str]:
    """Subscriptions for the templated layouts in use (any device id on them)."""
    out: set[str] = set()
    for vendor, template in templates:
        if vendor is Vendor.TASMOTA:
            for prefix in ("tele", "stat"):
                out.add(tasmota_topic(template, prefix, "+") + "/+")
        elif vendor is Vendor.SHELLY_GEN2:
            out.update((f"{template}/status/+", f"{template}/online", f"{template}/events/rpc"))
    return sorted(out)


class TopicMap:
    """Templated topic roots of the paired plugs -> the vendor's default topic root."""

    def __init__(self) -> None:
        self.tasmota: dict[str, str] = {}  # "home/dev1/tele" -> "tele/dev1"
        self.gen2: dict[str, str] = {}     # "home/shellies/strip" -> "shellyplus..."
        #: Tasmota FullTopics in use, as levels: a device on one of them that is not paired is
        #: read as a Tasmota of that id (and counted as unknown), not as an unknown topic
        self.patterns: set[tuple[str, ...]] = set()
        #: Tasmota device id -> values of its template's other tokens, as seen on its topics or in
        #: its discovery config ({"%hostname%": "kitchen-5FF8", "%id%": "A4CF125FF8B2"})
        self.learned: dict[str, dict[str, str]] = {}

    def __len__(self) -> int:
        return len(self.tasmota) + len(self.gen2) + len(self.patterns)

    def add(self, vendor: Vendor, device_id: str, template: str | None) -> None:
        if template is None:
            return
        if vendor is Vendor.TASMOTA:
            for prefix in ("tele", "stat"):
                root = tasmota_topic(template, prefix, device_id)
                if "+" not in root.split("/"):  # a layout with other tokens is read by pattern
                    self.tasmota[root] = f"{prefix}/{device_id}"
            self.patterns.add(tuple(template.split("/")))
        elif vendor is Vendor.SHELLY_GEN2:
            self.gen2[template] = device_id

    def canonical(self, topic: str) -> str:
        """The default-layout topic of a templated one; the topic itself otherwise."""
        if self.tasmota:
            head, _, last = topic.rpartition("/")
            found = self.tasmota.get(head)
            if found is not None:
                return f"{found}/{last}"
        if self.gen2:
            for tail in ("/online", "/events/rpc"):
                if topic.endswith(tail):
                    found = self.gen2.get(topic[:-len(tail)])
                    if found is not None:
                        return found + tail
            head, _, component = topic.rpartition("/")
            root, _, status = head.rpartition("/")
            if status == "status":
                found = self.gen2.get(root)
                if found is not None:
                    return f"{found}/status/{component}"
        if self.patterns:
            return self._by_pattern(topic)
        return topic

    def _by_pattern(self, topic: str) -> str:
        parts = topic.split("/")
        for levels in self.patterns:
            if len(parts) != len(levels) + 1:
                continue
            key = key_token("/".join(levels))
            prefix = device = None
            seen = {}
            for level, part in zip(levels, parts, strict=False):
                if level == "%prefix%":
                    prefix = part
                elif level == key:
                    device = part
                elif level in DEVICE_TOKENS:
                    seen[level] = part
                elif level != part:
                    break
            else:
                if prefix in ("tele", "stat"):
                    if seen:
                        self.learned.setdefault(device, {}).update(seen)
                    return f"{prefix}/{device}/{parts[-1]}"
        return topic


@dataclass(frozen=True, slots=True)
class TasmotaDiscovery:
    """What a Tasmota announces on ``tasmota/discovery/<mac>/config`` (retained), as Home
    Assistant reads it: its ``Topic``, ``FullTopic``, LWT payloads and relays."""

    mac: str
    topic: str
    full_topic: str | None  # normalised like :func:`clean_template` (None: the default)
    online: str
    offline: str
    relays: int
    hostname: str = ""  # its %hostname% (its %id% is ``mac``)


def parse_discovery(topic: str, payload: bytes) -> TasmotaDiscovery:
    parts = topic.split("/")
    if len(parts) != 4 or parts[:2] != ["tasmota", "discovery"] or parts[3] != "config":
        raise Rejected(RejectReason.UNKNOWN_TOPIC, topic[:100])
    try:
        data = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        raise Rejected(RejectReason.MALFORMED, "discovery is not JSON") from None
    if type(data) is not dict:
        raise Rejected(RejectReason.WRONG_TYPE, "discovery is not an object")
    device, full, onln, ofln = data.get("t"), data.get("ft"), data.get("onln", "Online"), data.get("ofln", "Offline")
    hostname, mac = data.get("hn", ""), data.get("mac", parts[2])
    if not all(type(x) is str for x in (device, full, onln, ofln, hostname, mac)):
        raise Rejected(RejectReason.WRONG_TYPE, "discovery t/ft/onln/ofln/hn/mac are not strings")
    relays = data.get("rl", [])
    if type(relays) is not list:
        raise Rejected(RejectReason.WRONG_TYPE, "discovery rl is not a list")
    try:
        template = clean_template(Vendor.TASMOTA, full)
    except ValidationFailed:
        raise Rejected(RejectReason.UNKNOWN_TOPIC, f"FullTopic {full[:60]!r} cannot be read") from None
    return TasmotaDiscovery(mac, device, template, onln, ofln, sum(1 for r in relays if r), hostname)


def discovered_values(found: TasmotaDiscovery) -> dict[str, str]:
    """The device's tokens as its discovery config gives them."""
    return {"%topic%": found.topic, "%hostname%": found.hostname, "%id%": found.mac}


def concrete(template: str | None, values: Mapping[str, str]) -> str:
    """A FullTopic with every device token replaced by ``values`` (``%prefix%`` kept)."""
    levels = (template or TASMOTA_DEFAULT).split("/")
    return "/".join(values.get(x, x) if x in DEVICE_TOKENS else x for x in levels)
