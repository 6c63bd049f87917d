"""Cross-checks RunnelRecords against an independent record-batch implementation (kafka-python 3.x).

(a) Runnel writes batches for every codec (`runnel-records-interop write DIR`); kafka-python's MemoryRecords /
    DefaultRecordBatch decodes them (CRC included) and must see exactly the records of Runnel's manifest.
(b) kafka-python's DefaultRecordBatchBuilder writes batches for every codec; Runnel decodes them
    (`runnel-records-interop read FILE`, JSON lines) and must see exactly what was written.
(c) Forms other producers emit: a raw snappy block (librdkafka) and concatenated gzip members.

The binary comes from $RUNNEL_RECORDS_INTEROP, or is built with `swift build --product runnel-records-interop`
(scratch path from $RUNNEL_SCRATCH if set). Run: tools/.venv/bin/python -m pytest tools/compat/records -q
"""

import base64
import gzip
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
import snappy
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords
from kafka.record.util import calc_crc32c

ROOT = Path(__file__).resolve().parents[3]
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
HEADER_SIZE = 61


@pytest.fixture(scope="session")
def interop_binary():
    explicit = os.environ.get("RUNNEL_RECORDS_INTEROP")
    if explicit:
        return explicit
    scratch = os.environ.get("RUNNEL_SCRATCH")
    scratch_args = ["--scratch-path", scratch] if scratch else []
    subprocess.run(["swift", "build", "--product", "runnel-records-interop", *scratch_args], cwd=ROOT, check=True)
    bin_dir = subprocess.run(
        ["swift", "build", "--show-bin-path", *scratch_args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    path = Path(bin_dir) / "runnel-records-interop"
    assert path.exists(), path
    return str(path)


def b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode()


def record_json(offset, timestamp, key, value, headers):
    return {
        "offset": offset,
        "timestamp": timestamp,
        "key": b64(key),
        "value": b64(value),
        "headers": [[k, b64(v)] for k, v in headers],
    }


def runnel_read(binary, path):
    out = subprocess.run([binary, "read", str(path)], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line]


# --- (a) Runnel writes, kafka-python reads -------------------------------------------------------------------


@pytest.fixture(scope="session")
def runnel_written(interop_binary, tmp_path_factory):
    directory = tmp_path_factory.mktemp("runnel-batches")
    subprocess.run([interop_binary, "write", str(directory)], check=True)
    return json.loads((directory / "manifest.json").read_text())


@pytest.mark.parametrize("codec", list(CODECS))
def test_kafka_python_decodes_runnel_batches(runnel_written, codec):
    entry = runnel_written[codec]
    records = MemoryRecords(Path(entry["file"]).read_bytes())
    seen = []
    batches = 0
    while records.has_next():
        batch = records.next_batch()
        assert isinstance(batch, DefaultRecordBatch)
        assert batch.validate_crc(), "CRC-32C as computed by kafka-python"
        assert batch.compression_type == CODECS[codec]
        assert batch.producer_id == entry["producer_id"]
        assert batch.producer_epoch == entry["producer_epoch"]
        assert batch.leader_epoch == 3
        count = 0
        for record in batch:
            seen.append(record_json(record.offset, record.timestamp, record.key, record.value, record.headers))
            count += 1
        assert count == batch.records_count
        assert batch.last_offset == seen[-1]["offset"]
        assert batch.max_timestamp == max(r["timestamp"] for r in seen[-count:])
        batches += 1
    assert batches == 2
    assert records.valid_bytes() == records.size_in_bytes()
    assert seen == entry["records"]


def test_runnel_reads_back_its_own_batches(interop_binary, runnel_written):
    for codec, entry in runnel_written.items():
        decoded = runnel_read(interop_binary, entry["file"])
        assert [{k: r[k] for k in ("offset", "timestamp", "key", "value", "headers")} for r in decoded] == entry[
            "records"
        ], codec


# --- (b) kafka-python writes, Runnel reads -------------------------------------------------------------------


def python_records():
    """Deterministic records: null/empty keys, tombstones, headers with null values, a multi-block value."""
    out = []
    for i in range(30):
        key = None if i % 7 == 2 else (b"" if i % 10 == 6 else f"py-key-{i}".encode())
        value = None if i % 8 == 5 else (f"python value {i} ".encode() * (1 + i % 9))
        if i == 13:
            value = b"".join(f"{n:08d}".encode() for n in range(20_000))  # 160 000 bytes, compressible
        headers = []
        if i % 2 == 0:
            headers.append(("h-even", f"{i}".encode()))
        if i % 5 == 1:
            headers.append(("ключ", None))
        out.append((1_650_000_000_000 + i * 17, key, value, headers))
    return out


def build_python_batch(codec_id, base_offset=0):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec_id, is_transactional=False, producer_id=99, producer_epoch=1,
        base_sequence=5, batch_size=1 << 24,
    )
    for delta, (timestamp, key, value, headers) in enumerate(python_records()):
        builder.append(delta, timestamp=timestamp, key=key, value=value, headers=headers)
    buffer = bytearray(builder.build())
    struct.pack_into(">q", buffer, 0, base_offset)  # baseOffset is outside the CRC
    return buffer


def expected_python_json(base_offset):
    return [
        record_json(base_offset + delta, timestamp, key, value, headers)
        for delta, (timestamp, key, value, headers) in enumerate(python_records())
    ]


@pytest.mark.parametrize("codec", list(CODECS))
def test_runnel_decodes_kafka_python_batches(interop_binary, tmp_path, codec):
    batch = build_python_batch(CODECS[codec], base_offset=500)
    assert batch[21 + 1] & 0x07 == CODECS[codec], "kafka-python kept the codec (data is compressible)"
    path = tmp_path / f"{codec}.bin"
    path.write_bytes(bytes(batch))
    decoded = runnel_read(interop_binary, path)
    assert all(r["codec"] == codec and r["producer_id"] == 99 and r["base_sequence"] == 5 for r in decoded)
    assert [{k: r[k] for k in ("offset", "timestamp", "key", "value", "headers")} for r in decoded] == (
        expected_python_json(500)
    )


def test_runnel_decodes_concatenated_kafka_python_batches(interop_binary, tmp_path):
    data = b"".join(bytes(build_python_batch(CODECS[c], base_offset=i * 30)) for i, c in enumerate(CODECS))
    path = tmp_path / "all.bin"
    path.write_bytes(data)
    decoded = runnel_read(interop_binary, path)
    assert [r["offset"] for r in decoded] == list(range(30 * len(CODECS)))


# --- (c) other producers' forms -------------------------------------------------------------------------------


def recompress(batch, codec_id, compress):
    """Replaces the records of an uncompressed batch with compress(records) and fixes length, attributes, CRC."""
    records = bytes(batch[HEADER_SIZE:])
    out = bytearray(batch[:HEADER_SIZE]) + compress(records)
    struct.pack_into(">i", out, 8, len(out) - 12)
    attributes = struct.unpack_from(">h", out, 21)[0]
    struct.pack_into(">h", out, 21, (attributes & ~0x07) | codec_id)
    struct.pack_into(">I", out, 17, calc_crc32c(bytes(out[21:])))
    return out


def test_runnel_reads_a_raw_snappy_block_as_librdkafka_writes_it(interop_binary, tmp_path):
    batch = recompress(build_python_batch(0, base_offset=7), 2, snappy.compress)
    assert DefaultRecordBatch(bytes(batch)).validate_crc()
    path = tmp_path / "raw-snappy.bin"
    path.write_bytes(bytes(batch))
    decoded = runnel_read(interop_binary, path)
    assert [r["value"] for r in decoded] == [r["value"] for r in expected_python_json(7)]


def test_runnel_reads_concatenated_gzip_members(interop_binary, tmp_path):
    def two_members(data):
        half = len(data) // 2
        return gzip.compress(data[:half]) + gzip.compress(data[half:])

    batch = recompress(build_python_batch(0), 1, two_members)
    path = tmp_path / "gzip-members.bin"
    path.write_bytes(bytes(batch))
    decoded = runnel_read(interop_binary, path)
    assert [r["key"] for r in decoded] == [r["key"] for r in expected_python_json(0)]


def test_runnel_rejects_a_corrupted_kafka_python_batch(interop_binary, tmp_path):
    batch = build_python_batch(CODECS["lz4"])
    batch[HEADER_SIZE + 10] ^= 0x40
    path = tmp_path / "corrupt.bin"
    path.write_bytes(bytes(batch))
    result = subprocess.run([interop_binary, "read", str(path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "CRC" in result.stderr
