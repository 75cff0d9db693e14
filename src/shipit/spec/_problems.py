"""A SpecError that carries every problem found, each with its path inside the spec."""

from __future__ import annotations

from collections.abc import Sequence

from shipit.errors import SpecError

__all__ = ["Loc", "SpecValidationError", "format_loc"]

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """A YAML path such as ``variants[1].weight``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class SpecValidationError(SpecError):
    """One or more spec mistakes; the message has one line per mistake."""

    def __init__(self, problems: Sequence[tuple[Loc, str]], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        lines = [
            f"{source + ': ' if source else ''}{format_loc(loc)}: {reason}"
            for loc, reason in self.problems
        ]
        super().__init__("\n".join(lines))
