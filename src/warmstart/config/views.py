"""Views of a composed config: redacted, flattened, as YAML, and with the base overlay applied.

Values a schema leaves unset (`MISSING`, shown as `???`) are not settings: every view drops
them, so the `base` overlay's unset keys never reach params, YAML or the reuse key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from warmstart.core.errors import ConfigError

_UNSET = "???"

# A key whose last part names a secret (`password`, `auth_token`, ...), not `max_tokens`.
_SECRET_KEY = re.compile(
    r"(^|[._-])(password|passwd|secret|token|credentials?|api_?key|access_key)$", re.IGNORECASE
)
_URI_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
REDACTED = "***"


def redact(key: str, value: Any) -> Any:
    """Hide secrets: values of secret-looking keys, and user:password@ inside URIs."""
    if value is None:
        return None
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return _URI_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", value)
    return value


def redact_overrides(overrides: Sequence[str]) -> str:
    """Command-line overrides as one string, each `key=value` redacted like the config."""
    shown = []
    for item in overrides:
        key, sep, value = item.partition("=")
        shown.append(f"{key}{sep}{redact(key.lstrip('+~'), value)}" if sep else item)
    return " ".join(shown)


def _walk(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, child in node.items():
            yield from _walk(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        if all(not isinstance(v, Mapping | list) for v in node):
            yield prefix, ",".join(str(v) for v in node)
        else:
            for i, child in enumerate(node):
                yield from _walk(child, f"{prefix}.{i}")
    else:
        yield prefix, node


def flatten(cfg: DictConfig | Mapping) -> dict[str, Any]:
    """Resolved config as dotted keys (`train.epochs`), secrets redacted, hydra excluded."""
    container = to_container(cfg)
    return {key: redact(key, value) for key, value in _walk(container, "")}


def to_container(cfg: DictConfig | Mapping) -> dict[str, Any]:
    """A plain, resolved dict of the config without the `hydra` node or unset values; names
    of a closed set (config.choices) as their plain strings, as params and YAML show them."""
    container = (
        OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
        if isinstance(cfg, DictConfig)
        else dict(cfg)
    )
    container.pop("hydra", None)
    return {key: _without_unset(value) for key, value in container.items() if value != _UNSET}


def _without_unset(node: Any) -> Any:
    """`node` without unset leaves, and without mappings that held nothing else."""
    if not isinstance(node, Mapping):
        return node
    kept = {}
    for key, value in node.items():
        child = _without_unset(value)
        if child == _UNSET or (isinstance(child, Mapping) and not child and value):
            continue
        kept[key] = child
    return kept


def to_yaml(cfg: DictConfig | Mapping) -> str:
    """The resolved config as YAML with secrets redacted, for the run's `config.yaml`."""
    container = to_container(cfg)

    def scrub(node: Any, prefix: str) -> Any:
        if isinstance(node, Mapping):
            return {k: scrub(v, f"{prefix}.{k}" if prefix else str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v, prefix) for v in node]
        return redact(prefix, node)

    return OmegaConf.to_yaml(OmegaConf.create(scrub(container, "")))


def with_overlay(cfg: DictConfig, overlay_key: str) -> DictConfig:
    """`cfg` with the partial config under `overlay_key` merged over it.

    The base stage trains on `cfg` overlaid with `cfg.base` (older data, smaller vocabulary),
    while later stages use `cfg` itself. Keys of the overlay must exist in `cfg`: a typo
    (`base.vocab.max_token`) is an error, not a silently ignored setting. The schema already
    refuses unknown keys; this also catches a key of the other data source (`base.data.url`
    with `data=synthetic`).
    """
    overlay = overlay_of(cfg, overlay_key)
    for key, _ in _walk(overlay, ""):
        if OmegaConf.select(cfg, key, default="__missing__") == "__missing__":
            raise ConfigError(
                f"`{overlay_key}.{key}` names no setting `{key}` in the config; "
                f"fix the key (see conf/) or remove it"
            )
    merged = OmegaConf.merge(cfg, overlay)
    with open_dict(merged):
        merged[overlay_key] = _cleared(merged[overlay_key])
    return merged


def overlay_of(cfg: DictConfig | Mapping, overlay_key: str) -> dict[str, Any]:
    """The settings the overlay under `overlay_key` sets (its unset keys left out)."""
    node = cfg.get(overlay_key) or {}
    plain = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    return _without_unset(plain)


def _cleared(node: Any) -> Any:
    """An overlay that sets nothing, of the node's own schema where it has one."""
    schema = OmegaConf.get_type(node) if isinstance(node, DictConfig) else None
    if schema is not None and dataclasses.is_dataclass(schema):
        return OmegaConf.structured(schema)
    return {}
