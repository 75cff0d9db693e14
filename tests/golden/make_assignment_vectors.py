"""Write the golden assignment vectors once: ``python tests/golden/make_assignment_vectors.py``.

The files pin hash versions forever; regenerate only to add a new version, never to change
an existing file (the test fails if an existing version's numbers move).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

from shipit.assign.hashing import HASH_VERSIONS, hash_unit  # noqa: E402

ALPHABET = "abcXYZ0189-_.:/@ éüß中文🙂"


def cases(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Salts and unit ids: typical ids, edge lengths around 8-byte chunks, unicode, empty."""
    out: list[tuple[str, str]] = []
    salts = ["", "exp", "checkout-button", "namespace:search", "holdout:2026", "sälz 🙂"]
    for i in range(n):
        salt = salts[i % len(salts)] if i % 3 else f"salt-{rng.randrange(10**6)}"
        kind = i % 5
        if kind == 0:
            unit = f"user-{rng.randrange(10**9)}"
        elif kind == 1:
            unit = str(rng.randrange(-(10**12), 10**12))
        elif kind == 2:
            unit = "x" * (i % 25)
        else:
            unit = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 40)))
        out.append((salt, unit))
    return out


def main() -> None:
    rng = random.Random(20261122)
    pairs = cases(rng, 1200)
    for version, name in HASH_VERSIONS.items():
        path = HERE / f"assignment_v{version}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for salt, unit in pairs:
                u = hash_unit(version, salt, unit)
                row = {"version": version, "hash": name, "salt": salt, "unit": unit, "u": u}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {path.name}: {len(pairs)} cases")


if __name__ == "__main__":
    main()
