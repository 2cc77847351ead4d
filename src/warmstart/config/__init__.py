"""Hydra/OmegaConf adapter: the project root resolver, config views and secret-safe flattening.

Stages receive the composed config and read it; nothing else is global. The one resolver,
`${warmstart.root:}`, gives the project root so that paths and the default SQLite URI are
absolute, whatever the working directory (Hydra 1.3 keeps it; `mlflow run` and multirun move it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from warmstart.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = PROJECT_ROOT / "conf"

if not OmegaConf.has_resolver("warmstart.root"):
    OmegaConf.register_new_resolver("warmstart.root", lambda: str(PROJECT_ROOT))

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
    """A plain, resolved dict of the config without the `hydra` node."""
    container = (
        OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    )
    container.pop("hydra", None)
    return container


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
    (`base.vocab.max_token`) is an error, not a silently ignored setting.
    """
    overlay = OmegaConf.to_container(cfg.get(overlay_key) or {}, resolve=True)
    for key, _ in _walk(overlay, ""):
        if OmegaConf.select(cfg, key, default="__missing__") == "__missing__":
            raise ConfigError(
                f"`{overlay_key}.{key}` names no setting `{key}` in the config; "
                f"fix the key (see conf/) or remove it"
            )
    merged = OmegaConf.merge(cfg, overlay)
    with open_dict(merged):
        merged[overlay_key] = {}
    return merged


def job_tags() -> dict[str, str]:
    """Tags naming the Hydra multirun job a run belongs to (empty outside a multirun)."""
    try:
        hc = HydraConfig.get()
    except ValueError:
        return {}
    if hc.mode is None or hc.mode.name != "MULTIRUN":
        return {}
    return {
        "warmstart.sweep.job": str(hc.job.num),
        "warmstart.sweep.overrides": redact_overrides(hc.overrides.task),
    }
