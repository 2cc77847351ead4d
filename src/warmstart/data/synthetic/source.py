"""The synthetic source: the corpus the `data` settings describe, generated once into the cache."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warmstart.data.acl_layout import ACL_DIR
from warmstart.data.cache import complete_dir
from warmstart.data.settings import setting
from warmstart.data.synthetic.corpus import FORMAT_VERSION, write_corpus
from warmstart.data.synthetic.topics import write_topics

TOPICS_DIR = "topics"


def synthetic_copy(cfg: Mapping[str, Any], cache_dir: Path) -> Path:
    """The aclImdb directory of the cached corpus, keyed by its arguments and format version.

    With `data.num_classes` > 2, the topic corpus's folder (`train|test/<topic>/`) instead.
    """
    # Checked by `load_splits` (config.validation.check_data) before any source is read.
    generation, n_train, n_test, seed = (
        int(setting(cfg, key, required=True))
        for key in ("generation", "n_train", "n_test", "corpus_seed")
    )
    key = f"gen{generation}-train{n_train}-test{n_test}-seed{seed}-v{FORMAT_VERSION}"
    num_classes = int(setting(cfg, "num_classes", 2))
    if num_classes > 2:
        topics_key = f"{key}-classes{num_classes}"

        def build_topics(tmp: Path) -> None:
            write_topics(tmp, generation=generation, n_train=n_train, n_test=n_test, seed=seed,
                         num_classes=num_classes)  # fmt: skip

        return (
            complete_dir(cache_dir / topics_key, build_topics, {"generator": topics_key})
            / TOPICS_DIR
        )

    def build(tmp: Path) -> None:
        write_corpus(tmp, generation=generation, n_train=n_train, n_test=n_test, seed=seed)

    target = complete_dir(cache_dir / key, build, {"generator": key})
    return target / ACL_DIR
