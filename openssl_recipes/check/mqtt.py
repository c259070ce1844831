"""Just enough MQTT 3.1.1 to prove a broker: connect, subscribe, publish at QoS 0, receive.

`handshake --nanomq` needs a client that runs without any package beyond the tool's own, on a plain
or TLS socket it is given; the tests use paho-mqtt as the independent one.
"""

from __future__ import annotations

import socket
import struct
import time

CONNACK_CODES = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


class MQTTError(Exception):
    """The broker answered something other than what MQTT 3.1.1 says it should, or closed."""


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def _length(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Client:
    """An MQTT 3.1.1 session on a connected socket (plain or TLS); the caller owns the socket."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.sock.settimeout(timeout)
        self.next_id = 1

    def connect(self, client_id: str, keepalive: int = 30) -> None:
        variable = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive)
        self._send(0x10, variable + _string(client_id))
        kind, body = self._receive()
        if kind != 0x20 or len(body) != 2:
            raise MQTTError(f"expected CONNACK, got packet type {kind >> 4}")
        if body[1]:
            raise MQTTError(f"CONNACK refused: {CONNACK_CODES.get(body[1], body[1])}")

    def subscribe(self, topic: str) -> None:
        packet_id = self._packet_id()
        self._send(0x82, struct.pack("!H", packet_id) + _string(topic) + b"\x00")
        kind, body = self._receive()
        if kind != 0x90 or body[2:3] == b"\x80":
            raise MQTTError(f"subscription to {topic!r} refused")

    def publish(self, topic: str, payload: bytes) -> None:
        self._send(0x30, _string(topic) + payload)

    def receive_publish(self, timeout: float) -> tuple[str, bytes]:
        """The next PUBLISH within `timeout` seconds (other packets are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                kind, body = self._receive()
            except TimeoutError:
                break
            if kind & 0xF0 == 0x30:
                size = struct.unpack("!H", body[:2])[0]
                offset = 2 + size + (2 if kind & 0x06 else 0)  # QoS 1/2 carry a packet id
                return body[2 : 2 + size].decode("utf-8", "replace"), body[offset:]
        raise TimeoutError(f"no message within {timeout} s")

    def ping(self) -> None:
        """PINGREQ → PINGRESP: the session is fully up on the broker's side."""
        self._send(0xC0, b"")
        kind, _body = self._receive()
        if kind != 0xD0:
            raise MQTTError(f"expected PINGRESP, got packet type {kind >> 4}")

    def disconnect(self) -> None:
        self._send(0xE0, b"")

    def leave(self) -> None:
        """DISCONNECT, then wait until the broker closes the connection: one session ends before the
        next begins (NanoMQ 0.25.5 crashed when quick sessions overlapped, see nanomq.broker)."""
        self.disconnect()
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def _packet_id(self) -> int:
        packet_id, self.next_id = self.next_id, self.next_id % 65535 + 1
        return packet_id

    def _send(self, kind: int, body: bytes) -> None:
        self.sock.sendall(bytes([kind]) + _length(len(body)) + body)

    def _receive(self) -> tuple[int, bytes]:
        kind = self._exactly(1)[0]
        length, shift = 0, 0
        while True:
            byte = self._exactly(1)[0]
            length += (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return kind, self._exactly(length)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise MQTTError("the broker closed the connection")
            data += chunk
        return data
