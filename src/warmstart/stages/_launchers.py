"""The cluster launchers are an optional extra: name the install before Hydra trips over it.

`make run` installs the runtime lock only, without Ray or submitit. Hydra would then fail on
`hydra/launcher=ray` with a stack trace from deep in its plugin loader, and on
`hydra/launcher=submitit_slurm` with a list of the launchers it does have; neither says what to
install. So each stage checks its command-line launcher choice first and stops with one line.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from warmstart.config import PROJECT_ROOT

CLUSTER_LOCK = "requirements-cluster.lock"
# launcher option prefix -> the modules Hydra imports for it (the plugin, then its engine)
CLUSTER_LAUNCHERS = {
    "ray": ("hydra_plugins.hydra_ray_launcher", "ray"),
    "submitit": ("hydra_plugins.hydra_submitit_launcher", "submitit"),
}
_LAUNCHER_OVERRIDE = re.compile(r"^\+{0,2}hydra/launcher=(\S+)$")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that is missing, or blocked in sys.modules
        return False


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies below it (as a user would type)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def install_command() -> str:
    """The command that adds the cluster extra, at the locked versions, to this environment."""
    python = _shown(Path(sys.executable))
    return f"{python} -m pip install -r {_shown(PROJECT_ROOT / CLUSTER_LOCK)}"


def missing_cluster_extra(overrides: Sequence[str]) -> str | None:
    """The error for a `hydra/launcher=...` override whose engine is not installed, else None."""
    for override in overrides:
        match = _LAUNCHER_OVERRIDE.match(override)
        if match is None:
            continue
        option = match.group(1)
        modules = next(
            (mods for prefix, mods in CLUSTER_LAUNCHERS.items() if option.startswith(prefix)), ()
        )
        if not all(_installed(module) for module in modules):
            return (
                f"hydra/launcher={option} needs the cluster extra (Ray, submitit), which "
                f"`make run` does not install: run `{install_command()}`"
            )
    return None


def checking_launcher(main: Callable[[], None]) -> Callable[[], None]:
    """`main` (a Hydra app), first refusing a cluster launcher that is not installed."""

    def checked() -> None:
        error = missing_cluster_extra(sys.argv[1:])
        if error is not None:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(1)
        main()

    checked.__doc__ = main.__doc__
    return checked
