"""The synthetic source: the corpus the `data` settings describe, generated once into the cache."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warmstart.data.acl_layout import ACL_DIR
from warmstart.data.cache import complete_dir
from warmstart.data.settings import positive_int
from warmstart.data.synthetic.corpus import FORMAT_VERSION, write_corpus


def synthetic_copy(cfg: Mapping[str, Any], cache_dir: Path) -> Path:
    """The aclImdb directory of the cached corpus, keyed by its arguments and format version."""
    generation = positive_int(cfg, "generation", 0)
    n_train = positive_int(cfg, "n_train", 2)
    n_test = positive_int(cfg, "n_test", 2)
    seed = positive_int(cfg, "corpus_seed", 0)
    key = f"gen{generation}-train{n_train}-test{n_test}-seed{seed}-v{FORMAT_VERSION}"

    def build(tmp: Path) -> None:
        write_corpus(tmp, generation=generation, n_train=n_train, n_test=n_test, seed=seed)

    target = complete_dir(cache_dir / key, build, {"generator": key})
    return target / ACL_DIR
