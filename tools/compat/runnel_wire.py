"""A minimal Kafka wire-protocol client for tests no client library lets us write:
resending the same idempotent ProduceRequest, or parking a Fetch and timing its
wake-up.  Only non-flexible request versions are used (request header v1,
response header v0): ApiVersions v0, InitProducerId v0, Produce v3, Fetch v4,
ListOffsets v1.  Record batches are magic v2 with CRC-32C, uncompressed.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

import crc32c

API_PRODUCE, API_FETCH, API_LIST_OFFSETS, API_VERSIONS, API_INIT_PRODUCER_ID = 0, 1, 2, 18, 22


# ---------------------------------------------------------------- primitive encoders

def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def string(s: str | None) -> bytes:
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def nbytes(b: bytes | None) -> bytes:
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items: list[bytes]) -> bytes:
    return i32(len(items)) + b"".join(items)


def varint(v: int) -> bytes:
    z = (v << 1) ^ (v >> 63)  # zigzag for signed 64-bit
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError(f"short read at {self.pos} (need {size} of {len(self.data)})")
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def i8(self): return self.take(">b")
    def i16(self): return self.take(">h")
    def i32(self): return self.take(">i")
    def i64(self): return self.take(">q")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def nbytes(self):
        n = self.i32()
        if n < 0:
            return None
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b


# ---------------------------------------------------------------- record batches

def record_batch(records: list[tuple[bytes | None, bytes | None]], *, base_timestamp: int,
                 producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1) -> bytes:
    """A magic-2 uncompressed batch (base offset 0, as producers send it)."""
    body = b""
    for delta, (key, value) in enumerate(records):
        rec = (i8(0) + varint(0) + varint(delta)
               + (varint(-1) if key is None else varint(len(key)) + key)
               + (varint(-1) if value is None else varint(len(value)) + value)
               + varint(0))
        body += varint(len(rec)) + rec
    after_crc = (i16(0)                                   # attributes: no codec, CreateTime
                 + i32(len(records) - 1)                  # last offset delta
                 + i64(base_timestamp) + i64(base_timestamp)
                 + i64(producer_id) + i16(producer_epoch) + i32(base_sequence)
                 + i32(len(records)) + body)
    crc = crc32c.crc32c(after_crc)
    partition_leader_epoch_to_end = i32(-1) + i8(2) + struct.pack(">I", crc) + after_crc
    return i64(0) + i32(len(partition_leader_epoch_to_end)) + partition_leader_epoch_to_end


@dataclass
class BatchInfo:
    base_offset: int
    last_offset: int
    record_count: int
    producer_id: int
    base_sequence: int
    attributes: int = 0

    @property
    def codec(self) -> int:
        """0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd."""
        return self.attributes & 0x07


def parse_batches(data: bytes | None) -> list[BatchInfo]:
    """Batch headers in a records blob (a partial trailing batch is ignored)."""
    out = []
    pos = 0
    data = data or b""
    while pos + 61 <= len(data):
        base_offset, length = struct.unpack_from(">qi", data, pos)
        if pos + 12 + length > len(data):
            break
        attributes = struct.unpack_from(">h", data, pos + 21)[0]
        last_delta = struct.unpack_from(">i", data, pos + 23)[0]
        producer_id = struct.unpack_from(">q", data, pos + 43)[0]
        base_sequence = struct.unpack_from(">i", data, pos + 53)[0]
        count = struct.unpack_from(">i", data, pos + 57)[0]
        out.append(BatchInfo(base_offset, base_offset + last_delta, count, producer_id, base_sequence,
                             attributes))
        pos += 12 + length
    return out


# ---------------------------------------------------------------- connection

class WireError(Exception):
    pass


class Connection:
    """One blocking TCP connection. `send()` returns a correlation id; `receive()`
    returns (correlation id, response body)."""

    def __init__(self, bootstrap: str, timeout: float = 15.0, client_id: str = "runnel-compat-wire"):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client_id = client_id
        self.next_correlation = 1
        self.versions: dict[int, tuple[int, int]] = {}

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, api_key: int, version: int, body: bytes) -> int:
        corr = self.next_correlation
        self.next_correlation += 1
        header = i16(api_key) + i16(version) + i32(corr) + string(self.client_id)
        frame = header + body
        self.sock.sendall(i32(len(frame)) + frame)
        return corr

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise WireError("connection closed by broker")
            buf += chunk
        return bytes(buf)

    def receive(self) -> tuple[int, bytes]:
        (size,) = struct.unpack(">i", self._read_exact(4))
        payload = self._read_exact(size)
        return struct.unpack_from(">i", payload, 0)[0], payload[4:]

    def call(self, api_key: int, version: int, body: bytes) -> Reader:
        corr = self.send(api_key, version, body)
        got, payload = self.receive()
        if got != corr:
            raise WireError(f"correlation id {got} != {corr}")
        return Reader(payload)

    def readable_within(self, seconds: float) -> bool:
        """True if response bytes (or EOF) arrive within `seconds`."""
        import select
        ready, _, _ = select.select([self.sock], [], [], seconds)
        return bool(ready)

    # -- APIs ---------------------------------------------------------------

    def api_versions(self) -> dict[int, tuple[int, int]]:
        r = self.call(API_VERSIONS, 0, b"")
        error = r.i16()
        if error != 0:
            raise WireError(f"ApiVersions error {error}")
        versions = {}
        for _ in range(r.i32()):
            key, lo, hi = r.i16(), r.i16(), r.i16()
            versions[key] = (lo, hi)
        self.versions = versions
        return versions

    def require(self, api_key: int, version: int) -> None:
        if not self.versions:
            self.api_versions()
        lo, hi = self.versions.get(api_key, (1, 0))
        if not lo <= version <= hi:
            raise WireError(f"broker does not offer api {api_key} v{version} (offers {lo}..{hi})")

    def init_producer_id(self) -> tuple[int, int, int]:
        """(error, producer id, epoch) from InitProducerId v0 without a transactional id."""
        self.require(API_INIT_PRODUCER_ID, 0)
        r = self.call(API_INIT_PRODUCER_ID, 0, string(None) + i32(60000))
        r.i32()  # throttle
        return r.i16(), r.i64(), r.i16()

    def produce_request(self, topic: str, partition: int, batch: bytes, acks: int = -1,
                        timeout_ms: int = 10000) -> bytes:
        return (string(None) + i16(acks) + i32(timeout_ms)
                + array([string(topic) + array([i32(partition) + nbytes(batch)])]))

    def produce(self, topic: str, partition: int, batch: bytes, acks: int = -1) -> tuple[int, int]:
        """(error code, base offset) from Produce v3."""
        self.require(API_PRODUCE, 3)
        r = self.call(API_PRODUCE, 3, self.produce_request(topic, partition, batch, acks))
        return parse_produce_v3(r)

    def send_produce(self, topic: str, partition: int, batch: bytes, acks: int = -1) -> int:
        """Sends Produce v3 without waiting (acks=0 gets no response at all)."""
        self.require(API_PRODUCE, 3)
        return self.send(API_PRODUCE, 3, self.produce_request(topic, partition, batch, acks))

    def fetch(self, topic: str, partition: int, offset: int, max_wait_ms: int = 100) -> "FetchPartition":
        corr = self.send_fetch(topic, partition, offset, max_wait_ms)
        got, payload = self.receive()
        if got != corr:
            raise WireError(f"correlation id {got} != {corr}")
        return parse_fetch_v4(payload)

    def fetch_request(self, topic: str, partition: int, offset: int, max_wait_ms: int,
                      min_bytes: int = 1, max_bytes: int = 1 << 20) -> bytes:
        return (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(0)
                + array([string(topic) + array([i32(partition) + i64(offset) + i32(max_bytes)])]))

    def send_fetch(self, topic: str, partition: int, offset: int, max_wait_ms: int) -> int:
        self.require(API_FETCH, 4)
        return self.send(API_FETCH, 4, self.fetch_request(topic, partition, offset, max_wait_ms))

    def list_offset(self, topic: str, partition: int, timestamp: int) -> tuple[int, int, int]:
        """(error, timestamp, offset) from ListOffsets v1 (-1 latest, -2 earliest)."""
        self.require(API_LIST_OFFSETS, 1)
        r = self.call(API_LIST_OFFSETS, 1, i32(-1) + array(
            [string(topic) + array([i32(partition) + i64(timestamp)])]))
        r.i32()  # topics
        r.string()
        r.i32()  # partitions
        r.i32()
        return r.i16(), r.i64(), r.i64()


def parse_produce_v3(r: Reader) -> tuple[int, int]:
    n_topics = r.i32()
    if n_topics != 1:
        raise WireError(f"expected one topic in ProduceResponse, got {n_topics}")
    r.string()
    if r.i32() != 1:
        raise WireError("expected one partition in ProduceResponse")
    r.i32()
    error, base_offset = r.i16(), r.i64()
    r.i64()  # log append time
    return error, base_offset


@dataclass
class FetchPartition:
    error: int
    high_watermark: int
    records: bytes | None


def parse_fetch_v4(payload: bytes) -> FetchPartition:
    r = Reader(payload)
    r.i32()  # throttle
    if r.i32() != 1:
        raise WireError("expected one topic in FetchResponse")
    r.string()
    if r.i32() != 1:
        raise WireError("expected one partition in FetchResponse")
    r.i32()
    error, hw = r.i16(), r.i64()
    r.i64()  # last stable offset
    aborted = r.i32()
    for _ in range(max(aborted, 0)):
        r.i64()
        r.i64()
    return FetchPartition(error, hw, r.nbytes())


def now_ms() -> int:
    return int(time.time() * 1000)
