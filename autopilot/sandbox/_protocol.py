"""Host side of the runner's wire format: frames, and Docker's stdio multiplexing.

A frame is ``>II`` (header length, payload length), a JSON header, then raw payload bytes
(see ``autopilot.sandbox.runner``). Docker's attach stream without a TTY wraps the
container's stdout/stderr in its own 8-byte headers (stream type, 3 zero bytes, ``>I``
size); :class:`DockerDemux` undoes that before frames are parsed.
"""

from __future__ import annotations

import json
import struct
from typing import Any

FRAME = struct.Struct(">II")
DOCKER_HEADER = struct.Struct(">BxxxI")
STDOUT, STDERR = 1, 2
# The runner sends at most 1 MiB of output per frame; images and tool calls can be larger.
# Code in the sandbox can write to the channel too: a bigger frame is an attack or a bug.
MAX_FRAME_BYTES = 256 << 20


def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps(header, separators=(",", ":")).encode()
    return FRAME.pack(len(data), len(payload)) + data + payload


class FrameDecoder:
    """Feed bytes in any pieces; get back whole ``(header, payload)`` frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        self._buffer += data
        frames: list[tuple[dict[str, Any], bytes]] = []
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= FRAME.size:
            header_len, payload_len = FRAME.unpack_from(buffer, offset)
            if header_len + payload_len > MAX_FRAME_BYTES:
                raise ValueError(f"a {header_len + payload_len:,}-byte frame is too large")
            end = offset + FRAME.size + header_len + payload_len
            if len(buffer) < end:
                break
            start = offset + FRAME.size
            header = json.loads(bytes(buffer[start : start + header_len]))
            frames.append((header, bytes(buffer[start + header_len : end])))
            offset = end
        if offset:
            del buffer[:offset]
        return frames


class DockerDemux:
    """Split Docker's multiplexed attach stream into (stream type, bytes) pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        pieces: list[tuple[int, bytes]] = []
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= DOCKER_HEADER.size:
            stream, size = DOCKER_HEADER.unpack_from(buffer, offset)
            end = offset + DOCKER_HEADER.size + size
            if len(buffer) < end:
                break
            pieces.append((stream, bytes(buffer[offset + DOCKER_HEADER.size : end])))
            offset = end
        if offset:
            del buffer[:offset]
        return pieces
