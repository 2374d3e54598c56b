"""Topic layouts chosen at pairing, Tasmota discovery, and the broker ACL that follows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.errors import ValidationFailed
from backend.plugs import broker_auth, topics
from backend.plugs.readings import Rejected, RejectReason, Vendor
from backend.plugs.vendors import parse_mqtt, switch_command
from tests.plugs.test_vendors import utc

FIX = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("vendor,given,stored", [
    (Vendor.TASMOTA, "%prefix%/%topic%/", None),  # the default
    (Vendor.TASMOTA, "%topic%/%prefix%/", "%topic%/%prefix%"),
    (Vendor.TASMOTA, "home/%topic%/%prefix%/", "home/%topic%/%prefix%"),
    (Vendor.TASMOTA, " ", None),
    (Vendor.TASMOTA, "%prefix%/%hostname%/", "%prefix%/%hostname%"),     # the device id is its hostname
    (Vendor.TASMOTA, "home/%prefix%/%topic%/%id%/", "home/%prefix%/%topic%/%id%"),  # %id% learned
    (Vendor.SHELLY_GEN2, "shellies/kitchen-strip", "shellies/kitchen-strip"),
    (Vendor.SHELLY_GEN2, "home/floor1/strip/", "home/floor1/strip"),
])
def test_templates_are_normalised(vendor, given, stored):
    assert topics.clean_template(vendor, given) == stored


@pytest.mark.parametrize("vendor,given", [
    (Vendor.TASMOTA, "%topic%/"),                      # no %prefix%
    (Vendor.TASMOTA, "%prefix%/%topic%/%topic%/"),     # twice
    (Vendor.TASMOTA, "%prefix%/x%topic%/"),            # not a whole level
    (Vendor.TASMOTA, "home/+/%prefix%/%topic%/"),      # a wildcard
    (Vendor.TASMOTA, "home/#/%prefix%/%topic%/"),
    (Vendor.TASMOTA, "%prefix%/%hostname%/%hostname%/"),  # twice
    (Vendor.TASMOTA, "%prefix%/home/"),                # nothing of the device's own
    (Vendor.TASMOTA, "%prefix%/x%id%/"),               # not a whole level
    (Vendor.TASMOTA, "tele/%prefix%/%topic%/"),        # another tree
    (Vendor.SHELLY_GEN2, "one-level"),                 # that is the device id
    (Vendor.SHELLY_GEN2, "tasmota/discovery"),
    (Vendor.SHELLY_GEN2, "a//b"),
    (Vendor.SHELLY_GEN1, "shellies/x"),
    (Vendor.HTTP, "x/y"),
])
def test_bad_templates_are_validation_errors(vendor, given):
    with pytest.raises(ValidationFailed) as err:
        topics.clean_template(vendor, given)
    assert err.value.field == "topicTemplate"


def test_topic_map_reads_templated_topics_as_the_default_layout():
    m = topics.TopicMap()
    m.add(Vendor.TASMOTA, "kitchen-strip", "home/%topic%/%prefix%")
    m.add(Vendor.SHELLY_GEN2, "shellyplus2pm-08f9e0e48c18", "shellies/hall")
    assert m.canonical("home/kitchen-strip/tele/SENSOR") == "tele/kitchen-strip/SENSOR"
    assert m.canonical("home/kitchen-strip/stat/POWER2") == "stat/kitchen-strip/POWER2"
    # another device on the same layout: read as that Tasmota (then counted as unknown)
    assert m.canonical("home/other/tele/SENSOR") == "tele/other/SENSOR"
    assert m.canonical("home/other/cmnd/POWER") == "home/other/cmnd/POWER"
    assert m.canonical("away/other/tele/SENSOR") == "away/other/tele/SENSOR"
    assert m.canonical("shellies/hall/online") == "shellyplus2pm-08f9e0e48c18/online"
    assert m.canonical("shellies/hall/status/switch:1") == "shellyplus2pm-08f9e0e48c18/status/switch:1"
    assert m.canonical("shellies/hall/events/rpc") == "shellyplus2pm-08f9e0e48c18/events/rpc"
    # a Gen1 device's own online topic is not touched
    assert m.canonical("shellies/shellyplug-s-1/online") == "shellies/shellyplug-s-1/online"
    at = utc(2024, 5, 1, 3)
    online = parse_mqtt(m.canonical("shellies/hall/online"), b"true", at)
    assert (online.vendor, online.device_id) == (Vendor.SHELLY_GEN2, "shellyplus2pm-08f9e0e48c18")


def test_filters_and_commands_follow_the_template():
    assert topics.filters([(Vendor.TASMOTA, "home/%topic%/%prefix%"), (Vendor.SHELLY_GEN2, "a/b/c")]) == [
        "a/b/c/events/rpc", "a/b/c/online", "a/b/c/status/+", "home/+/stat/+", "home/+/tele/+"]
    topic, _ = switch_command(Vendor.TASMOTA, "kitchen-strip", True, channel=1)
    assert topics.command_topic(Vendor.TASMOTA, "kitchen-strip", "home/%topic%/%prefix%", topic) == \
        "home/kitchen-strip/cmnd/POWER2"
    topic, _ = switch_command(Vendor.SHELLY_GEN2, "dev", True)
    assert topics.command_topic(Vendor.SHELLY_GEN2, "dev", "shellies/hall", topic) == "shellies/hall/rpc"
    assert topics.command_topic(Vendor.SHELLY_GEN2, "dev", None, topic) == "dev/rpc"


def test_hostname_and_id_tokens():
    """The key token (here %hostname%) is the device id; another token (%id%) is any level until
    learned from the device's own topics, and then its commands can be sent."""
    assert topics.key_token("%prefix%/%hostname%") == "%hostname%"
    assert topics.key_token("%prefix%/%topic%/%id%") == "%topic%"
    assert topics.key_token("%id%/%prefix%") == "%id%"
    m = topics.TopicMap()
    m.add(Vendor.TASMOTA, "desk", "home/%prefix%/%topic%/%id%")
    assert m  # read by its pattern alone (no concrete root yet): the ingestor must still map topics
    m.add(Vendor.TASMOTA, "kitchen-strip-5FF8", "%prefix%/%hostname%")
    assert m.canonical("tele/kitchen-strip-5FF8/SENSOR") == "tele/kitchen-strip-5FF8/SENSOR"
    cmd, _ = switch_command(Vendor.TASMOTA, "desk", True, channel=1)
    assert "+" in topics.command_topic(Vendor.TASMOTA, "desk", "home/%prefix%/%topic%/%id%", cmd, m.learned.get("desk"))
    assert m.canonical("home/tele/desk/A4CF12000002/SENSOR") == "tele/desk/SENSOR"
    assert m.learned["desk"] == {"%id%": "A4CF12000002"}
    assert topics.command_topic(Vendor.TASMOTA, "desk", "home/%prefix%/%topic%/%id%", cmd, m.learned["desk"]) == \
        "home/cmnd/desk/A4CF12000002/POWER2"
    assert topics.filters([(Vendor.TASMOTA, "home/%prefix%/%topic%/%id%")]) == ["home/stat/+/+/+", "home/tele/+/+/+"]
    writes, reads = broker_auth.device_topics(Vendor.TASMOTA, "desk", "home/%prefix%/%topic%/%id%")
    assert writes[:2] == ["home/tele/desk/+/#", "home/stat/desk/+/#"] and reads == ["home/cmnd/desk/+/#"]


def test_acl_follows_the_template():
    writes, reads = broker_auth.device_topics(Vendor.TASMOTA, "kitchen-strip", "home/%topic%/%prefix%")
    assert writes[:2] == ["home/kitchen-strip/tele/#", "home/kitchen-strip/stat/#"]
    assert reads == ["home/kitchen-strip/cmnd/#"]
    account = broker_auth.Account("plug-9", "$7$x", Vendor.SHELLY_GEN2, "dev", "shellies/hall")
    _, acl = broker_auth.render_files([account], "bridge", "$7$y")
    assert "topic write shellies/hall/status/#" in acl and "topic read shellies/hall/rpc" in acl
    assert "topic read shellies/hall/status/+" in acl  # the bridge reads it
    assert "topic write shellies/hall/rpc" in acl      # and commands it


def test_discovery_config():
    found = topics.parse_discovery("tasmota/discovery/A4CF125FF8B2/config",
                                   (FIX / "tasmota_discovery_config.json").read_bytes())
    assert found == topics.TasmotaDiscovery("A4CF125FF8B2", "kitchen-strip", "home/%topic%/%prefix%",
                                            "Here", "Gone", 2, "kitchen-strip-5FF8")
    by_host = topics.parse_discovery("tasmota/discovery/A4CF125FF8B2/config",
                                     (FIX / "tasmota_discovery_hostname.json").read_bytes())
    assert (by_host.full_topic, by_host.hostname, by_host.mac) == ("%prefix%/%hostname%", "kitchen-strip-5FF8",
                                                                   "A4CF125FF8B2")
    assert topics.concrete(by_host.full_topic, topics.discovered_values(by_host)) == "%prefix%/kitchen-strip-5FF8"
    for payload, reason in ((b"{", RejectReason.MALFORMED), (b"[]", RejectReason.WRONG_TYPE),
                            (b'{"t":"x","ft":"%topic%/"}', RejectReason.UNKNOWN_TOPIC),
                            (b'{"t":1,"ft":"%prefix%/%topic%/"}', RejectReason.WRONG_TYPE)):
        with pytest.raises(Rejected) as err:
            topics.parse_discovery("tasmota/discovery/X/config", payload)
        assert err.value.reason is reason
