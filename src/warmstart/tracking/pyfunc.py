"""The registered model's pyfunc: raw text in, the predicted class and each class's probability out.

The `mlflow.keras` flavor's own pyfunc rejects string input ("Invalid dtype: object"), so the
registered model wraps the Keras model (token ids -> logits) with a vectorizer rebuilt from the
version's own vocabulary file, and answers with its own classes (`labels.txt`). The model is
composed from the version's head (head.keras) and embedding (embedding.npy); versions from
before that hold the whole model (model.keras). Everything is loaded without pickle: Keras
files with `safe_mode`, the matrix with `allow_pickle=False`, vocabulary and labels as text.

Output columns: `label` (the class as the data spelled it), `p_<class>` for every class in
order and, for a binary model, `probability` (of the second class, the positive one).
A null or empty text is refused with INVALID_PARAMETER_VALUE, which a model server answers
with a 400 naming the rows, not a stack trace; a request of no rows is answered with no rows.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from warmstart.tracking.version_format import (
    EMBEDDING,
    HEAD_MODEL,
    KERAS_MODEL,
    LABELS,
    LEGACY_LABELS,
    SETTINGS,
    VOCABULARY,
)


def output_columns(labels: list) -> list[str]:
    """The pyfunc's output columns for these classes (what the signature declares too)."""
    probabilities = [f"p_{label}" for label in labels]
    return ["label", *probabilities, *(["probability"] if len(labels) == 2 else [])]


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities (rows sum to 1) from one logit (binary) or K logits (softmax)."""
    logits = np.asarray(logits, dtype="float64")
    if logits.ndim == 1 or logits.shape[-1] == 1:
        # sigmoid(z) == softmax([0, z])[1] (as core.label_remap converts a binary layer); the
        # shifted softmax below cannot overflow, which 1 / (1 + exp(-z)) did for huge logits.
        z = logits.reshape(-1)
        logits = np.stack([np.zeros_like(z), z], axis=1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def checked_texts(model_input: pd.DataFrame) -> np.ndarray:
    """The `text` column as an object array of str, refusing what no model can classify.

    No rows is no error: an empty request gets an empty answer. A frame without any column
    (how `{"dataframe_records": []}` parses) has no rows either, though a model server's
    signature check refuses that one before the model sees it.
    Vectorised (pandas' C loops): a Python test per row cost seconds on large batches.
    """
    if isinstance(model_input, pd.DataFrame) and model_input.shape == (0, 0):
        return np.empty(0, dtype=object)
    if not isinstance(model_input, pd.DataFrame) or "text" not in model_input.columns:
        raise MlflowException(
            "the input needs a column 'text' (one review per row); send "
            '{"dataframe_records": [{"text": "..."}]}',
            error_code=INVALID_PARAMETER_VALUE,
        )
    column = model_input["text"]
    missing = column.isna().to_numpy(dtype=bool)  # None, NaN, pd.NA, NaT
    texts = column.astype(str)
    blank = texts.str.len().to_numpy() == 0
    blank |= texts.str.isspace().to_numpy(dtype=bool)
    bad = np.flatnonzero(missing | blank).tolist()
    if bad:
        raise MlflowException(
            f"{len(bad)} text(s) are null or empty (rows {bad[:10]}); send a non-empty "
            "string in 'text' for every row",
            error_code=INVALID_PARAMETER_VALUE,
        )
    return texts.to_numpy(dtype=object)


class TextClassifier(PythonModel):
    """Predicts the class of each row of a DataFrame with a `text` column."""

    def load_context(self, context) -> None:
        import json

        from warmstart.core.labels import load_labels
        from warmstart.core.vocab import load_vocabulary
        from warmstart.modeling import text
        from warmstart.modeling.heads import PRE_FAMILIES
        from warmstart.modeling.model import assemble, load_model

        with open(context.artifacts[SETTINGS], encoding="utf-8") as f:
            settings = json.load(f)
        self._vectorizer = text.build_vectorizer(
            sequence_length=int(settings["sequence_length"]),
            vocabulary=load_vocabulary(context.artifacts[VOCABULARY]),
        )
        labels_file = context.artifacts.get(LABELS)
        if labels_file and os.path.exists(labels_file):
            self._labels = load_labels(labels_file, settings.get("label_kind", "str"))
        else:
            self._labels = list(LEGACY_LABELS)
        head_file = context.artifacts.get(HEAD_MODEL)
        if head_file and os.path.exists(head_file):
            # Mapped, not read: the matrix goes straight from the file into the variable.
            matrix = np.load(context.artifacts[EMBEDDING], mmap_mode="r", allow_pickle=False)
            self._model = assemble(
                load_model(head_file),
                matrix,
                sequence_length=int(settings["sequence_length"]),
                family=str(settings.get("family", PRE_FAMILIES)),
                mask_padding=settings.get("mask_padding"),
            )
        else:  # a version from before head.keras: the whole model in one file
            self._model = load_model(context.artifacts[KERAS_MODEL])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from warmstart.modeling import text

        texts = checked_texts(model_input)
        if len(texts):
            ids = text.vectorize(self._vectorizer, texts)
            p = probabilities(np.asarray(self._model.predict(ids, verbose=0)))
        else:  # the vectorizer and Keras fail on no rows; the answer is no rows, same columns
            p = np.zeros((0, len(self._labels)))
        labels = np.asarray(self._labels, dtype=object)
        out = {"label": labels[p.argmax(axis=1)].tolist()}
        out.update({f"p_{label}": p[:, i] for i, label in enumerate(self._labels)})
        if len(self._labels) == 2:
            out["probability"] = p[:, 1]
        return pd.DataFrame(out, columns=output_columns(self._labels))
