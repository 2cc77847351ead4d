"""The Hydra app wrapper every stage shares: compose, connect, run, report one clear line."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from warmstart.config import CONFIG_DIR, in_multirun
from warmstart.core.errors import ConfigError, WarmstartError
from warmstart.modeling import multi_worker
from warmstart.modeling.fit import strategy
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

    return main
