"""YAML load and dump of experiment specs and shared metrics files.

Every mistake becomes one line of a ``SpecError``: ``file:line: yaml.path: reason``.
A spec file holds one experiment, or several under ``experiments:``; ``metrics_files``
are paths relative to the spec file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from shipit.errors import NotFoundError, SpecError
from shipit.spec._problems import Loc, SpecValidationError, format_loc
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.spec.targeting import may_overlap

__all__ = [
    "check_file_conflicts",
    "dump_experiment",
    "dump_experiments",
    "load_confined_metrics",
    "load_experiment",
    "load_experiments",
    "load_metrics",
    "loads_experiments",
]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: file not found") from exc
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc


def _parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        raise SpecError(f"{source}: invalid YAML: nested too deeply") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}: invalid YAML: {problem}") from exc


def _node_at(node: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (for its line number)."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if str(k.value) == str(part)]
            if not match:
                return node
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _pydantic_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """Errors as (path, reason), without pydantic's union member tags."""
    out: list[tuple[Loc, str]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("<")))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        out.append((loc, message))
    # A failing item also makes its tuple look too short: keep only the item's own error.
    return [
        (loc, msg)
        for loc, msg in out
        if not any(other[: len(loc)] == loc and len(other) > len(loc) for other, _ in out)
        or "at least" not in msg
    ]


def load_metrics(path: str | Path) -> tuple[MetricDef, ...]:
    """Metric definitions of a shared metrics file (``metrics:`` list, or a bare list)."""
    path = Path(path)
    source = str(path)
    data, root = _parse(_read(path), source)
    items: Any = data
    prefix: Loc = ()
    if isinstance(data, dict) and "metrics" in data:
        items, prefix = data["metrics"], ("metrics",)
        root = _node_at(root, ("metrics",))
    if not isinstance(items, list):
        raise SpecError(f"{source}: expected a list of metrics under 'metrics:'")
    out = []
    for i, item in enumerate(items):
        out.append(_checked(MetricDef, item, root, (i,), source, prefix))
    return tuple(out)


def load_confined_metrics(names: Sequence[str], directory: Path | None) -> list[MetricDef]:
    """Metrics of the files ``names`` inside ``directory`` only (for specs from untrusted
    sources): relative paths that stay in the directory and name regular files of at most
    ``MAX_METRICS_FILE_BYTES``; SpecError otherwise."""
    if names and directory is None:
        raise SpecError(
            "metrics_files are not accepted here: define the metrics inline (metrics:), or "
            "have the server configured with a metrics directory"
        )
    out: list[MetricDef] = []
    for name in names:
        out.extend(load_metrics(_confined(str(name), directory)))
    return out


MAX_METRICS_FILE_BYTES = 1_000_000


def _confined(name: str, directory: Path | None) -> Path:
    """The path of metrics file ``name`` under ``directory``, refused if it escapes it."""
    assert directory is not None
    root = directory.resolve()
    given = Path(name)
    if given.is_absolute() or ".." in given.parts or "\x00" in name:
        raise SpecError(f"{name!r}: a metrics file is named relative to the metrics directory")
    path = (root / given).resolve()
    if not path.is_relative_to(root):
        raise SpecError(f"{name!r}: resolves outside the metrics directory")
    if not path.exists():
        raise NotFoundError(f"{name!r}: no such file in the metrics directory")
    if not path.is_file():
        raise SpecError(f"{name!r}: not a regular file")
    if path.stat().st_size > MAX_METRICS_FILE_BYTES:
        raise SpecError(f"{name!r}: larger than {MAX_METRICS_FILE_BYTES} bytes")
    return path


def _checked(
    model: type[BaseModel], data: Any, root: yaml.Node | None, loc: Loc, source: str, shown: Loc
) -> Any:
    """Validate ``data`` found at ``loc`` under ``root``; errors show ``shown + loc``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
    except SpecValidationError as exc:
        problems = exc.problems
    lines = []
    for sub, reason in problems:
        node = _node_at(root, (*loc, *sub))
        where = f"{source}:{node.start_mark.line + 1}" if node is not None else source
        lines.append(f"{where}: {format_loc((*shown, *loc, *sub))}: {reason}")
    raise SpecError("\n".join(lines))


def loads_experiments(
    text: str,
    source: str = "<string>",
    base_dir: Path | None = None,
    *,
    confine: bool = False,
) -> list[Experiment]:
    """Experiments from YAML text; ``metrics_files`` resolve against ``base_dir``.

    With ``confine`` (text from an untrusted source) a metrics file must lie inside
    ``base_dir``, and without a ``base_dir`` none is accepted.
    """
    data, root = _parse(text, source)
    items: Any = [data]
    prefix: Loc = ()
    node = root
    if isinstance(data, dict) and "experiments" in data:
        items, prefix, node = (
            data["experiments"],
            ("experiments",),
            _node_at(root, ("experiments",)),
        )
        if not isinstance(items, list) or not items:
            raise SpecError(f"{source}: 'experiments' must be a non-empty list")
    errors: list[str] = []
    out: list[Experiment] = []
    for i, item in enumerate(items):
        loc: Loc = (i,) if prefix else ()
        if not isinstance(item, dict):
            errors.append(f"{source}: {format_loc((*prefix, *loc))}: expected a mapping")
            continue
        item = dict(item)
        try:
            files = item.get("metrics_files") or ()
            if confine:
                if not isinstance(files, list | tuple):
                    raise SpecError("metrics_files must be a list of file names")
                shared = load_confined_metrics([str(f) for f in files], base_dir)
            else:
                shared = [m for f in files for m in load_metrics((base_dir or Path.cwd()) / str(f))]
        except (SpecError, NotFoundError) as exc:
            errors.append(f"{source}: {format_loc((*prefix, *loc, 'metrics_files'))}: {exc}")
            continue
        if shared:
            item["shared_metrics"] = [m.model_dump(mode="json") for m in shared]
        _keep_text_as_written(item, _node_at(node, loc) if loc else node)
        try:
            exp = _checked(Experiment, item, node, loc, source, prefix)
        except SpecError as exc:
            errors.append(str(exc))
            continue
        out.append(exp)
    if not errors:
        try:
            check_file_conflicts(out)
        except SpecValidationError as exc:
            errors.extend(f"{source}: {line}" for line in str(exc).splitlines())
    if errors:
        raise SpecError("\n".join(errors))
    return out


def _as_written(value: Any, node: yaml.Node | None) -> Any:
    """A plain YAML scalar that resolved to a number or bool, as the text the author wrote.

    Unit ids and salts are text: ``0123`` (octal 83 to YAML), ``1_000`` or ``12.50`` must
    stay the ids they look like.
    """
    if (
        isinstance(value, int | float)  # bool is an int
        and isinstance(node, yaml.ScalarNode)
        and node.style is None
    ):
        return node.value
    return value


def _keep_text_as_written(item: dict[str, Any], node: yaml.Node | None) -> None:
    """Put back the written text of unit ids (``exclude``, ``forced``) and salts."""
    if not isinstance(node, yaml.MappingNode):
        return
    fields = {str(k.value): v for k, v in node.value}
    exclude = item.get("exclude")
    if isinstance(exclude, list) and isinstance(fields.get("exclude"), yaml.SequenceNode):
        nodes = fields["exclude"].value
        item["exclude"] = [_as_written(v, n) for v, n in zip(exclude, nodes, strict=False)]
    forced = item.get("forced")
    if isinstance(forced, dict) and isinstance(fields.get("forced"), yaml.MappingNode):
        pairs = fields["forced"].value
        item["forced"] = {
            _as_written(k, kn): v for (k, v), (kn, _) in zip(forced.items(), pairs, strict=False)
        }
    if "salt" in item:
        item["salt"] = _as_written(item["salt"], fields.get("salt"))
    for part in ("namespace", "holdout"):
        sub, sub_node = item.get(part), fields.get(part)
        if isinstance(sub, dict) and isinstance(sub_node, yaml.MappingNode) and "salt" in sub:
            salt_node = next((v for k, v in sub_node.value if k.value == "salt"), None)
            item[part] = {**sub, "salt": _as_written(sub["salt"], salt_node)}


def check_file_conflicts(experiments: Sequence[Experiment]) -> None:
    """Experiments of one file must have distinct keys and must not claim overlapping ranges
    of one namespace unless their targeting provably excludes each other."""
    problems: list[tuple[Loc, str]] = []
    for i, a in enumerate(experiments):
        for j, b in enumerate(experiments[:i]):
            if a.key == b.key:
                problems.append((("experiments", i, "key"), f"duplicate experiment key {a.key!r}"))
            elif (
                a.namespace is not None
                and b.namespace is not None
                and a.namespace.overlaps(b.namespace)
                and may_overlap(a.targeting, b.targeting)
            ):
                problems.append(
                    (
                        ("experiments", i, "namespace", "range"),
                        f"{a.key!r} overlaps {b.key!r} (experiments[{j}]) in namespace "
                        f"{a.namespace.name!r}: {list(a.namespace.range)} vs "
                        f"{list(b.namespace.range)}",
                    )
                )
    if problems:
        raise SpecValidationError(problems)


def load_experiments(path: str | Path) -> list[Experiment]:
    """Every experiment of a spec file."""
    path = Path(path)
    return loads_experiments(_read(path), str(path), path.parent)


def load_experiment(path: str | Path) -> Experiment:
    """The one experiment of a spec file."""
    experiments = load_experiments(path)
    if len(experiments) != 1:
        raise SpecError(f"{path}: holds {len(experiments)} experiments; expected one")
    return experiments[0]


def dump_experiment(experiment: Experiment) -> str:
    """YAML text that loads back to an equal experiment (given the same metrics files)."""
    return yaml.safe_dump(experiment.to_dict(), sort_keys=False, allow_unicode=True)


def dump_experiments(experiments: Sequence[Experiment]) -> str:
    """YAML text with several experiments under ``experiments:``."""
    data = {"experiments": [e.to_dict() for e in experiments]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
