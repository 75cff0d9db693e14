"""SQL text for the engines: quoting of names and values, and what each dialect can do.

Every piece of SQL shipit writes quotes through ``identifier`` and ``literal`` (one place
that knows the escaping rules), and asks ``Capabilities`` instead of comparing dialect
names: an engine that gains a feature changes one entry here, not the compilers.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from shipit.errors import InputError

__all__ = ["Capabilities", "capabilities_for", "identifier", "literal", "transpile"]


def identifier(name: str, dialect: str = "duckdb") -> str:
    """A column or table name, always quoted, for ``dialect``."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def literal(value: str, dialect: str = "duckdb") -> str:
    """A string value as a SQL literal for ``dialect`` (quotes inside escaped)."""
    return exp.Literal.string(value).sql(dialect=dialect)


def transpile(sql: str, dialect: str) -> str:
    """DuckDB-flavoured SQL rewritten for another dialect."""
    if dialect == "duckdb":
        return sql
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))


@dataclass(frozen=True)
class Capabilities:
    """What an engine's SQL dialect supports, as the compilers need to know it.

    ``quantile_function`` names the exact, linearly interpolated quantile aggregate
    (DuckDB's ``QUANTILE_CONT``, Spark's ``PERCENTILE``); ``None`` means the standard
    ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)``. ``hex_parse`` says how a string of
    hexadecimal digits becomes an integer (``"0x"``: cast it with that prefix; ``"conv"``:
    ``CONV(h, 16, 10)``; ``None``: not known), for hashes every engine computes alike.
    """

    dialect: str
    supports_not_materialized: bool = False
    supports_unit_slices: bool = False
    quantile_function: str | None = None
    hex_parse: str | None = None

    def quantile(self, column: exp.Expression, q: exp.Expression) -> exp.Expression:
        """The exact quantile ``q`` of ``column`` (linear interpolation) as an aggregate."""
        if self.quantile_function is not None:
            return exp.Anonymous(this=self.quantile_function, expressions=[column, q])
        return exp.WithinGroup(
            this=exp.PercentileCont(this=q),
            expression=exp.Order(expressions=[exp.Ordered(this=column)]),
        )

    def from_hex(self, digits: exp.Expression) -> exp.Expression:
        """The non-negative integer whose hexadecimal digits are the string ``digits``."""
        big = exp.DataType.build("bigint")
        if self.hex_parse == "0x":
            return exp.cast(exp.DPipe(this=exp.Literal.string("0x"), expression=digits), big)
        if self.hex_parse == "conv":
            conv = exp.Anonymous(
                this="CONV", expressions=[digits, exp.Literal.number(16), exp.Literal.number(10)]
            )
            return exp.cast(conv, big)
        raise InputError(f"no hexadecimal conversion known for the {self.dialect} dialect")


_KNOWN = {
    # HASH() % k slices units reproducibly; NOT MATERIALIZED inlines a CTE read twice.
    "duckdb": Capabilities(
        "duckdb",
        supports_not_materialized=True,
        supports_unit_slices=True,
        quantile_function="QUANTILE_CONT",
        hex_parse="0x",
    ),
    "postgres": Capabilities("postgres", supports_not_materialized=True),
    "spark": Capabilities("spark", quantile_function="PERCENTILE", hex_parse="conv"),
}


def capabilities_for(dialect: str) -> Capabilities:
    """The capabilities of a sqlglot dialect (an unknown one gets the standard SQL)."""
    return _KNOWN.get(dialect, Capabilities(dialect))
