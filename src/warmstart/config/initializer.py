"""The composed `warmstart.initializer` as the core object, and the old spelling of it.

`initializer_of(cfg.warmstart)` builds the initializer the group `warmstart/initializer`
chose, with its options (`core.initializers` checks their values; a bad one is a
`ConfigError` naming the key). `modern_overrides` reads, for one release, the spelling from
before the group: `warmstart.initializer=subword +warmstart.initializer_options.neighbours=8`
(and `warmstart.pretrained_path`, `warmstart.pretrained_vocabulary`, `warmstart.fallback`)
becomes `warmstart/initializer=subword warmstart.initializer.neighbours=8` before Hydra
composes, with one warning that names the new spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from warmstart.core.errors import ConfigError, RemapError
from warmstart.core.initializer_options import initializer_named
from warmstart.core.initializers import Initializer

__all__ = ["initializer_of", "modern_overrides"]

GROUP = "warmstart/initializer"  # picks the initializer: warmstart/initializer=subword
NODE = "warmstart.initializer"  # holds its options: warmstart.initializer.neighbours=8


def initializer_of(warm: Mapping[str, Any], where: str = "warmstart") -> Initializer:
    """The initializer `warm.initializer` describes (its `name` and options)."""
    node = warm.get("initializer")
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=True)
    if not isinstance(node, Mapping) or "name" not in node:
        raise ConfigError(
            f"{where}.initializer={node!r} is not an initializer's settings; pick one with "
            f"{GROUP}=NAME (in a preset's defaults: `- override /{GROUP}: NAME`) and set its "
            f"options with {NODE}.KEY=VALUE"
        )
    options = {str(k): v for k, v in node.items() if k != "name"}
    try:
        return initializer_named(str(node["name"]), **options)
    except RemapError as exc:
        raise ConfigError(f"{where}.initializer: {exc}") from exc


# The old keys of one initializer's options: (new option, the initializers that read it).
_MOVED = {
    "warmstart.pretrained_path": ("path", ("pretrained",)),
    "warmstart.pretrained_vocabulary": ("vocabulary", ("pretrained",)),
    "warmstart.fallback": ("fallback", ("pretrained", "subword")),
}
_OPTIONS = "warmstart.initializer_options"
_OVERRIDE = re.compile(r"(?P<sign>[+~]*)(?P<key>[\w./@-]+)(?P<rest>=.*)?", re.DOTALL)


def modern_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """`overrides` in today's spelling, and the warnings (none, or one line) to show.

    An old-style file or fallback setting for an initializer that does not read it is
    dropped, as it was ignored before; so are unset (`null`, `~`) options, which keep their
    default. Anything else (flags, other keys) passes unchanged.
    """
    keys = [m["key"] for m in map(_OVERRIDE.fullmatch, overrides) if m]
    if not any(k == NODE or k.startswith(_OPTIONS) or k in _MOVED for k in keys):
        return list(overrides), []
    chosen = _chosen(overrides)
    modern: list[str] = []
    old: list[str] = []
    dropped: dict[str, list[str]] = {}
    for item in overrides:
        match = _OVERRIDE.fullmatch(item)
        new, reason = _modern(match, chosen) if match and not item.startswith("-") else (item, "")
        if new == item:
            modern.append(item)
            continue
        old.append(item)
        if new is None:
            dropped.setdefault(reason, []).append(item)
        else:
            modern.append(new)
    if not old:
        return modern, []
    now = " ".join(m for m in modern if m not in overrides)
    warning = f"{' '.join(old)} is the old spelling, read until the next release; " + (
        f"write {now}" if now else "leave it out"
    )
    for reason, items in dropped.items():
        warning += f"; {' '.join(items)}: {reason}"
    return modern, [warning]


def _chosen(overrides: Sequence[str]) -> str | None:
    """The initializer the overrides pick, if one name (not a sweep); else the conf's
    default, unless a preset picked may choose another (None: not known)."""
    presets: list[str] = []
    for item in reversed(overrides):
        match = _OVERRIDE.fullmatch(item)
        if not match or "~" in match["sign"]:
            continue
        value = (match["rest"] or "=")[1:]
        if match["key"] in (NODE, GROUP):
            return value if re.fullmatch(r"\w+", value) else None
        if match["key"] == "experiment":
            presets += re.findall(r"\w+", value)
    from warmstart.config import CONFIG_DIR  # the package imports this module first

    for name in presets:
        path = CONFIG_DIR / "experiment" / f"{name}.yaml"
        if path.is_file() and GROUP in path.read_text():
            return None
    defaults = OmegaConf.load(CONFIG_DIR / "warmstart" / "default.yaml").get("defaults", [])
    chosen = [d["initializer"] for d in defaults if isinstance(d, Mapping) and "initializer" in d]
    return str(chosen[0]) if chosen else None


def _modern(match: re.Match[str], chosen: str | None) -> tuple[str | None, str]:
    """The override in today's spelling (None: dropped, and why); itself if not an old one."""
    sign, key, rest = match["sign"], match["key"], match["rest"] or ""
    value = rest[1:]
    if key == NODE and "~" not in sign and rest:
        return f"{GROUP}{rest}", ""
    if key == _OPTIONS:
        if "~" in sign or value in ("null", "{}"):
            return None, "ignored, an option left unset keeps its default"
        raise ConfigError(
            f"{match[0]}: the initializer's options are set one by one now; write "
            f"{GROUP}=NAME {NODE}.KEY=VALUE"
        )
    option = key.removeprefix(f"{_OPTIONS}.") if key.startswith(f"{_OPTIONS}.") else None
    readers: tuple[str, ...] = ()
    if key in _MOVED:
        option, readers = _MOVED[key]
    if option is None:
        return match[0], ""
    if "~" in sign or (value == "null" and not readers):
        return None, "ignored, an option left unset keeps its default"
    if readers and chosen is not None and chosen not in readers:
        return None, f"ignored as before, the {chosen} initializer does not read it"
    force = "++" if option.startswith("fallback_options") else ""  # a mapping: keys are added
    return f"{force}{NODE}.{option}{rest}", ""
