"""The registered model's pyfunc: raw review text in, positive-class probability out.

The `mlflow.keras` flavor's own pyfunc rejects string input ("Invalid dtype: object"), so the
registered model wraps the Keras model (token ids -> logit) with a vectorizer rebuilt from the
version's own vocabulary file. Everything is loaded without pickle: the Keras file with
`safe_mode`, the vocabulary as text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from warmstart.tracking.version_format import KERAS_MODEL, SETTINGS, VOCABULARY


class TextClassifier(PythonModel):
    """Predicts P(positive) for each row of a DataFrame with a `text` column."""

    def load_context(self, context) -> None:
        import json

        from warmstart.core.vocab import load_vocabulary
        from warmstart.modeling import text
        from warmstart.modeling.model import load_model

        with open(context.artifacts[SETTINGS], encoding="utf-8") as f:
            settings = json.load(f)
        self._vectorizer = text.build_vectorizer(
            sequence_length=int(settings["sequence_length"]),
            vocabulary=load_vocabulary(context.artifacts[VOCABULARY]),
        )
        self._model = load_model(context.artifacts[KERAS_MODEL])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from warmstart.modeling import text

        texts = model_input["text"].astype(str).tolist()
        ids = text.vectorize(self._vectorizer, texts)
        logits = np.asarray(self._model.predict(ids, verbose=0)).reshape(-1)
        return pd.DataFrame({"probability": 1.0 / (1.0 + np.exp(-logits))})
