"""Deterministic assignment: versioned hashes, weights, traffic, namespaces, targeting,
holdouts, forced variants, kill switch, batch assignment and offline designs."""

from __future__ import annotations

from shipit.assign.assigner import Assigner, Assignment, BatchAssignment, Reason
from shipit.assign.hashing import (
    DEFAULT_HASH_VERSION,
    HASH_VERSIONS,
    hash_batch,
    hash_unit,
    md5_sql,
    to_unit_bytes,
)

__all__ = [
    "DEFAULT_HASH_VERSION",
    "HASH_VERSIONS",
    "Assigner",
    "Assignment",
    "BatchAssignment",
    "Reason",
    "hash_batch",
    "hash_unit",
    "md5_sql",
    "to_unit_bytes",
]
