"""IMDB read two ways gives the same base model: `data=imdb` against `data=folder` on the
archive's extracted `aclImdb/` (classes `neg`/`pos` as sub-folders of train/ and test/).

Both are prepared by the stages' own code (`modeling.prepare`) and trained as the base of
`experiment=seed_tutorial` (10,000 tokens, sequence 100, batch 1024, seed 123), untracked.
The splits must hold the same texts in the same order, and the test accuracies agree
within 0.01 (the same data and seed give the same numbers on one machine).

    python benchmarks/bench_folder_vs_imdb.py [--archive PATH] [--epochs 15 | --small]
        [--check] [--target NAME=LIMIT]

`--small` trains 2 epochs instead of 15: both targets are about reading the data the same way,
which two epochs show as well as fifteen. `--check` exits 1 when a target is missed or the
archive is absent (without `--check` an absent archive is a skip).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import gate

from warmstart.modeling.fit import fit
from warmstart.modeling.model import build_model
from warmstart.modeling.prepare import prepare_data

ARCHIVE = Path(__file__).resolve().parents[2] / "shared/data/aclImdb_v1_labeled.tar.gz"
TOLERANCE = 0.01
EPOCHS, SMALL_EPOCHS = 15, 2


def base_accuracy(data_cfg: dict, epochs: int) -> tuple[float, float, list[str], float]:
    """(test accuracy, epoch-1 val accuracy, train texts, seconds) of the tutorial's base."""
    start = time.perf_counter()
    data = prepare_data(data_cfg, {"max_tokens": 10000, "sequence_length": 100}, 123)
    model = build_model(vocab_size=len(data.vocabulary), sequence_length=100,
                        model_cfg={"embedding_dim": 16, "hidden_units": 16},
                        num_classes=len(data.labels))  # fmt: skip
    train_cfg = {"epochs": epochs, "batch_size": 1024, "learning_rate": 0.001}
    result = fit(model, train=data.train, val=data.val, test=data.test, train_cfg=train_cfg)
    return (result.test["test_accuracy"], result.history["val_accuracy"][0],
            data.splits.train["text"].tolist(), time.perf_counter() - start)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument(
        "--epochs", type=int, help=f"default {EPOCHS} ({SMALL_EPOCHS} with --small)"
    )
    parser.add_argument("--small", action="store_true", help=f"{SMALL_EPOCHS} epochs")
    gate.add_arguments(parser)
    args = parser.parse_args()
    epochs = args.epochs or (SMALL_EPOCHS if args.small else EPOCHS)
    g = gate.Gate.from_args(f"data=folder against data=imdb ({epochs} epochs)", args)
    if not args.archive.is_file():
        g.cannot_measure(f"{args.archive} is absent; pass --archive to an aclImdb archive")
        return g.exit_code()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(args.archive) as tar:
                tar.extractall(tmp, filter="data")
            print(f"extracted in {time.perf_counter() - began:.0f} s", flush=True)
        except (tarfile.TarError, OSError) as exc:
            g.cannot_measure(f"cannot extract {args.archive}: {exc}")
            return g.exit_code()
        acl = Path(tmp) / "aclImdb"
        cache = str(Path(tmp) / "cache")
        imdb = base_accuracy({"name": "imdb", "path": str(acl), "cache_dir": cache}, epochs)
        folder = base_accuracy({"name": "folder", "path": str(acl)}, epochs)
    same_split = imdb[2] == folder[2]
    diff = abs(imdb[0] - folder[0])
    print(f"data=imdb   test_accuracy {imdb[0]:.4f}  epoch-1 val {imdb[1]:.4f}  ({imdb[3]:.0f} s)")
    print(f"data=folder test_accuracy {folder[0]:.4f}  epoch-1 val {folder[1]:.4f}  "
          f"({folder[3]:.0f} s)")  # fmt: skip
    print(f"same training texts in the same order: {same_split}; |difference| {diff:.4f}")
    print(f"({time.perf_counter() - began:.0f} s from extraction to here)")
    g.compare("same_training_texts", "same training texts in the same order (1 = yes)",
              float(same_split), 1, at_most=False)  # fmt: skip
    g.compare("accuracy_difference", "|test accuracy: imdb - folder|", diff, TOLERANCE)
    return g.exit_code()


if __name__ == "__main__":
    sys.exit(main())
