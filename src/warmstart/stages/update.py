"""Entry point `update`: the recurring job. New data arrives, the vocabulary is rebuilt, the model
in production (`update.source`, default `models:/NAME@champion`) is warm-started on it,
evaluated, and promoted only if at least as good; `update.cold=true` also trains the cold
baseline. One parent run per update (`update gen 3`, `update 2024-03`), a child per stage, the
parent carrying the headline (warm against cold, decision, champion, in one sentence too);
lineage tags chain the versions v1 -> v2 -> v3.

`update.steps=K` (`experiment=continual`) runs K updates in a row on successive generations of
the embedded corpus, or with `data=files` on successive time windows of the table
(`data.time_column` grouped by `update.period`, see data/windows.py: window 0 for the base,
window k+1 the newest of step k, which trains on it alone or with earlier ones by
`update.history`), each from the champion the step before left, with cold baselines, under one
parent run holding a per-step table, a plot and the training time warm-starting saved. A model
left without a champion (its base learned nothing) continues from the newest version the run
registered, so a hard table still yields its table of evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

import mlflow
import pandas as pd
from omegaconf import DictConfig, open_dict

from warmstart.core.errors import ConfigError
from warmstart.core.learning_curves import headline_values
from warmstart.data.windows import TimeWindow, history_window, successive_windows
from warmstart.stages import cold_start, train_base, vocab_diff, warm_start
from warmstart.stages._continual import curves_table, log_continual, step_row, summary_line
from warmstart.stages._entry import hydra_app
from warmstart.tracking import headline as headline_mod
from warmstart.tracking.aliases import CHAMPION_ALIAS
from warmstart.tracking.headline import warm_sentence
from warmstart.tracking.promotion import champion_of
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import UPDATE
from warmstart.tracking.stage_result import StageResult, UpdateStep
from warmstart.tracking.version_format import PROMOTED

# Where a step's warm start came from (param `update.warm_from`, column `warm_from`).
FROM_CHAMPION = "champion"
FROM_NEWEST = "newest version of this run (no champion)"
FROM_SOURCE = "update.source"


def effective_history(cfg: DictConfig) -> str:
    """`update.history` as the steps apply it: data=synthetic steps read one generation each
    (generations are not windows of one table), so there it is `window` whatever is set."""
    return str(cfg["update"].history) if cfg.data.name == "files" else "window"


def warm_source(cfg: DictConfig, registered: Sequence[str]) -> tuple[str, str]:
    """The URI a step warm-starts from, and why (FROM_*).

    `update.source` as configured, except that the champion of a model that has none (its base
    learned nothing and was not promoted) gives way to the newest of the `registered` versions,
    which would otherwise leave the run with nothing to continue from.
    """
    source = str(cfg["update"].source)
    name = str(cfg.registry.model_name)
    if source != f"models:/{name}@{CHAMPION_ALIAS}":
        return source, FROM_SOURCE
    if not registered or champion_of(name) is not None:
        return source, FROM_CHAMPION
    return f"models:/{name}/{registered[-1]}", FROM_NEWEST


def _step_cfg(
    cfg: DictConfig,
    generation: int | None,
    window: TimeWindow | None = None,
    source: str | None = None,
) -> DictConfig:
    step = cfg.copy()
    with open_dict(step):
        step.warmstart.source = source or str(cfg["update"].source)
        if generation is not None:
            step.data.generation = generation
        if window is not None:
            step.data.since, step.data.until = window.since, window.until
    return step


def _base_cfg(cfg: DictConfig, window: TimeWindow | None) -> DictConfig:
    """The base of a continual run: trained afresh (a reused base had no champion decision),
    on the first time window with data=files."""
    fresh = cfg.copy()
    with open_dict(fresh):
        fresh.reuse = False
        if window is not None:
            fresh.base.data.since, fresh.base.data.until = window.since, window.until
    return fresh


def one_update(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    cold: bool = False,
    step: int = 0,
    window: str | None = None,
    warm_from: str = FROM_SOURCE,
    params: Mapping[str, str] | None = None,
) -> StageResult:
    """One update under its own parent run: vocab_diff, warm_start, (cold_start).

    `warm_from` says where `warmstart.source` came from; `params` are logged on the update's
    run beside its config.
    """
    generation = cfg.data.get("generation") if cfg.data.name == "synthetic" else None
    name = f"{UPDATE} gen {generation}" if generation is not None else UPDATE
    if window is not None:
        name = f"{UPDATE} {window}"
    with stage_run(
        cfg, UPDATE, overrides=overrides, parent_run_id=parent_run_id, run_name=name
    ) as parent:
        pid = parent.info.run_id
        mlflow.log_params({"update.warm_from": warm_from, **(params or {})})
        diff = vocab_diff.run(cfg, overrides=overrides, parent_run_id=pid)
        warm = warm_start.run(cfg, overrides=overrides, parent_run_id=pid)
        trained = {"warm": warm}
        if cold:
            trained["cold"] = cold_start.run(cfg, overrides=overrides, parent_run_id=pid)
        row = step_row(trained, step=step, warm_from=warm_from, window=window,
                       generation=generation, cfg=cfg)  # fmt: skip
        values = headline_values(curves_table(trained)) if cold else {}
        numbers = {
            k: float(v)
            for k, v in asdict(row).items()
            if isinstance(v, int | float) and v is not None
        }
        mlflow.log_metrics(headline_mod.rounded(numbers))
        _update_headline(pid, row, {k: v for k, v in values.items() if k not in asdict(row)}, cfg)
        origin = f"v{row.source}" + (
            " (no champion: the newest version this run registered)"
            if warm_from == FROM_NEWEST
            else ""
        )
        print(
            f"update: v{row.version} from {origin}: "
            f"{'promoted' if row.promoted else 'rejected'}"
            f"{'' if row.learned else ', learned nothing'} "
            f"(test accuracy {row.warm_test_accuracy:.4f})"
        )
        return StageResult(
            UPDATE,
            pid,
            published=warm.published,
            promoted=warm.promoted,
            learned=warm.learned,
            source_version=warm.source_version,
            parts={"vocab_diff": diff, **trained},
            steps=(row,),
        )


def _update_headline(
    run_id: str, row: UpdateStep, values: Mapping[str, float], cfg: DictConfig
) -> None:
    """The update parent's headline: warm against cold (when trained), the decision and the
    champion, and the same in one sentence."""
    outcome = (
        f"v{row.version} was promoted to champion"
        if row.promoted
        else f"v{row.version} was rejected"
    )
    if not row.learned:
        outcome += " (it learned nothing)"
    sentence = warm_sentence(
        values,
        warm=f"v{row.version}",
        source=f"v{row.source}",
        outcome=outcome,
        test_accuracy=row.warm_test_accuracy,
    )
    decision = PROMOTED if row.promoted else "rejected"
    headline_mod.write(
        run_id,
        metrics=values,
        tags=headline_mod.champion_tags(str(cfg.registry.model_name), decision),
        description=headline_mod.note(sentence, user=cfg.get("description")),
    )


def _span(first: int | None, labels: Sequence[str | None], steps: int) -> str:
    """What a continual run covers: `gen 2..4`, or its first and last windows."""
    if labels and labels[0] is not None:
        return f"{labels[0]}..{labels[-1]}"
    if first is not None:
        return f"gen {int(first)}..{int(first) + steps - 1}"
    return f"{steps} steps"


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    """One update (`update.steps=1`: its `steps` hold its one row), or several under one
    parent run, each step's result in `parts` and its row in `steps`."""
    steps = int(cfg["update"].steps)
    first = cfg["update"].get("first_generation")
    if first is None and cfg.data.name == "synthetic":
        first = int(cfg.data.generation)
    if steps == 1:
        source, warm_from = warm_source(cfg, ())
        return one_update(
            _step_cfg(cfg, first, source=source),
            overrides=overrides,
            parent_run_id=parent_run_id,
            cold=cfg["update"].cold,
            warm_from=warm_from,
        )
    windows: list[TimeWindow | None] = [None] * (steps + 1)
    if cfg.data.name == "files":
        windows = list(successive_windows(cfg.data, cfg["update"].get("period"), steps))
    elif cfg.data.name != "synthetic":
        raise ConfigError(
            f"update.steps={steps} needs successive data: use data=synthetic (generations, "
            "experiment=continual) or data=files with data.time_column (time windows), or "
            "update.steps=1"
        )
    span = str(cfg["update"].history)
    effective = {"update.effective_history": effective_history(cfg)}
    results: dict[str, StageResult] = {}
    registered: list[str] = []  # the versions this run registered, oldest first
    labels = [
        None if windows[k + 1] is None else history_window(windows, k + 1, span).label
        for k in range(steps)
    ]
    with stage_run(
        cfg,
        UPDATE,
        overrides=overrides,
        parent_run_id=parent_run_id,
        run_name=f"{UPDATE} {_span(first, labels, steps)}",
    ) as parent:
        pid = parent.info.run_id
        mlflow.log_params(effective)
        if champion_of(str(cfg.registry.model_name)) is None:
            base = train_base.run(
                _base_cfg(cfg, windows[0]), overrides=overrides, parent_run_id=pid
            )
            assert base.published is not None, "train_base registers a version"
            registered.append(base.published.version)
        for k in range(steps):
            window = None if windows[k + 1] is None else history_window(windows, k + 1, span)
            generation = None if first is None or window else int(first) + k
            source, warm_from = warm_source(cfg, registered)
            step_cfg = _step_cfg(cfg, generation, window, source)
            result = one_update(
                step_cfg,
                overrides=overrides,
                parent_run_id=pid,
                cold=True,
                step=k,
                window=window.label if window else None,
                warm_from=warm_from,
                params=effective,
            )
            results[f"step {k}"] = result
            registered.append(result.steps[0].version)
        rows = [r.steps[0] for r in results.values()]
        log_continual(pd.DataFrame([asdict(r) for r in rows]))
        picture = headline_mod.picture(pid, "continual/steps.png", "warm and cold per update")
        line = summary_line(pd.DataFrame([asdict(r) for r in rows])).removeprefix("continual: ")
        headline_mod.write(
            pid,
            metrics={},
            tags=headline_mod.champion_tags(str(cfg.registry.model_name), None),
            description=headline_mod.note(
                f"{steps} updates, {line}.", user=cfg.get("description"), image=picture
            ),
        )
    return StageResult(UPDATE, pid, parts=results, steps=tuple(rows))


main = hydra_app(run)

if __name__ == "__main__":
    main()
