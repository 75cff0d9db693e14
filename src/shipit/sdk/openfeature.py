"""An OpenFeature provider: experiments are flags, their variants the flag values.

- string flags resolve to the variant key;
- boolean flags to ``True`` for any variant but the control;
- integer and float flags to the variant key read as a number (TYPE_MISMATCH otherwise);
- object flags to ``{"experiment": key, "variant": variant}``.

The evaluation context's targeting key is the unit id and its attributes feed targeting.
A unit that is not enrolled gets the default value with reason DEFAULT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from shipit.sdk.client import ShipitClient

__all__ = ["ShipitProvider"]

T = TypeVar("T")


class ShipitProvider(AbstractProvider):
    """OpenFeature provider backed by a ``ShipitClient`` (local assignment)."""

    def __init__(self, client: ShipitClient) -> None:
        super().__init__()
        self.client = client

    def get_metadata(self) -> Metadata:
        """The provider's name."""
        return Metadata(name="shipit")

    def shutdown(self) -> None:
        """Flush and stop the client."""
        self.client.close()

    def _resolve(
        self,
        flag_key: str,
        default: T,
        context: EvaluationContext | None,
        convert: Callable[[str, str], T],
    ) -> FlagResolutionDetails[T]:
        unit = context.targeting_key if context is not None else None
        if not unit:
            return FlagResolutionDetails(
                default,
                error_code=ErrorCode.TARGETING_KEY_MISSING,
                error_message="the evaluation context needs a targeting key (the unit id)",
                reason=Reason.ERROR,
            )
        attributes: Mapping[str, Any] = dict(context.attributes) if context else {}
        result = self.client.assign(flag_key, unit, attributes)
        if result is None:
            return FlagResolutionDetails(
                default,
                error_code=ErrorCode.FLAG_NOT_FOUND,
                error_message=f"no running experiment {flag_key!r}",
                reason=Reason.ERROR,
            )
        meta = {"reason": str(result.reason)}
        if result.variant is None:
            return FlagResolutionDetails(default, reason=Reason.DEFAULT, flag_metadata=meta)
        try:
            value = convert(flag_key, result.variant)
        except ValueError as exc:
            return FlagResolutionDetails(
                default,
                error_code=ErrorCode.TYPE_MISMATCH,
                error_message=str(exc),
                reason=Reason.ERROR,
                variant=result.variant,
            )
        reason = Reason.TARGETING_MATCH if result.reason != "assigned" else Reason.SPLIT
        return FlagResolutionDetails(
            value, reason=reason, variant=result.variant, flag_metadata=meta
        )

    def _control(self, flag_key: str) -> str | None:
        compiled = self.client._experiments.get(flag_key)
        return compiled.assigner.experiment.control_variant if compiled else None

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """True for any variant but the control."""
        return self._resolve(
            flag_key, default_value, evaluation_context, lambda k, v: v != self._control(k)
        )

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        """The variant key."""
        return self._resolve(flag_key, default_value, evaluation_context, lambda k, v: v)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        """The variant key as an integer."""
        return self._resolve(flag_key, default_value, evaluation_context, lambda k, v: int(v))

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """The variant key as a number."""
        return self._resolve(flag_key, default_value, evaluation_context, lambda k, v: float(v))

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        """``{"experiment": key, "variant": variant}``."""

        def convert(k: str, v: str) -> Mapping[str, FlagValueType]:
            return {"experiment": k, "variant": v}

        return self._resolve(flag_key, default_value, evaluation_context, convert)
