"""The configuration reference, docs/configuration.md, written from the typed schemas.

Every key's type and one-line meaning come from the schemas (`key(doc)`; a closed set of
names listed from its enum in config.choices), every default from the group's own file in
conf/, interpolations left as written (`${registry.model_name}`), so the page says what Hydra
accepts and holds no machine's paths. `make docs` writes it; `--check`
exits 1 when the committed page differs (a test runs it), so a new key cannot go undocumented.

    python -m warmstart.config.reference docs/configuration.md [--check]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from warmstart.config import CONFIG_DIR, choices, schema
from warmstart.config.fields import DOC, KIND

COMMAND = "make docs"
# Group pages in the order a reader meets them; the options of each, default first.
GROUP_ORDER = ("data", "vocab", "model", "train", "warmstart", "registry", "update", "tracking")
DEFAULT_OPTION = {"data": "synthetic", "model": "tutorial"}
TOP_LEVEL = ("seed", "reuse", "description")


def _schemas_by_name() -> dict[str, type]:
    return {name: node for group in schema.GROUP_SCHEMAS.values() for name, node in group.items()}


def _load(path: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(schema name, the group's values, other global keys it sets) of one conf/ option file."""
    raw = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    assert isinstance(raw, dict)
    defaults = raw.pop("defaults", [])
    names = [d for d in defaults if isinstance(d, str) and d.split("@")[0].endswith("_schema")]
    schema_name = names[0].split("@")[0] if names else ""
    group = path.parent.name
    if path.read_text().startswith("# @package _global_"):
        return schema_name, raw.pop(group, {}), raw
    return schema_name, raw, {}


def _type_name(f: dataclasses.Field) -> str:
    text = f.metadata.get(KIND) or str(f.type)
    text = text.replace("dict[str, Any]", "mapping").replace("list[str]", "list of str")
    return " or ".join(f"`{t}`" if t in ("auto", "null") else t for t in _alternatives(text))


def _alternatives(text: str) -> list[str]:
    """The type's alternatives (`str | None`), an enum's as the names it takes."""
    return ["null" if t == "None" else _names(t) for t in text.split(" | ")]


def _names(type_name: str) -> str:
    """`one of `a`, `b`` for an enum of config.choices; any other type as written."""
    enum = getattr(choices, type_name, None)
    if not (isinstance(enum, type) and issubclass(enum, StrEnum)):
        return type_name
    return "one of " + ", ".join(f"`{name}`" for name in enum)


def _value(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, dict):
        return "all `null`" if all(v is None for v in value.values()) else f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def _rows(node: type, values: dict[str, Any], prefix: str) -> Iterator[str]:
    """One table row per key of `node`, nested groups flattened (`train.early_stopping.x`)."""
    for f in dataclasses.fields(node):
        doc = f.metadata.get(DOC)
        if doc is None:  # a fixed field the schema sets itself (model.family)
            continue
        value = values.get(f.name)
        nested = f.default_factory
        if dataclasses.is_dataclass(nested) and isinstance(value, dict):
            yield from _rows(nested, value, f"{prefix}{f.name}.")  # type: ignore[arg-type]
            continue
        escaped = doc.replace("|", "\\|")
        yield f"| `{prefix}{f.name}` | {_type_name(f)} | {_value(value)} | {escaped} |"


def _table(node: type, values: dict[str, Any], prefix: str) -> list[str]:
    return ["| key | type | default | meaning |", "|---|---|---|---|", *_rows(node, values, prefix)]


def _also_sets(extra: dict[str, Any]) -> str:
    flat = OmegaConf.to_container(OmegaConf.create(extra), resolve=False)
    pairs: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.")
        else:
            pairs.append(f"`{prefix[:-1]}={_value(node).strip('`')}`")

    walk(flat, "")
    return "It also sets " + ", ".join(pairs) + "."


def _group_section(group: str) -> list[str]:
    meaning = _field(schema.ConfigSchema, group).metadata[DOC]
    options = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
    first = DEFAULT_OPTION.get(group)
    if first:
        options.remove(first)
        options.insert(0, first)
    lines = [f"## `{group}`", "", f"{meaning[0].upper()}{meaning[1:]}."]
    by_name = _schemas_by_name()
    for option in options:
        name, values, extra = _load(CONFIG_DIR / group / f"{option}.yaml")
        if len(options) > 1:
            default = " (default)" if option == options[0] else ""
            lines += ["", f"### `{group}={option}`{default}"]
        if extra:
            lines += ["", _also_sets(extra)]
        lines += ["", *_table(by_name[name], values, f"{group}.")]
    return lines


def _field(node: type, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(node) if f.name == name)


def _presets() -> list[str]:
    lines = ["## Presets (`experiment=NAME`)", "", "| preset | what it is |", "|---|---|"]
    for path in sorted((CONFIG_DIR / "experiment").glob("*.yaml")):
        words: list[str] = []
        for line in path.read_text().splitlines():
            if line.startswith("# @package"):
                continue
            if not line.startswith("#") or line.startswith("#   "):
                break
            words.append(line.lstrip("# ").strip())
        sentence = re.split(r"(?<=[.?!]) ", " ".join(words))[0].rstrip(":")
        lines.append(f"| `{path.stem}` | {sentence.replace('|', chr(92) + '|')} |")
    return lines


def render() -> str:
    """The whole page, deterministic: the same schemas and conf/ give the same bytes."""
    top = _load(CONFIG_DIR / "config.yaml")[1]
    lines = [
        "# Configuration reference",
        "",
        f"<!-- Generated by `{COMMAND}` from src/warmstart/config/schema.py and conf/;"
        " do not edit: a test fails when this page is out of date. -->",
        "",
        "Set any key on the command line (`train.epochs=5`), pick a group's option"
        " (`data=files`, `model=cnn`) or a preset (`experiment=smoke`). Hydra refuses an"
        " unknown key or a value of the wrong type before anything runs; values are checked when"
        " the stage's run starts. `${...}` is an interpolation, resolved when the config is"
        " composed.",
        "",
        "## Top-level keys",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name in TOP_LEVEL:
        f = _field(schema.ConfigSchema, name)
        lines.append(f"| `{name}` | {_type_name(f)} | {_value(top[name])} | {f.metadata[DOC]} |")
    base_doc = _field(schema.ConfigSchema, "base").metadata[DOC]
    lines.append(
        f"| `base.data.*`, `base.vocab.*`, `base.train.*` | as in each group | the data source's"
        f' "before" | {base_doc}: any key of those groups |'
    )
    for group in GROUP_ORDER:
        lines += ["", *_group_section(group)]
    compare_values = top["compare"]
    lines += ["", "## `compare`", "", *_table(schema.CompareSchema, compare_values, "compare.")]
    lines += ["", *_presets(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="where the page goes (docs/configuration.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = args.path.read_text() if args.path.exists() else ""
        if current != page:
            print(f"error: {args.path} is out of date; run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
