"""A forwarding HTTP proxy that can hold the server's answer to one kind of request, so a test can
kill the app after the server committed an action but before the app heard about it."""

from __future__ import annotations

import asyncio
import threading

from tests.mobile.server import free_port


class HoldingProxy:
    def __init__(self, upstream_port: int, hold_when: bytes) -> None:
        self.upstream_port = upstream_port
        self.hold_when = hold_when
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.held = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return head + (await reader.readexactly(length) if length else b"")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await self._read_message(reader)
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
                try:
                    up_writer.write(request)
                    await up_writer.drain()
                    response = await self._read_message(up_reader)
                finally:
                    up_writer.close()
                    await up_writer.wait_closed()
                if self.hold_when in request:
                    self.held.set()
                    await asyncio.sleep(3600)  # the server committed; the app never hears of it
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
