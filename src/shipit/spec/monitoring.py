"""Monitoring: how often a running experiment is analysed, who is told, and whether a red
guardrail or a failed SRM check turns its kill switch on by itself."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_EVERY", "Monitoring", "Notify", "parse_every"]

DEFAULT_EVERY = "1d"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def parse_every(text: str) -> float:
    """Seconds in an interval written ``<number><s|m|h|d|w>`` (``30m``, ``1h``, ``1d``)."""
    match = _EVERY.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(
            f"interval {text!r} is not a positive number followed by s, m, h, d or w "
            "(e.g. 30m, 1h, 1d)"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Notify(_Frozen):
    """One channel: a webhook URL, the environment variable holding its signing secret, and
    the body format (``json``, or ``slack`` for an incoming-webhook message)."""

    webhook: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    secret_env: str | None = Field(default=None, max_length=200, pattern=_ENV_NAME)
    format: Literal["json", "slack"] = "json"


class Monitoring(_Frozen):
    """Scheduled analysis of a running experiment: ``every`` (default daily), the channels
    told of alerts, and ``auto_rollback`` (kill switch on at a red guardrail or failed SRM)."""

    every: str = DEFAULT_EVERY
    auto_rollback: bool = False
    notify: tuple[Notify, ...] = ()

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_every(value)
        return value

    @property
    def every_seconds(self) -> float:
        """The interval in seconds."""
        return parse_every(self.every)
