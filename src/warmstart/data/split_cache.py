"""A streamed table's rows, split, on local disk: Arrow IPC files per shard, split and batch.

The scan writes each shard's kept `text`, `label` rows once, split by split; every epoch then
reads only its split's files, memory-mapped (no Parquet or CSV decoding, no S3 request, no
row checks or hashing again, and no validation pass over the training rows). Uncompressed
IPC is written about as fast as memory is copied; the files take about the texts' size on
disk, under `data.cache_dir`, in a private directory removed when the cache is collected or
the process ends (a crash leaves a `warmstart-stream-*` directory that is safe to delete).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from warmstart.data.cache import make_cache_dir


@dataclass(frozen=True)
class CachedPart:
    """One shard's rows of one split."""

    index: int  # the shard's place in the table (workers are dealt shards by it)
    shard: str  # the shard, as the user's table names it
    path: Path
    rows: int


class SplitCache:
    def __init__(self, parent: Path | None) -> None:
        if parent is not None:
            make_cache_dir(parent)
        self.dir = Path(tempfile.mkdtemp(prefix="warmstart-stream-", dir=parent))
        self.parts: dict[int, list[CachedPart]] = {}
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, True)

    def write(
        self, index: int, shard: str, part: int, rows: pa.Table, batch: int = 0
    ) -> CachedPart:
        """Keep `rows` (`text`, `label`) of shard number `index` as split `part` (`batch`:
        the scan's batch number, each batch its own file)."""
        path = self.dir / f"{index:06d}-{part}-{batch:06d}.arrow"
        table = rows.select(["text", "label"])
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        cached = CachedPart(index, shard, path, table.num_rows)
        self.parts.setdefault(part, []).append(cached)
        return cached

    def of(self, part: int) -> tuple[CachedPart, ...]:
        """The split's parts, in the table's shard order."""
        return tuple(sorted(self.parts.get(part, ()), key=lambda cached: cached.path.name))

    @staticmethod
    def read(cached: CachedPart) -> pa.Table:
        """The part's rows, memory-mapped."""
        with pa.memory_map(str(cached.path)) as source:
            return pa.ipc.open_file(source).read_all()
