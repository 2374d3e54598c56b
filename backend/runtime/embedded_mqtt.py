"""An embedded MQTT broker (amqtt, MQTT 3.1.1) for ``pvpp run`` on a machine without one.

It keeps nothing on disk and speaks MQTT 3.1.1 only, so the bridge and simulator connect to it
with ``PVPP_MQTT_VERSION=4``. For production, and for the no-loss guarantees across broker
restarts, use Mosquitto with persistence (see docs/plugs.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import warnings


def broker_config(port: int, password_file: str | None = None, acl_file: str | None = None) -> dict:
    """Anonymous and unchecked by default (a local demo); with the platform's password and ACL
    files (``PVPP_MQTT_PASSWORD_FILE`` / ``PVPP_MQTT_ACL_FILE``) the same accounts and rules as
    Mosquitto (:mod:`backend.runtime.embedded_acl`)."""
    listeners = {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}}
    if password_file and acl_file:
        return {"listeners": listeners, "sys_interval": 0, "plugins": {
            "backend.runtime.embedded_acl.PlatformAuthPlugin": {"password_file": password_file},
            "backend.runtime.embedded_acl.PlatformAclPlugin": {"acl_file": acl_file}}}
    return {"listeners": listeners, "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]}, "topic-check": {"enabled": False}}


async def serve(port: int, password_file: str | None = None, acl_file: str | None = None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from amqtt.broker import Broker

        broker = Broker(broker_config(port, password_file, acl_file))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    print(f"embedded MQTT broker on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    await broker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--password-file", help="the platform's broker password file (then no anonymous clients)")
    parser.add_argument("--acl-file", help="the platform's broker ACL file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.port, args.password_file, args.acl_file))


if __name__ == "__main__":
    main()
