#!/usr/bin/python3
"""Interop with kafka-python 2.0.2, an encoder/decoder of RecordBatch v2 independent of ours.

Run by kafka_python_interop_test.cc with /usr/bin/python3 (python3-kafka, python3-zstandard).

  write PATH  builds batches with kafka-python's DefaultRecordBatchBuilder into PATH (back to back,
              base offsets stamped) and prints what it put in them, in the dump format below.
  read PATH   parses the batches in PATH with kafka-python, checks each CRC (validate_crc) and
              prints what it read, in the same format.

Dump format, one line per batch then one per record (bytes as "x" + hex, None as "null"):
  batch base=<offset> count=<n> codec=<c> pid=<producer id> epoch=<e> seq=<base sequence>
  <offset> <timestamp> <key> <value> [<header key>:<header value>,...]
"""
import struct
import sys

try:
    from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
except ImportError as e:
    sys.exit("kafka-python missing (Debian python3-kafka; run scripts/install-deps.sh): %s" % e)
try:
    import zstandard  # noqa: F401  (kafka-python's zstd codec)
except ImportError as e:
    sys.exit("zstandard missing (Debian python3-zstandard; run scripts/install-deps.sh): %s" % e)

CODEC_NONE, CODEC_ZSTD = 0, 4


def hexed(b):
    return "null" if b is None else "x" + bytes(b).hex()


def dump_batch(base, count, codec, pid, epoch, seq):
    print("batch base=%d count=%d codec=%d pid=%d epoch=%d seq=%d" %
          (base, count, codec, pid, epoch, seq))


def dump_record(offset, timestamp, key, value, headers):
    hdrs = ",".join("%s:%s" % (hexed(k.encode("utf-8")), hexed(v)) for k, v in headers)
    print("%d %d %s %s [%s]" % (offset, timestamp, hexed(key), hexed(value), hdrs))


# (codec, producer id, epoch, base sequence, records); record = (timestamp, key, value, headers)
BATCHES = [
    (CODEC_NONE, -1, -1, -1, [
        (1700000000000, b"k0", b"v0", [("trace", b"abc"), ("none", None)]),
        (1700000000007, None, b"value without key", []),
        (1699999999000, b"tombstone", None, []),
        (1700000000100, b"", b"", [("\u043a\u043b\u044e\u0447", b"\x00\xff")]),
        (1700000000200, bytes(range(256)), bytes(range(255, -1, -1)), []),
    ]),
    (CODEC_ZSTD, -1, -1, -1, [
        (1700000001000 + i, b"key-%d" % i, b"compressible " * 8, [("i", str(i).encode())])
        for i in range(20)
    ]),
    (CODEC_NONE, 4242, 3, 17, [
        (1700000002000, b"idempotent", b"one", []),
        (1700000002001, b"idempotent", b"two", []),
    ]),
]


def build(codec, pid, epoch, seq, records, base):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=False, producer_id=pid,
        producer_epoch=epoch, base_sequence=seq, batch_size=1 << 20)
    for i, (ts, key, value, headers) in enumerate(records):
        if builder.append(i, timestamp=ts, key=key, value=value, headers=headers) is None:
            sys.exit("kafka-python refused record %d" % i)
    buf = builder.build()
    struct.pack_into(">q", buf, 0, base)  # BaseOffset is outside the CRC: stamp like a broker
    if buf[22] & 0x07 != codec:
        sys.exit("kafka-python wrote codec %d, wanted %d" % (buf[22] & 0x07, codec))
    return bytes(buf)


def write(path):
    out, base = bytearray(), 0
    for codec, pid, epoch, seq, records in BATCHES:
        out += build(codec, pid, epoch, seq, records, base)
        dump_batch(base, len(records), codec, pid, epoch, seq)
        for i, (ts, key, value, headers) in enumerate(records):
            dump_record(base + i, ts, key, value, headers)
        base += len(records)
    with open(path, "wb") as f:
        f.write(out)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            sys.exit("%d bytes after the last whole batch" % (len(data) - pos))
        _, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if end > len(data):
            sys.exit("batch at byte %d needs %d bytes, %d left" % (pos, end - pos, len(data) - pos))
        dump_parsed(data[pos:end])
        pos = end


def dump_parsed(chunk):
    batch = DefaultRecordBatch(chunk)
    if batch.magic != 2:
        sys.exit("not a v2 batch: magic %d" % batch.magic)
    if not batch.validate_crc():
        sys.exit("CRC mismatch in batch at base offset %d" % batch.base_offset)
    header = DefaultRecordBatch.HEADER_STRUCT.unpack_from(chunk)
    dump_batch(batch.base_offset, header[12], batch.compression_type, header[9], header[10],
               header[11])
    for r in batch:
        dump_record(r.offset, r.timestamp, r.key, r.value, r.headers)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "read"):
        sys.exit("usage: kafka_python_interop.py write|read PATH")
    (write if sys.argv[1] == "write" else read)(sys.argv[2])
