"""`train.strategy=multi_worker`: who the chief is, and what Keras 3 needs to train under it.

Every worker runs the same stage with its own `TF_CONFIG`; the chief (task `chief`, or worker 0
when the cluster names no chief) is the one that tracks and registers, the others only train.
Keras 3 (3.15) does not train under `MultiWorkerMirroredStrategy` as it is (keras-team/keras
#20585): `fit` reduces the first input batch as a tuple and the per-replica metrics along an
axis they do not have. `keras_fit_scope` sidesteps both without touching the training math.
A dead peer aborts the collectives within seconds (TF's coordination heartbeats), so the
chief's stage fails instead of hanging; the collective timeout below is the backstop.

Each worker's strategy starts TensorFlow's gRPC server on the port its `TF_CONFIG` entry
names, listening on every address of the machine (`[::]:PORT`, IPv4 and IPv6): TensorFlow 2.21
takes only the port from that entry (its GrpcServer binds "0.0.0.0:<port>") and offers no
option, ServerDef field or environment variable to bind one address. The server is
unauthenticated and runs the ops it is sent, so the workers' ports belong on a private network.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import keras
import tensorflow as tf

from warmstart.config.choices import Strategy

MULTI_WORKER = Strategy.multi_worker
# Seconds a single collective may wait for a peer before the step fails (a hung peer).
COLLECTIVE_TIMEOUT_S = 300.0


def is_chief() -> bool:
    """True unless `TF_CONFIG` names this process a non-chief task."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf_config.get("task", {})
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind in (None, "chief"):
        return True
    return kind == "worker" and index == 0 and "chief" not in tf_config.get("cluster", {})


def worker_index() -> tuple[int, int]:
    """(this worker's place, how many take part) in `TF_CONFIG`'s cluster: the chief first,
    then the workers by index; (0, 1) without a cluster. A streamed table's shards are dealt
    out by it (`modeling.feed`)."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    cluster = tf_config.get("cluster", {})
    chiefs, workers = len(cluster.get("chief", [])), len(cluster.get("worker", []))
    if chiefs + workers <= 1:
        return 0, 1
    task = tf_config.get("task", {})
    index = int(task.get("index", 0))
    return (index if task.get("type") == "chief" else chiefs + index), chiefs + workers


def new_strategy() -> tf.distribute.Strategy:
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=COLLECTIVE_TIMEOUT_S)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def _reduce_scalars(original):  # type: ignore[no-untyped-def]
    """Keras' reduce_per_replica, but a metric's per-replica scalars are averaged whole."""
    from keras.src.backend.tensorflow import trainer

    def reduce(values, strategy, reduction):  # type: ignore[no-untyped-def]
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tf.nest.map_structure(
                lambda v: (
                    strategy.reduce("MEAN", v, axis=None)
                    if isinstance(v, tf.distribute.DistributedValues)
                    else v
                ),
                values,
            )
        return original(values, strategy, reduction)

    return reduce


@contextlib.contextmanager
def keras_fit_scope(model: keras.Model, strategy: tf.distribute.Strategy) -> Iterator[None]:
    """Fit/evaluate `model` (built in `strategy`'s scope) under a multi-worker strategy.

    The model keeps its mirrored variables and trains in the strategy's scope; it only stops
    pinning the strategy itself, which makes Keras skip the eager build that reduces raw
    input batches, and metrics are averaged as scalars.
    """
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    trainer.reduce_per_replica = _reduce_scalars(original)
    model._distribute_strategy = None
    try:
        with strategy.scope():
            yield
    finally:
        trainer.reduce_per_replica = original
