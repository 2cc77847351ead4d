"""docs/configuration.md is generated from the schemas and conf/, and kept current."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from warmstart.config import PROJECT_ROOT, schema
from warmstart.config.fields import DOC
from warmstart.config.reference import main, render

PAGE = PROJECT_ROOT / "docs" / "configuration.md"


def _documented_fields(node: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(node) if f.name != "family"]


def test_the_committed_page_is_what_make_docs_writes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "warmstart.config.reference", str(PAGE), "--check"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_check_fails_on_a_stale_page_and_names_the_command(tmp_path, capsys) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(render().replace("`20`", "`15`", 1))
    assert main([str(stale), "--check"]) == 1
    assert "run `make docs`" in capsys.readouterr().err
    assert main([str(stale)]) == 0
    assert main([str(stale), "--check"]) == 0


def test_every_schema_key_has_a_one_line_meaning() -> None:
    nodes = {node for group in schema.GROUP_SCHEMAS.values() for node in group.values()}
    nodes |= {schema.ConfigSchema, schema.EarlyStoppingSchema, schema.PromotionSchema}
    for node in nodes:
        for f in _documented_fields(node):
            doc = f.metadata.get(DOC)
            assert doc and "\n" not in doc, f"{node.__name__}.{f.name} has no one-line doc"


def test_every_key_of_every_group_option_is_on_the_page() -> None:
    page = render()
    for key in (
        "train.early_stopping.patience",
        "registry.promotion.rule",
        "data.time_format",
        "model.rnn_units",
        "update.history",
        "tracking.connect_timeout",
        "seed",
    ):
        assert f"| `{key}` |" in page, key
    # defaults as written in conf/, interpolations unresolved: no machine's paths
    assert "| `tracking.uri` | str | `sqlite:///${paths.root_dir}/mlflow.db` |" in page
    assert str(PROJECT_ROOT) not in page
    # a data source's other global settings are named under it
    assert "It also sets `base.data.generation=0`, `train.batch_size=256`." in page
