"""The warm start's classifier head when the classes may have changed (label drift).

Same classes: the source's trained head as it is (the tutorial's warm start, unchanged).
Otherwise the output layer is remapped by class identity (`core.label_remap`): shared classes
keep their column, new ones get `warmstart.label_initializer`, removed ones are dropped, and a
one-logit base is converted exactly first. The label diff is logged and returned as tags for
the run and the registered version. A version of aclImdb-layout data from before its labels
were words (0/1) is read as negative/positive (`data.acl_layout.legacy_labels_renamed`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import keras
import mlflow

from warmstart.core.label_remap import diff_labels, label_diff_summary, remap_output_layer
from warmstart.core.labels import label_names
from warmstart.core.remap_plan import RemapPlan
from warmstart.data.acl_layout import legacy_labels_renamed
from warmstart.modeling.output_layer import head_for_classes, output_weights
from warmstart.modeling.prepare import Prepared
from warmstart.tracking.resolve import ResolvedSource
from warmstart.tracking.version_format import LABEL_DIFF_TAG, label_diff_tag


def label_diff_tags(summary: Mapping[str, Any]) -> dict[str, str]:
    """The label diff as tags: one per count and class list, and all of it in one."""
    tags = {label_diff_tag(k): (json.dumps(v) if isinstance(v, list) else str(v))[:5000]
            for k, v in summary.items()}  # fmt: skip
    return {LABEL_DIFF_TAG: json.dumps(summary)[:5000], **tags}


class WarmHead(NamedTuple):
    head: keras.Layer  # the head to warm-start with
    tags: dict[str, str]  # the label diff, for the run and the version
    label_plan: RemapPlan | None  # how the output layer's classes moved (None: they did not)


def warm_head(
    cfg: Mapping, source: ResolvedSource, trained: keras.Sequential, data: Prepared
) -> WarmHead:
    """The head to warm-start with, from `trained`, the source's head."""
    source_labels = legacy_labels_renamed(source.labels, data.labels)
    same = label_names(source_labels) == label_names(data.labels)
    label_plan = None
    if same:
        summary = label_diff_summary(diff_labels(source_labels, data.labels))
        head = trained
    else:
        kernel, bias = output_weights(trained)
        remapped = remap_output_layer(
            source_labels,
            data.labels,
            kernel,
            bias,
            initializer=str(cfg["warmstart"].get("label_initializer", "zeros")),
            seed=int(cfg["seed"]),
        )
        summary = remapped.summary()
        label_plan = RemapPlan.from_diff(remapped.diff)
        head = head_for_classes(trained, len(data.labels), remapped.kernel, remapped.bias)
    mlflow.log_dict(summary, "remap/labels.json")
    tags = label_diff_tags(summary)
    mlflow.set_tags(tags)
    return WarmHead(head, tags, label_plan)
