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


def broker_config(port: int) -> dict:
    return {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}}, "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]}, "topic-check": {"enabled": False}}


async def serve(port: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from amqtt.broker import Broker

        broker = Broker(broker_config(port))
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
