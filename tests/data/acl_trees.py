"""Crafted aclImdb trees, tarballs and `data` configs for the tests of `warmstart.data`."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any


def make_tree(root: Path, n: int = 10, *, extra: bool = False) -> Path:
    """A tiny aclImdb tree with `n` reviews per class and split; returns the aclImdb dir."""
    acl = root / "aclImdb"
    for split in ("train", "test"):
        for cls, ratings in (("neg", (1, 2, 3, 4)), ("pos", (7, 8, 9, 10))):
            d = acl / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                text = f"{split} {cls} review number {i}.<br /><br />It was {cls}!"
                (d / f"{i}_{ratings[i % 4]}.txt").write_text(text, encoding="utf-8")
    (acl / "README").write_text("tiny test tree\n")
    (acl / "imdb.vocab").write_text("the\na\n")
    if extra:  # what the official archive has beyond the labeled reviews
        unsup = acl / "train" / "unsup"
        unsup.mkdir()
        for i in range(5):
            (unsup / f"{i}_0.txt").write_text(f"unlabeled {i}")
        (acl / "train" / "labeledBow.feat").write_text("0 0:1\n")
        (acl / "train" / "urls_pos.txt").write_text("http://example.invalid\n")
        (acl / "train" / "urls_unsup.txt").write_text("http://example.invalid\n")
    return acl


def make_tar(
    path: Path, acl: Path, extra: tuple[tuple[tarfile.TarInfo, bytes | None], ...] = ()
) -> Path:
    """A .tar.gz of `acl` (as aclImdb/...), with crafted `extra` members appended."""
    with tarfile.open(path, "w:gz") as tf:
        tf.add(acl, arcname="aclImdb")
        for info, payload in extra:
            tf.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def member(
    name: str, kind: bytes = tarfile.REGTYPE, payload: bytes = b"x", **kw: Any
) -> tuple[tarfile.TarInfo, bytes | None]:
    """A crafted tar member (regular file, link, fifo, device, ...) and its payload."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(payload) if kind == tarfile.REGTYPE else 0
    for key, value in kw.items():
        setattr(info, key, value)
    return info, payload if kind == tarfile.REGTYPE else None


def imdb_cfg(cache: Path, **kw: Any) -> dict[str, Any]:
    cfg = {
        "name": "imdb",
        "path": None,
        "path_sha256": None,
        "url": "file:///nonexistent/aclImdb_v1.tar.gz",
        "sha256": "0" * 64,
        "cache_dir": str(cache),
        "validation_split": 0.2,
        "split_seed": 123,
        "max_reviews": None,
    }
    cfg.update(kw)
    return cfg


def synthetic_cfg(cache: Path, **kw: Any) -> dict[str, Any]:
    cfg = {
        "name": "synthetic",
        "path": None,
        "generation": 0,
        "n_train": 200,
        "n_test": 80,
        "corpus_seed": 7,
        "cache_dir": str(cache),
        "validation_split": 0.2,
        "split_seed": 123,
        "max_reviews": None,
    }
    cfg.update(kw)
    return cfg


def leftovers(cache: Path) -> list[str]:
    """Anything in the cache that looks like an unfinished extraction or download."""
    return [str(p) for p in cache.rglob("*") if ".tmp-" in p.name or p.name.endswith(".part")]
