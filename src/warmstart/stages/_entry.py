"""The Hydra app wrapper every stage shares: compose, connect, run, report one clear line.

A command line Hydra cannot compose (a key typo, a value of the wrong type, an unknown group
option, a malformed override) ends in one line, `error: ...` naming the fix, and exit code 2,
whether the stage runs as `python -m warmstart.stages.NAME`, `python -m warmstart.cli NAME` or
under `mlflow run`; `HYDRA_FULL_ERROR=1` still shows Hydra's whole trace.
"""

from __future__ import annotations

import difflib
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException, ValidationError

from warmstart.config import CONFIG_DIR, in_multirun
from warmstart.config.initializer import modern_overrides
from warmstart.core.errors import ConfigError, WarmstartError
from warmstart.modeling import multi_worker
from warmstart.modeling.fit import strategy
from warmstart.stages._launchers import checking_launcher
from warmstart.tracking.connection import connect
from warmstart.tracking.runs import StageInterrupted


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise StageInterrupted(f"stopped by signal {signum}")


def task_overrides() -> list[str]:
    """The command-line overrides of this Hydra job (empty outside Hydra)."""
    try:
        return list(HydraConfig.get().overrides.task)
    except ValueError:
        return []


FULL_ERROR = "HYDRA_FULL_ERROR"
USAGE_EXIT = 2  # the command line was not understood (as argparse exits)
KINDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false"}
GRAMMAR = "key=value, +new_key=value, ~key; quote a value with blanks or commas: key='a, b'"


def _override(key: str, argv: Sequence[str]) -> str | None:
    """The command-line override that sets `key` (`train.epoch=3`), if one does."""
    for arg in argv:
        if re.fullmatch(rf"[+~]*{re.escape(key)}(=.*)?", arg, flags=re.DOTALL):
            return arg
    return None


def _did_you_mean(word: str, options: Sequence[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, list(options), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(prefix + c for c in close)}?)" if close else ""


def composition_error(exc: BaseException, argv: Sequence[str]) -> str:
    """One line for a config Hydra could not compose from `argv`: what is wrong and the fix."""
    cause = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else None
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, OverrideParseException):
        reason = exc.message.splitlines()[0]
        return f"cannot parse override {exc.override!r} ({reason}); write it as {GRAMMAR}"
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file:
        group, _, option = str(exc.missing_cfg_file).rpartition("/")
        options = [o for o in exc.options or () if not o.endswith("_schema")]
        if group:
            return (
                f"unknown option {option!r} for {group}{_did_you_mean(option, options)}; "
                f"choose one of {group}={', '.join(options)}"
            )
    if first.startswith("Could not override") and cause is not None:
        key = str(cause.full_key or first.split("'")[1])
        parent = cause.parent_node
        known = [str(k) for k in parent] if isinstance(parent, DictConfig) else []
        scope = key.rpartition(".")[0]
        hint = _did_you_mean(str(cause.key), known, f"{scope}." if scope else "")
        value = (_override(key, argv) or f"{key}=...").partition("=")[2]
        return f"unknown key {key!r}{hint}; a new key needs '+': +{key}={value}"
    if first.startswith("Could not append to config"):
        key = first.rstrip(".").split("'")[1] if "'" in first else "the key"
        value = (_override(f"+{key}", argv) or f"{key}=...").partition("=")[2]
        return f"{key} already exists; set it without '+': {key}={value}"
    if first.startswith("Error merging override") and cause is not None:
        override = first.removeprefix("Error merging override").strip()
        reason = str(cause.msg or cause).splitlines()[0]
        key = str(cause.full_key or override.partition("=")[0])
        if isinstance(cause, ValidationError):
            wanted = re.search(r"converted to (\w+)", reason)
            kind = KINDS.get(wanted[1], f"a {wanted[1]}") if wanted else "a value of its type"
            kind = KINDS["Boolean"] if "valid bool" in reason else kind
            names = re.search(r"expected one of \[([^\]]*)\]", reason)
            kind = f"one of its names: {names[1]}" if names else kind
            parent = cause.parent_node
            now = parent.get(cause.key) if isinstance(parent, DictConfig) else None
            now = str(now).lower() if isinstance(now, bool) else now
            example = f" (now {key}={now})" if isinstance(now, int | float | str) else ""
            return f"bad value in {override} ({reason}); give {key} {kind}{example}"
        return f"cannot apply {override} ({reason}); fix or drop that override"
    reason = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return f"{reason[:300]}; fix the command line ({GRAMMAR})"


def _composed(main: Callable[[], None]) -> Callable[[], None]:
    """`main` (a `hydra.main`) with its composition errors as one `error:` line, exit 2.

    Hydra prints its own several lines unless HYDRA_FULL_ERROR=1 makes it re-raise; that is
    set only until the task starts (`_task_started`), so an error inside a stage is reported
    as before, and a user's own HYDRA_FULL_ERROR=1 keeps Hydra's whole trace.
    """

    def wrapped() -> None:
        try:  # before Hydra sets up the job (its logging), like any composition error
            sys.argv[1:], warnings = modern_overrides(sys.argv[1:])
            for warning in warnings:
                print(f"deprecated: {warning}", file=sys.stderr)
            check_experiments([a for a in sys.argv[1:] if not a.startswith("-")])
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(USAGE_EXIT)
        if os.environ.get(FULL_ERROR) == "1":
            main()
            return
        os.environ[FULL_ERROR] = "1"
        _set_by_us.append(True)
        try:
            main()
        except (HydraException, OmegaConfBaseException) as exc:
            if not _set_by_us:
                raise  # from inside a task: not a composition error
            print(f"error: {composition_error(exc, sys.argv[1:])}", file=sys.stderr)
            sys.exit(USAGE_EXIT)
        finally:
            _task_started()

    return wrapped


# Non-empty while HYDRA_FULL_ERROR=1 is the wrapper's own (a user's is never removed).
_set_by_us: list[bool] = []


def _task_started() -> None:
    """From here on Hydra reports errors its usual way (see `_composed`)."""
    if _set_by_us:
        _set_by_us.clear()
        os.environ.pop(FULL_ERROR, None)


def check_experiments(overrides: Sequence[str]) -> None:
    """Refuse an `experiment=NAME` with no conf/experiment/NAME.yaml, which Hydra would skip
    (the group is optional), so a typo never runs the defaults silently."""
    known = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
    for override in overrides:
        key, _, value = override.lstrip("+").partition("=")
        if key != "experiment" or value in ("", "null"):
            continue
        for name in value.strip("[]").split(","):
            name = name.strip().strip("'\"")
            if name and name not in known:
                raise ConfigError(
                    f"unknown experiment {name!r}{_did_you_mean(name, known)}; choose one of "
                    f"experiment={', '.join(known)}"
                )


def hydra_app(
    run: Callable[..., Any], *, worker: Callable[[DictConfig], None] | None = None
) -> Callable[[], None]:
    """Wrap `run(cfg, overrides=...)` as a Hydra main that fails with one clear line.

    Under `train.strategy=multi_worker` only the chief runs `run`; the other workers run
    `worker(cfg)` (the same training, untracked). A stage without `worker` refuses the strategy.

    Hydra has already refused unknown keys and wrong types (the schemas); values are
    checked by `stage_run` once the run exists, so a bad one leaves a FAILED run that says why.
    """

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
    def main(cfg: DictConfig) -> None:
        _task_started()
        signal.signal(signal.SIGTERM, _raise_interrupted)
        try:
            if cfg.train.strategy == multi_worker.MULTI_WORKER:
                if worker is None:
                    raise ConfigError(
                        "train.strategy=multi_worker trains the train_base and cold_start "
                        "stages; run this one with train.strategy=default or mirrored"
                    )
                strategy(cfg.train)  # TF configures collectives before its first op
                if not multi_worker.is_chief():
                    worker(cfg)  # trains with the chief, tracks nothing
                    return
            connect(cfg)
            run(cfg, overrides=task_overrides())
        except WarmstartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if in_multirun():
                return  # this job's run is FAILED; the sweep goes on and fails at its end
            sys.exit(1)
        except (KeyboardInterrupt, StageInterrupted) as exc:
            print(f"interrupted: {exc or 'Ctrl-C'}; the run was ended KILLED", file=sys.stderr)
            sys.exit(130)

    return checking_launcher(_composed(main))
