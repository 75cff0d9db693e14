"""ShipitClient: assignment in process (no network call per unit), exposure and event logging.

The client downloads the features payload (the running experiments' specs), assigns with
``shipit.assign.Assigner`` — the same function the server uses — and refreshes the payload
in a background thread. When the server is unreachable it keeps assigning with the last
payload. Exposures and events wait in bounded outboxes and are sent in batches with retries;
rows that cannot be kept are counted in ``stats``. ``track`` refuses an event the server
would refuse; a batch the server refuses is split until the bad rows are isolated, so one
bad row never costs the good ones.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shipit.assign import Assigner, Assignment, BatchAssignment
from shipit.sdk.buffer import Outbox
from shipit.sdk.interleave import InterleaveServing
from shipit.sdk.rows import check_event, exposure_problem
from shipit.sdk.shadow import ShadowLogging
from shipit.sdk.stats import ClientStats
from shipit.sdk.transport import HttpTransport, Transport, TransportError
from shipit.spec import Experiment

__all__ = ["ClientStats", "ShipitClient"]

log = logging.getLogger("shipit.sdk")


def _wire(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as sent: epoch-second timestamps become ISO 8601 (UTC)."""
    out = []
    for row in rows:
        ts = row["timestamp"]
        if isinstance(ts, float):
            row = {**row, "timestamp": datetime.fromtimestamp(ts, UTC).isoformat()}
        out.append(row)
    return out


@dataclass(frozen=True)
class _Compiled:
    assigner: Assigner
    phase: int


# Replies that refuse a batch for its content: split it to find the rows at fault.
_SPLIT = {400, 413, 422}
# The status given to a batch the transport could not even encode (e.g. a NaN).
_UNENCODABLE = 0


class ShipitClient(ShadowLogging, InterleaveServing):
    """A shipit SDK client.

    >>> from shipit.sdk import InMemoryTransport, ShipitClient
    >>> client = ShipitClient("http://unused", "key", transport=InMemoryTransport(), start=False)
    >>> client.assign("no-such-experiment", "u1") is None
    True
    """

    def __init__(
        self,
        url: str,
        sdk_key: str,
        *,
        transport: Transport | None = None,
        refresh_seconds: float | None = None,
        flush_seconds: float = 1.0,
        batch_size: int = 1000,
        max_buffer: int = 100_000,
        max_retries: int = 5,
        retry_seconds: float = 0.2,
        start: bool = True,
    ) -> None:
        self.transport: Transport = transport or HttpTransport(url, sdk_key)
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.retry_seconds = retry_seconds
        self.flush_seconds = flush_seconds
        self._refresh_seconds = refresh_seconds
        self._experiments: dict[str, _Compiled] = {}
        self._etag: str | None = None
        self._exposures = Outbox(max_buffer)
        self._events = Outbox(max_buffer)
        self._shadow = Outbox(max_buffer)
        self._seen: set[tuple[str, int, str]] = set()
        self._max_seen = max_buffer * 10
        self._counts = {
            "exposures": 0,
            "events": 0,
            "shadow": 0,
            "rejected": 0,
            "refreshes": 0,
            "failed": 0,
            "invalid": 0,
        }
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0
        if start:
            self.refresh()
            self.start()

    # -- features -------------------------------------------------------------------------

    @property
    def refresh_seconds(self) -> float:
        """Seconds between refreshes (the server's advice unless given)."""
        return self._refresh_seconds if self._refresh_seconds is not None else 30.0

    @property
    def experiments(self) -> list[str]:
        """Keys of the experiments the client can assign."""
        return sorted(self._experiments)

    def refresh(self) -> bool:
        """Download the features payload; False (and the last payload kept) on failure."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            r = self.transport.request("GET", "/v1/features", headers=headers)
        except TransportError as exc:
            self._counts["failed"] += 1
            log.warning("shipit: cannot refresh features, keeping the last payload: %s", exc)
            return False
        self._last_refresh = time.monotonic()
        if r.status == 304:
            return True
        if r.status != 200 or not isinstance(r.body, dict):
            self._counts["failed"] += 1
            log.warning("shipit: features request answered %s: %s", r.status, r.body)
            return False
        self.load_payload(r.body)
        self._etag = r.headers.get("etag")
        self._counts["refreshes"] += 1
        if self._refresh_seconds is None and "refresh_seconds" in r.body:
            self._refresh_seconds = float(r.body["refresh_seconds"])
        return True

    def load_payload(self, payload: Mapping[str, Any]) -> None:
        """Compile a features payload (as the server serves it) for local assignment."""
        compiled: dict[str, _Compiled] = {}
        for item in payload.get("experiments", []):
            try:
                exp = Experiment.model_validate(item["spec"])
            except (KeyError, ValueError) as exc:
                log.warning("shipit: skipping an experiment the SDK cannot read: %s", exc)
                continue
            compiled[exp.key] = _Compiled(Assigner(exp), int(item.get("phase", 1)))
        self._experiments = compiled

    # -- assignment -----------------------------------------------------------------------

    def assign(
        self,
        experiment: str,
        unit_id: str | int,
        attributes: Mapping[str, Any] | None = None,
        *,
        log_exposure: bool = True,
    ) -> Assignment | None:
        """The unit's assignment (None when the experiment is not running); the first
        enrolled assignment of a unit is logged as an exposure."""
        c = self._experiments.get(experiment)
        if c is None:
            return None
        result = c.assigner.assign(unit_id, attributes)
        if log_exposure and result.variant is not None:
            unit = str(unit_id)
            if (experiment, c.phase, unit) not in self._seen:
                self._expose(experiment, c.phase, [unit], [result.variant], attributes)
        return result

    def variant(
        self,
        experiment: str,
        unit_id: str | int,
        attributes: Mapping[str, Any] | None = None,
        default: str | None = None,
    ) -> str | None:
        """The variant key of the unit, or ``default`` when it is not enrolled."""
        a = self.assign(experiment, unit_id, attributes)
        return a.variant if a is not None and a.variant is not None else default

    def assign_batch(
        self,
        experiment: str,
        unit_ids: Sequence[str] | np.ndarray[Any, Any],
        attributes: Mapping[str, Sequence[Any]] | None = None,
        *,
        log_exposures: bool = True,
    ) -> BatchAssignment | None:
        """Assign many units at once (vectorized); enrolled units are logged as exposures."""
        c = self._experiments.get(experiment)
        if c is None:
            return None
        units = unit_ids if isinstance(unit_ids, np.ndarray) else np.asarray(list(unit_ids))
        batch = c.assigner.assign_batch(units, attributes)
        if log_exposures:
            enrolled = np.flatnonzero(batch.index >= 0)
            variants = np.asarray(batch.variants, dtype=object)[batch.index[enrolled]]
            self._expose(
                experiment, c.phase, [str(u) for u in units[enrolled]], variants.tolist(), None
            )
        return batch

    def _expose(
        self,
        experiment: str,
        phase: int,
        units: list[str],
        variants: list[str],
        attributes: Mapping[str, Any] | None,
    ) -> None:
        now = time.time()  # turned into ISO 8601 when sent
        attrs = {k: None if v is None else str(v) for k, v in (attributes or {}).items()}
        rows = []
        with self._lock:
            if len(self._seen) > self._max_seen:
                self._seen.clear()
            for unit, variant in zip(units, variants, strict=True):
                key = (experiment, phase, unit)
                if key in self._seen:
                    continue
                self._seen.add(key)
                row: dict[str, Any] = {
                    "experiment": experiment,
                    "phase": phase,
                    "unit_id": unit,
                    "variant": variant,
                    "timestamp": now,
                }
                if attrs:
                    row["attributes"] = attrs
                problem = exposure_problem(row)
                if problem is not None:
                    self._counts["invalid"] += 1
                    log.warning("shipit: exposure of %r left out: %s", unit[:80], problem)
                    continue
                rows.append(row)
        self._exposures.put(rows)

    # -- events ---------------------------------------------------------------------------

    def track(
        self,
        event: str,
        unit_id: str | int,
        value: float | None = None,
        *,
        properties: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Queue an event; returns its id (generated when not given), which makes retries safe.

        Raises InputError (naming the field) for an event the server would refuse: a
        non-finite value, an over-long id, a nested or badly named property.
        """
        eid = event_id or uuid.uuid4().hex
        row: dict[str, Any] = {
            "event_id": eid,
            "unit_id": str(unit_id),
            "event": event,
            "timestamp": (timestamp or datetime.now(UTC)).isoformat(),
            "value": value,
        }
        if properties:
            row["properties"] = dict(properties)
        check_event(row)
        self._events.put([row])
        return eid

    # -- sending --------------------------------------------------------------------------

    def flush(self) -> bool:
        """Send everything queued, in batches with retries; False if rows are left over."""
        with self._flush_lock:
            ok = self._drain("exposures", self._exposures)
            ok = self._drain("shadow", self._shadow) and ok
            return self._drain("events", self._events) and ok

    def _drain(self, name: str, outbox: Outbox) -> bool:
        while len(outbox):
            batch = outbox.take(self.batch_size)
            if not batch:
                return True
            left = self._deliver(name, batch)
            if left:
                outbox.put_back(left)
                return False
        return True

    def _deliver(self, name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send ``rows``; the rows still to send (the server could not be reached). A batch
        refused for its content is halved until each refused row stands alone, and only
        those rows are counted as rejected."""
        status, body = self._post(name, rows)
        if status is None:
            return rows
        if status == 200:
            with self._lock:
                self._counts[name] += len(rows)
            return []
        if (status in _SPLIT or status == _UNENCODABLE) and len(rows) > 1:
            mid = len(rows) // 2
            left = self._deliver(name, rows[:mid])
            return left + rows[mid:] if left else self._deliver(name, rows[mid:])
        with self._lock:
            self._counts["rejected"] += len(rows)
        log.error("shipit: the server refused %d %s: %s", len(rows), name, body)
        return []

    def _send(self, name: str, rows: list[dict[str, Any]]) -> bool:
        """True when the server acknowledged (or definitively refused) the batch."""
        return not self._deliver(name, rows)

    def _post(self, name: str, rows: list[dict[str, Any]]) -> tuple[int | None, Any]:
        """One batch with retries: the final status and body, or None when unreachable."""
        delay = self.retry_seconds
        for attempt in range(self.max_retries + 1):
            try:
                r = self.transport.request("POST", f"/v1/{name}", json={name: _wire(rows)})
            except (ValueError, TypeError) as exc:  # not JSON (a NaN, an odd object)
                return _UNENCODABLE, str(exc)
            except TransportError as exc:
                log.info(
                    "shipit: sending %d %s failed (%s), attempt %d",
                    len(rows),
                    name,
                    exc,
                    attempt + 1,
                )
            else:
                if r.status == 200 or (400 <= r.status < 500 and r.status not in (408, 425, 429)):
                    return r.status, r.body
            if attempt < self.max_retries and not self._stop.wait(0):
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        return None, None

    @property
    def stats(self) -> ClientStats:
        """Counters of the client's work so far."""
        return ClientStats(
            exposures_sent=self._counts["exposures"],
            events_sent=self._counts["events"],
            dropped=self._exposures.dropped + self._events.dropped + self._shadow.dropped,
            rejected=self._counts["rejected"],
            pending=len(self._exposures) + len(self._events) + len(self._shadow),
            refreshes=self._counts["refreshes"],
            refresh_failures=self._counts["failed"],
            invalid=self._counts["invalid"],
            shadow_sent=self._counts["shadow"],
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (refresh and flush)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="shipit-sdk", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            if time.monotonic() - self._last_refresh >= self.refresh_seconds:
                self.refresh()
            try:
                self.flush()
            except Exception:  # the thread must survive anything
                log.exception("shipit: background flush failed")

    def close(self, *, timeout: float = 10.0) -> None:
        """Stop the thread, send what is queued, release the transport."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()
        self.transport.close()

    def __enter__(self) -> ShipitClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
