"""A small asyncio MQTT 5 / 3.1.1 client built for high message rates.

Why not a general client: the bridge must acknowledge a QoS 1 message only after its
reading is committed, with thousands of messages unacknowledged at once, and the
simulator must keep publishing within the broker's receive maximum instead of failing.
aiomqtt (on paho) peaks near 5,000 messages/s in one process, and gmqtt raises once
the broker's receive maximum (20 on a stock Mosquitto) is in flight. This client parses
every packet in a received chunk in one pass, writes once per event-loop turn, and
leaves acknowledgement to the caller (:meth:`MqttClient.ack`).

Only what the platform uses is implemented: CONNECT (persistent sessions), SUBSCRIBE,
PUBLISH at QoS 0/1 both ways, PUBACK, PINGREQ and DISCONNECT. QoS 2 is refused.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0

_PROP_RECEIVE_MAXIMUM = 0x21
_PROP_SESSION_EXPIRY = 0x11
# MQTT 5 property identifiers by encoding: fixed-width ones by byte count, then the rest.
_PROP_WIDTH = {**dict.fromkeys((0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A), 1),
               **dict.fromkeys((0x13, 0x21, 0x22, 0x23), 2),
               **dict.fromkeys((0x02, 0x11, 0x18, 0x27), 4)}
_PROP_VARINT = {0x0B}
_PROP_STRING = {0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F, 0x09, 0x16}
_PROP_PAIR = {0x26}

OnMessage = Callable[[str, bytes, int, int | None, bool], None]
"""``(topic, payload, qos, packet_id, dup)``; QoS 1 messages must be acked with ``ack``."""


class MqttError(Exception):
    """The broker refused us, broke the protocol, or the connection dropped."""


@dataclass(frozen=True, slots=True)
class ConnAck:
    session_present: bool
    receive_maximum: int


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _string(s: str | bytes) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(raw)) + raw


def _packet(header: int, body: bytes) -> bytes:
    return bytes((header,)) + _varint(len(body)) + body


def _read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(4):
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise MqttError("malformed variable byte integer")


def _read_properties(buf: bytes, pos: int) -> tuple[dict[int, object], int]:
    length, pos = _read_varint(buf, pos)
    end, props = pos + length, {}
    while pos < end:
        ident = buf[pos]
        pos += 1
        if ident in _PROP_WIDTH:
            width = _PROP_WIDTH[ident]
            props[ident] = int.from_bytes(buf[pos:pos + width], "big")
            pos += width
        elif ident in _PROP_VARINT:
            props[ident], pos = _read_varint(buf, pos)
        elif ident in _PROP_STRING or ident in _PROP_PAIR:
            for _ in range(2 if ident in _PROP_PAIR else 1):
                (n,) = struct.unpack_from("!H", buf, pos)
                props.setdefault(ident, bytes(buf[pos + 2:pos + 2 + n]))
                pos += 2 + n
        else:
            raise MqttError(f"unknown MQTT property 0x{ident:02x}")
    return props, end


def encode_publish(topic: str, payload: bytes, qos: int, packet_id: int | None,
                   version: int, *, retain: bool = False, dup: bool = False) -> bytes:
    """One PUBLISH packet (no properties)."""
    flags = (qos << 1) | int(retain) | (0x08 if dup else 0)
    body = _string(topic)
    if qos:
        body += struct.pack("!H", packet_id)
    if version == 5:
        body += b"\x00"
    return _packet(PUBLISH | flags, body + payload)


class _Protocol(asyncio.Protocol):
    def __init__(self, client: MqttClient) -> None:
        self.client = client
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos, size = 0, len(buf)
        try:
            while size - pos >= 2:
                header = buf[pos]
                try:
                    length, body = _read_varint(buf, pos + 1)
                except IndexError:
                    break
                if body + length > size:
                    break
                self.client._dispatch(header, bytes(buf[body:body + length]))
                pos = body + length
        except Exception as exc:  # a protocol violation: drop the connection, never the process  # noqa: BLE001
            self.client._fail(MqttError(f"protocol error: {exc!r}"))
            return
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._fail(MqttError(f"connection lost: {exc!r}" if exc else "connection closed"))


class MqttClient:
    """One connection to a broker. After a drop, call :meth:`connect` again: the
    session (subscriptions, queued QoS 1 messages) resumes when ``clean_start`` is False,
    and our unacknowledged publishes are resent with the DUP flag."""

    def __init__(self, host: str, port: int, client_id: str, *, on_message: OnMessage | None = None,
                 version: int = 5, clean_start: bool = False, session_expiry_s: int = 0,
                 keepalive_s: int = 30, receive_maximum: int = 65_535,
                 username: str | None = None, password: str | None = None) -> None:
        if version not in (4, 5):
            raise ValueError("MQTT version must be 4 (3.1.1) or 5")
        self.host, self.port, self.client_id = host, port, client_id
        self.on_message = on_message
        self.version, self.clean_start = version, clean_start
        self.session_expiry_s, self.keepalive_s = session_expiry_s, keepalive_s
        self.receive_maximum = receive_maximum
        self.username, self.password = username, password
        self._transport: asyncio.Transport | None = None
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._waiters: dict[int, asyncio.Future] = {}
        self._inflight: dict[int, tuple[bytes, asyncio.Future]] = {}
        self._window_waiters: deque[asyncio.Future] = deque()
        self._next_id = 0
        self._send_window = 65_535
        self._closed: asyncio.Future | None = None
        self._pinger: asyncio.Task | None = None
        self.connected = False

    # -- connection ---------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> ConnAck:
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        self._out.clear()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self), self.host, self.port), timeout)
        except (OSError, TimeoutError) as exc:
            raise MqttError(f"cannot reach broker {self.host}:{self.port}: {exc}") from exc
        ack_future = self._waiters[-CONNACK] = loop.create_future()
        self._write(self._connect_packet())
        try:
            ack: ConnAck = await asyncio.wait_for(asyncio.shield(ack_future), timeout)
        except BaseException:
            self._drop_transport()
            raise
        finally:
            self._waiters.pop(-CONNACK, None)
        self._send_window = min(ack.receive_maximum, 65_535)
        self.connected = True
        for packet_id, (packet, _) in list(self._inflight.items()):
            self._write(bytes((packet[0] | 0x08,)) + packet[1:])  # resend, DUP set
        self._pinger = loop.create_task(self._ping_loop())
        return ack

    def _connect_packet(self) -> bytes:
        flags = (0x02 if self.clean_start else 0) | (0x80 if self.username else 0)
        flags |= 0x40 if self.password else 0
        body = _string("MQTT") + bytes((self.version, flags)) + struct.pack("!H", self.keepalive_s)
        if self.version == 5:
            props = bytes((_PROP_SESSION_EXPIRY,)) + struct.pack("!I", self.session_expiry_s)
            props += bytes((_PROP_RECEIVE_MAXIMUM,)) + struct.pack("!H", self.receive_maximum)
            body += _varint(len(props)) + props
        body += _string(self.client_id)
        if self.username:
            body += _string(self.username)
        if self.password:
            body += _string(self.password)
        return _packet(CONNECT, body)

    async def wait_closed(self) -> MqttError:
        """Wait until the connection drops; returns the reason."""
        assert self._closed is not None
        return await asyncio.shield(self._closed)

    async def disconnect(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._write(bytes((DISCONNECT, 0)))
            self._flush()
        self._drop_transport()

    def _drop_transport(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None
        if self._transport is not None:
            self._transport.close()
        self.connected = False

    def _fail(self, error: MqttError) -> None:
        self.connected = False
        for key, waiter in list(self._waiters.items()):
            if not waiter.done():
                waiter.set_exception(error)
            self._waiters.pop(key, None)
        while self._window_waiters:  # publishers waiting for room learn of the drop
            waiter = self._window_waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(error)
        if self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None
        if self._transport is not None:
            self._transport.close()

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(max(self.keepalive_s / 2, 0.5))
            self._write(bytes((PINGREQ, 0)))

    # -- writing ------------------------------------------------------------------------
    def _write(self, packet: bytes) -> None:
        self._out.append(packet)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def _packet_id(self) -> int:
        for _ in range(65_535):
            self._next_id = self._next_id % 65_535 + 1
            if self._next_id not in self._inflight and self._next_id not in self._waiters:
                return self._next_id
        raise MqttError("no free packet identifier")

    async def subscribe(self, filters: Sequence[str], qos: int = 1, timeout: float = 10.0) -> list[int]:
        """Subscribe and return the granted QoS per filter; raises if any was refused."""
        packet_id = self._packet_id()
        body = struct.pack("!H", packet_id) + (b"\x00" if self.version == 5 else b"")
        for topic_filter in filters:
            body += _string(topic_filter) + bytes((qos,))
        waiter = self._waiters[packet_id] = asyncio.get_running_loop().create_future()
        self._write(_packet(SUBSCRIBE, body))
        codes: list[int] = await asyncio.wait_for(waiter, timeout)
        refused = [f for f, code in zip(filters, codes, strict=False) if code >= 0x80]
        if refused:
            raise MqttError(f"subscription refused for {refused}")
        return codes

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> asyncio.Future | None:
        """Send a message. At QoS 1 this waits for room in the broker's receive window
        and returns a future that completes on the broker's PUBACK."""
        if qos == 0:
            self._write(encode_publish(topic, payload, 0, None, self.version, retain=retain))
            return None
        if qos != 1:
            raise ValueError("only QoS 0 and 1 are supported")
        while len(self._inflight) >= self._send_window:
            if not self.connected:  # no PUBACK can free the window until the caller reconnects
                raise MqttError("not connected and the receive window is full")
            waiter = asyncio.get_running_loop().create_future()
            self._window_waiters.append(waiter)
            await waiter
        packet_id = self._packet_id()
        packet = encode_publish(topic, payload, 1, packet_id, self.version, retain=retain)
        done = asyncio.get_running_loop().create_future()
        self._inflight[packet_id] = (packet, done)
        if self.connected:
            self._write(packet)
        return done

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def ack(self, packet_id: int) -> None:
        """Acknowledge a received QoS 1 message (call once it is safely stored)."""
        if self._transport is not None and not self._transport.is_closing():
            self._write(bytes((PUBACK, 2)) + struct.pack("!H", packet_id))

    # -- reading ------------------------------------------------------------------------
    def _dispatch(self, header: int, body: bytes) -> None:
        kind = header & 0xF0
        if kind == PUBLISH:
            self._on_publish(header, body)
        elif kind == PUBACK:
            (packet_id,) = struct.unpack_from("!H", body)
            entry = self._inflight.pop(packet_id, None)
            if entry is not None and not entry[1].done():  # MQTT 5: the reason code (0x87 refused)
                entry[1].set_result(body[2] if len(body) > 2 else 0)
            while self._window_waiters and len(self._inflight) < self._send_window:
                waiter = self._window_waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
        elif kind == CONNACK:
            session_present, code = body[0] & 1, body[1]
            props = _read_properties(body, 2)[0] if self.version == 5 and len(body) > 2 else {}
            waiter = self._waiters.get(-CONNACK)
            if code != 0:
                error = MqttError(f"broker refused the connection (reason 0x{code:02x})")
                if waiter is not None and not waiter.done():
                    waiter.set_exception(error)
                return
            if waiter is not None and not waiter.done():
                waiter.set_result(ConnAck(bool(session_present), int(props.get(_PROP_RECEIVE_MAXIMUM, 65_535))))
        elif kind == SUBACK:
            (packet_id,) = struct.unpack_from("!H", body)
            pos = _read_properties(body, 2)[1] if self.version == 5 else 2
            waiter = self._waiters.pop(packet_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(list(body[pos:]))
        elif kind == PINGRESP:
            pass
        elif kind == DISCONNECT:
            self._fail(MqttError(f"broker disconnected us (reason 0x{body[0] if body else 0:02x})"))
        else:
            raise MqttError(f"unexpected packet type 0x{kind:02x}")

    def _on_publish(self, header: int, body: bytes) -> None:
        qos = (header >> 1) & 3
        if qos == 3:
            raise MqttError("invalid QoS 3")
        (topic_len,) = struct.unpack_from("!H", body)
        pos = 2 + topic_len
        topic_bytes = body[2:pos]
        packet_id = None
        if qos:
            (packet_id,) = struct.unpack_from("!H", body, pos)
            pos += 2
        if self.version == 5:
            plen, pos = _read_varint(body, pos)
            pos += plen
        try:
            topic = topic_bytes.decode()
        except UnicodeDecodeError:
            topic = topic_bytes.decode("utf-8", "replace")
        if qos == 2:  # we subscribe at QoS 1, so a broker never sends QoS 2
            raise MqttError("QoS 2 is not supported")
        if self.on_message is not None:
            self.on_message(topic, body[pos:], qos, packet_id, bool(header & 0x08))
        elif packet_id is not None:
            self.ack(packet_id)


async def forget_session(host: str, port: int, client_id: str, *, version: int = 5) -> None:
    """Discard the broker's persistent session of ``client_id`` (subscriptions and queued
    messages): connect with a clean start and no session expiry, then disconnect. For a
    client that is gone for good, such as a test or benchmark bridge; otherwise the broker
    keeps queueing every matching message for it until the session expires."""
    client = MqttClient(host, port, client_id, version=version, clean_start=True, session_expiry_s=0)
    await client.connect()
    await client.disconnect()
