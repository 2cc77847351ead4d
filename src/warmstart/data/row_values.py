"""What a row's text and label are taken to be: blank texts are dropped, and a label column
of whole numbers written as text reads as integers. Shared by every reader, in memory or
streamed, so both keep and type the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def blank(texts: pd.Series) -> np.ndarray:
    """Texts that are empty or only whitespace (Unicode's, as `str.strip` strips), checked in
    Arrow without a stripped copy of every text."""
    values = pa.array(texts, type=pa.large_string())
    only_space = pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values))
    return np.asarray(only_space.fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)


def label_values(labels: pd.Series) -> pd.Series:
    """Labels as the data means them: a text column of whole numbers ("0", "2") as integers."""
    if labels.dtype == object and labels.map(lambda v: isinstance(v, str)).all():
        if labels.str.fullmatch(r"-?\d+").all():
            return labels.astype("int64")
        return labels.str.strip()
    return labels
