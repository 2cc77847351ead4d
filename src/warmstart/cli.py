"""`python -m warmstart.cli STAGE [OVERRIDES...]`: the MLproject adapter.

`mlflow run -P overrides="a=1 b='x y'"` hands the whole string over as one shell-quoted
argument. This splits it at blanks outside quotes and keeps the quotes, so Hydra's own
grammar still sees `b='x y'` (and `c='p,q'`, which Hydra would otherwise read as a sweep).
"""

from __future__ import annotations

import importlib
import sys

from warmstart.tracking.stage_names import (
    COLD_START,
    COMPARE,
    PIPELINE,
    TRAIN_BASE,
    UPDATE,
    VOCAB_DIFF,
    WARM_START,
)

# The entry points: each stage's module is `warmstart.stages.<name>`.
STAGES = (TRAIN_BASE, VOCAB_DIFF, WARM_START, COLD_START, COMPARE, PIPELINE, UPDATE)


def split_overrides(text: str) -> list[str]:
    """Split at whitespace outside single or double quotes; quotes are kept for Hydra."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if quote:
        raise SystemExit(f"error: unbalanced {quote} quote in overrides: {text!r}; close the quote")
    if current:
        words.append("".join(current))
    return words


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in STAGES:
        raise SystemExit(f"usage: python -m warmstart.cli {{{','.join(STAGES)}}} [OVERRIDES]")
    stage, rest = args[0], args[1:]
    overrides = [word for arg in rest for word in split_overrides(arg)]
    module = importlib.import_module(f"warmstart.stages.{stage}")
    sys.argv = [f"warmstart.stages.{stage}", *overrides]
    module.main()


if __name__ == "__main__":
    main()
