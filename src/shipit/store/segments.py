"""The ingest log's files: append-only segments of checksummed records, fsync'd per group.

A record is a header (magic, sequence number, rows, time, body length, CRC-32, table name
length), the table name and the body (one batch as Arrow IPC). ``SegmentFiles.append``
writes the records of a group commit with one ``write`` and one ``fdatasync``; a segment
is closed at ``SEGMENT_BYTES`` and a new one started (its directory entry fsync'd before a
record goes in), and a closed segment is deleted once every record in it is drained. When
the files are opened, every record is checked; a torn record at the end of the newest
segment (a write that a crash cut, never acknowledged) is cut off, anything else that
does not check is an error.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SEGMENT_BYTES", "Record", "SegmentFiles"]

SEGMENT_BYTES = 16 << 20
_MAGIC = b"SHL1"
# magic, seq, rows, at (unix seconds), body length, CRC-32 of the rest, table name length
_HEADER = struct.Struct("<4sQIdIIB")


@dataclass(frozen=True)
class Record:
    """Where one logged batch is: its segment (by first sequence number) and byte range."""

    seq: int
    table: str
    rows: int
    at: float
    segment: int
    offset: int  # of the body
    length: int


def _crc(seq: int, rows: int, at: float, name: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(struct.pack("<QId", seq, rows, at) + name))


def encode(seq: int, table: str, rows: int, at: float, body: bytes) -> bytes:
    """One record as bytes."""
    name = table.encode()
    crc = _crc(seq, rows, at, name, body)
    return _HEADER.pack(_MAGIC, seq, rows, at, len(body), crc, len(name)) + name + body


class SegmentFiles:
    """The segments of one log directory; not thread-safe (the log serializes writes,
    and reads use ``pread`` on descriptors opened for reading only)."""

    def __init__(self, directory: Path, *, sync: bool = True) -> None:
        self.dir = directory
        self.sync = sync
        directory.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None  # the segment being written
        self._active = 0
        self._size = 0
        self._readers: dict[int, int] = {}

    def _path(self, first: int) -> Path:
        return self.dir / f"{first:020d}.seg"

    def segments(self) -> list[int]:
        """The first sequence numbers of the segments on disk, oldest first."""
        return sorted(int(p.stem) for p in self.dir.glob("*.seg") if p.stem.isdigit())

    def scan(self) -> list[Record]:
        """Every record on disk, checked (a torn tail of the newest segment is cut off)."""
        out: list[Record] = []
        firsts = self.segments()
        for i, first in enumerate(firsts):
            path = self._path(first)
            data = path.read_bytes()
            pos = 0
            while pos < len(data):
                record, end = self._parse(data, pos, first)
                if record is None:
                    if i != len(firsts) - 1:
                        raise RuntimeError(f"ingest log segment {path.name}: bad record at {pos}")
                    with path.open("r+b") as f:  # never acknowledged: cut it off
                        f.truncate(pos)
                        os.fsync(f.fileno())
                    break
                out.append(record)
                pos = end
        return out

    @staticmethod
    def _parse(data: bytes, pos: int, segment: int) -> tuple[Record | None, int]:
        if len(data) - pos < _HEADER.size:
            return None, pos
        magic, seq, rows, at, length, crc, name_len = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        body_at = start + name_len
        end = body_at + length
        if magic != _MAGIC or end > len(data):
            return None, pos
        name, body = data[start:body_at], data[body_at:end]
        if _crc(seq, rows, at, name, body) != crc:
            return None, pos
        return Record(seq, name.decode(), rows, at, segment, body_at, length), end

    def append(self, items: list[tuple[int, str, int, float, bytes]]) -> list[Record]:
        """Write records ``(seq, table, rows, at, body)`` with one write and, when
        syncing, one ``fdatasync``; durable when this returns."""
        if self._fd is None or self._size >= SEGMENT_BYTES:
            self._start(items[0][0])
        assert self._fd is not None
        out: list[Record] = []
        chunks: list[bytes] = []
        pos = self._size
        for seq, table, rows, at, body in items:
            chunk = encode(seq, table, rows, at, body)
            out.append(Record(seq, table, rows, at, self._active, pos + len(chunk) - len(body),
                              len(body)))  # fmt: skip
            chunks.append(chunk)
            pos += len(chunk)
        data = b"".join(chunks)
        written = os.write(self._fd, data)
        while written < len(data):  # a short write (rare on local files)
            written += os.write(self._fd, data[written:])
        if self.sync:
            os.fdatasync(self._fd)
        self._size = pos
        return out

    def _start(self, first: int) -> None:
        """Close the segment being written and start one named by ``first``."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self._path(first), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._active, self._size = first, os.fstat(self._fd).st_size
        if self.sync:  # the new file's directory entry
            dir_fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def read(self, record: Record) -> bytes:
        """The body of ``record``."""
        fd = self._readers.get(record.segment)
        if fd is None:
            fd = self._readers[record.segment] = os.open(self._path(record.segment), os.O_RDONLY)
        return os.pread(fd, record.length, record.offset)

    def drop_through(self, seq: int, records_left: list[Record]) -> None:
        """Delete the closed segments whose records are all at or before ``seq``
        (``records_left``: the records still logged, in order)."""
        keep = {r.segment for r in records_left if r.seq > seq}
        for first in self.segments():
            if first == self._active and self._fd is not None:
                continue
            if first not in keep:
                fd = self._readers.pop(first, None)
                if fd is not None:
                    os.close(fd)
                self._path(first).unlink(missing_ok=True)

    def close(self) -> None:
        """Close every descriptor."""
        for fd in self._readers.values():
            os.close(fd)
        self._readers.clear()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
