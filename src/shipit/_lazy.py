"""Public names of a package loaded on first use (PEP 562), so importing it stays cheap.

A leaf module, like ``errors`` and ``_types``: each package's ``__init__`` keeps a table of
its public names and the modules that define them, and hands it here::

    __getattr__, __dir__ = lazy_names(globals(), _WHERE)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

__all__ = ["lazy_names"]


class _Package(ModuleType):
    """A package whose lazily served names are not hidden by same-named submodules.

    Importing a submodule sets it as an attribute of its package; for a public function
    named like its module (``shipit.report.summaries``) that would hide the function that
    ``__getattr__`` serves, so such a module is not set.
    """

    _lazy_where: Mapping[str, str]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in self.__dict__.get("_lazy_where", {}):
            return
        super().__setattr__(name, value)


def lazy_names(
    namespace: dict[str, Any], where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is ``namespace``.

    ``where`` maps each lazily loaded public name to the module that defines it; a name is
    imported on first use and then kept in the package, as if it had been imported eagerly.
    """
    package: str = namespace["__name__"]

    def get(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    module = sys.modules[package]
    module.__class__ = _Package
    namespace["_lazy_where"] = where
    return get, names
