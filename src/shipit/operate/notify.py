"""Webhook notifications: a JSON (or Slack incoming-webhook) body, signed and retried.

The signature header is ``X-Shipit-Signature: sha256=<hex HMAC-SHA256 of the body>`` with
the secret read from the environment variable the spec names, so a receiver can check that
the body came from this platform and was not changed. Sending uses the standard library
(``urllib``): httpx is the SDK's optional dependency, kept out of the base install. A
connection error, a timeout, 429 or a 5xx is retried with exponential backoff; another
4xx is not (the request itself is wrong). Nothing here raises: the result says what
happened, so a failing receiver never stops the monitor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shipit.operate.alerts import Alert

__all__ = [
    "DEFAULT_RETRY",
    "SIGNATURE_HEADER",
    "RetryPolicy",
    "WebhookResult",
    "body_for",
    "send_webhook",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Shipit-Signature"


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    return hmac.compare_digest(sign(body, secret), header)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, the first backoff in seconds (doubled each time) and the
    per-request timeout."""

    attempts: int = 4
    backoff: float = 0.5
    timeout: float = 10.0


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class WebhookResult:
    """How one notification went: delivered or not, attempts made, the last HTTP status
    (None when no response came) and the last error."""

    ok: bool
    attempts: int
    status_code: int | None
    error: str = ""


def body_for(
    fmt: str,
    *,
    key: str,
    alerts: Sequence[Alert],
    verdict: str,
    reasons: Sequence[str],
    link: str,
    action: str | None,
) -> bytes:
    """The request body: the JSON event, or a Slack incoming-webhook message (``text``)."""
    if fmt == "slack":
        lines = [f"*shipit*: experiment `{key}` — verdict *{verdict}*"]
        lines += [f"• {a.rule}{' (resolved)' if a.resolved else ''}: {a.message}" for a in alerts]
        if action:
            lines.append(f"• action taken: {action}")
        lines.append(f"<{link}|open the dashboard>")
        return json.dumps({"text": "\n".join(lines)}).encode("utf-8")
    event: dict[str, Any] = {
        "experiment": key,
        "rule": alerts[0].rule if alerts else None,
        "rules": [a.rule for a in alerts],
        "alerts": [
            {"rule": a.rule, "state": a.state, "message": a.message, "resolved": a.resolved}
            for a in alerts
        ],
        "verdict": verdict,
        "reasons": list(reasons),
        "action": action,
        "dashboard": link,
    }
    return json.dumps(event, sort_keys=True).encode("utf-8")


def send_webhook(
    url: str,
    body: bytes,
    *,
    secret: str | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookResult:
    """POST ``body`` to ``url`` (signed when a secret is given), retrying transient failures."""
    headers = {"Content-Type": "application/json", "User-Agent": "shipit-monitor"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    status: int | None = None
    error = ""
    for attempt in range(1, policy.attempts + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout) as response:
                return WebhookResult(True, attempt, response.status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500 and exc.code != 429:
                return WebhookResult(False, attempt, status, error)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            status = None
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if isinstance(exc, ValueError):  # a malformed URL will not get better
                return WebhookResult(False, attempt, status, error)
        if attempt < policy.attempts:
            sleep(policy.backoff * 2 ** (attempt - 1))
    return WebhookResult(False, policy.attempts, status, error)
