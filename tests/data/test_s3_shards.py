"""`data=files` from an S3 bucket: a prefix, a glob over its keys or one object reads as the
same files on disk do; the endpoint and credentials come from the AWS variables; a bucket
that cannot be read is one line naming the URI and what to set.

A real S3-compatible server (moto's, on 127.0.0.1: `s3_server` in conftest.py) holds the
objects; each test writes its own bucket.
"""

from __future__ import annotations

import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from compose import compose_config
from servers import S3_CREDENTIALS, free_port, s3_client
from shard_tables import files_cfg, review_table, write, write_shards

from warmstart.config import validate
from warmstart.core.errors import DataError
from warmstart.data import load_splits
from warmstart.data.object_store import S3Location, s3_endpoint
from warmstart.data.shard_read import read_shard
from warmstart.data.shards import shard_files, table_rows
from warmstart.data.table import Columns, Window
from warmstart.data.windows import time_windows

ENDPOINTS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")


@pytest.fixture
def bucket(s3_server, monkeypatch, tmp_path):
    """A new bucket, with the environment pointing at the server as a user's would."""
    for name in (*ENDPOINTS, "AWS_REGION", "AWS_PROFILE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never look past the loopback
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.uri)
    name = f"shards-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    return name


def upload(s3_server, bucket: str, files: list[Path], root: Path, prefix: str) -> None:
    """`files` under `root` as objects `prefix/<their path under root>`."""
    client = s3_client(s3_server)
    for path in files:
        key = f"{prefix}/{path.relative_to(root).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def test_a_prefix_of_parquet_shards_reads_the_rows_its_files_hold_on_disk(
    s3_server, bucket, tmp_path
):
    frame = review_table(40)
    local = tmp_path / "p"
    shards = write_shards(frame, local, ".parquet", n=2)
    (local / "_SUCCESS").write_bytes(b"")  # engines' markers, checksums, empty objects: skipped
    (local / ".part-00000.parquet.crc").write_bytes(b"\x00\x01")
    (local / "part-00002.parquet").write_bytes(b"")
    other = write(review_table(5), tmp_path / "p-later" / "part-00000.parquet")  # not under p/
    upload(s3_server, bucket, sorted(local.iterdir()), local, "p")
    upload(s3_server, bucket, [other], tmp_path / "p-later", "p-later")
    window = {"time_column": "year", "since": "2021", "until": "2023"}

    found = shard_files(f"s3://{bucket}/p/", "path")
    assert [str(s) for s in found] == [f"s3://{bucket}/p/{s.name}" for s in shards]
    assert {shard: i for i, shard in enumerate(found)}[S3Location(bucket, "p/part-00001.parquet")]
    assert shard_files(f"s3://{bucket}/p", "path") == found  # with or without the slash
    whole = [s.key for s in shard_files(f"s3://{bucket}", "path")]  # the bucket: every shard
    assert whole == [*(f"p/{s.name}" for s in shards), "p-later/part-00000.parquet"]
    remote = table_rows(files_cfg(f"s3://{bucket}/p/", **window), "path")
    pd.testing.assert_frame_equal(remote.rows, table_rows(files_cfg(local, **window), "path").rows)
    assert remote.sharded and str(remote.where) == f"s3://{bucket}/p/" and len(remote.rows) == 20
    # The window is a filter of the Parquet read itself, as for shards on disk.
    columns, cut = Columns(time="year"), Window("2021", "2023")
    assert len(read_shard(found[0], "parquet", columns, cut, None)) == 10
    assert len(read_shard(found[0], "parquet", columns, cut, None, push=False)) == 20


def test_csv_shards_and_a_jsonl_object_as_the_held_out_test_split(s3_server, bucket, tmp_path):
    frame = review_table(60)
    shards = write_shards(frame[:40], tmp_path / "train", ".csv", n=3)
    held = write(frame[40:], tmp_path / "test.jsonl")
    upload(s3_server, bucket, shards, tmp_path / "train", "exports/train")
    upload(s3_server, bucket, [held], tmp_path, "exports")
    cfg = files_cfg(f"s3://{bucket}/exports/train/", test_path=f"s3://{bucket}/exports/test.jsonl")
    splits = load_splits(cfg)
    assert splits.test["text"].tolist() == frame["text"][40:].tolist()
    assert sorted([*splits.train["text"], *splits.val["text"]]) == sorted(frame["text"][:40])
    assert splits.source == f"s3://{bucket}/exports/train/ + s3://{bucket}/exports/test.jsonl"
    # One object is one file: no shards, and `split=auto` is stratified, as for a file on disk.
    assert shard_files(f"s3://{bucket}/exports/test.jsonl", "test_path") is None
    one = table_rows(files_cfg(f"s3://{bucket}/exports/test.jsonl"), "path")
    assert not one.sharded and one.rows["text"].tolist() == frame["text"][40:].tolist()


def test_a_glob_over_a_bucket_matches_what_glob_matches_in_the_same_tree(
    s3_server, bucket, tmp_path
):
    tree = tmp_path / "g"
    names = ("part-0.parquet", "part-1.parquet", "part-2.csv", "sub/part-3.parquet")
    hidden = ".tmp/part-4.parquet"  # glob's wildcards never enter a name starting with "."
    files = [write(review_table(4), tree / name) for name in (*names, hidden)]
    upload(s3_server, bucket, files, tree, "g")
    patterns = ("*.parquet", "*/*.parquet", "**/part-*.parquet", "**", "part-[!0].*", "part-?.csv")
    for pattern in patterns:
        local = [p.relative_to(tree).as_posix() for p in shard_files(str(tree / pattern), "path")]
        remote = [str(s) for s in shard_files(f"s3://{bucket}/g/{pattern}", "path")]
        assert remote == [f"s3://{bucket}/g/{name}" for name in local] and local, pattern
    rows = table_rows(files_cfg(f"s3://{bucket}/g/part-*.parquet"), "path")
    assert len(rows.rows) == 8 and rows.sharded
    # The prefix itself mixes formats: refused, with a glob of one of them as the fix.
    with pytest.raises(DataError, match=rf"mixes table formats.*s3://{bucket}/g/\*\.parquet"):
        table_rows(files_cfg(f"s3://{bucket}/g/"), "path")


def test_hydra_validation_and_the_time_windows_take_an_s3_source(s3_server, bucket, tmp_path):
    shards = write_shards(review_table(40), tmp_path / "p", ".parquet", n=2)
    upload(s3_server, bucket, shards, tmp_path / "p", "p")
    cfg = compose_config("data=files", f"data.path=s3://{bucket}/p/part-*.parquet")
    validate(cfg)
    assert cfg.data.path == f"s3://{bucket}/p/part-*.parquet"
    assert len(load_splits(cfg.data).train) > 0
    windows = time_windows(files_cfg(f"s3://{bucket}/p/", time_column="year"), None)
    assert [w.label for w in windows] == ["2020", "2021", "2022", "2023"]


def test_nothing_to_read_is_one_line_naming_the_uri_and_what_to_set(s3_server, bucket):
    empty = f"s3://{bucket}/nothing/"
    s3_client(s3_server).put_object(Bucket=bucket, Key="nothing/_SUCCESS", Body=b"")
    cases = [
        (empty, rf"{empty} holds no table files .* at {s3_server.uri}; set data\.path to a prefix"),
        (f"s3://{bucket}/none-*.parquet", r"matches no table object .*; fix the pattern"),
        ("s3://no-such-bucket-here/p/", r"bucket 'no-such-bucket-here' of .* does not exist"),
        ("s3:///p/", r"names no bucket; write it as s3://<bucket>/<prefix>/"),
    ]
    for uri, message in cases:
        with pytest.raises(DataError, match=message) as raised:
            table_rows(files_cfg(uri), "path")
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_shard_without_a_column_or_with_a_bad_row_is_named_by_its_uri(
    s3_server, bucket, tmp_path, suffix
):
    shards = write_shards(review_table(30), tmp_path / "s", suffix, n=3)
    write(review_table(10).drop(columns="label"), shards[1])
    upload(s3_server, bucket, shards, tmp_path / "s", "s")
    with pytest.raises(DataError) as raised:
        table_rows(files_cfg(f"s3://{bucket}/s/"), "path")
    named = f"s3://{bucket}/s/part-00001{suffix}"
    assert str(raised.value).startswith(f"{named} has no column 'label'")
    assert "data.label_column" in str(raised.value) and "\n" not in str(raised.value)
    broken = review_table(10)
    broken.loc[3, "label"] = None
    write(broken, shards[1])
    upload(s3_server, bucket, [shards[1]], tmp_path / "s", "s")
    with pytest.raises(DataError, match=rf"{named} has 1 row\(s\) without a label .*\(row 4\)"):
        table_rows(files_cfg(f"s3://{bucket}/s/"), "path")


def test_the_endpoint_is_the_s3_variable_then_the_aws_one_then_mlflows(
    s3_server, bucket, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://mlflow.example:9000")
    assert s3_endpoint() == s3_server.uri  # AWS_ENDPOINT_URL, from the fixture
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://s3.example:9000")
    assert s3_endpoint() == "http://s3.example:9000"
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert s3_endpoint() == "http://mlflow.example:9000"
    # An MLflow user's MinIO endpoint alone reaches the data.
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.uri)
    path = write(review_table(9), tmp_path / "one.parquet")
    upload(s3_server, bucket, [path], tmp_path, "t")
    assert len(table_rows(files_cfg(f"s3://{bucket}/t/one.parquet"), "path").rows) == 9


def test_an_endpoint_that_does_not_answer_is_one_line_naming_it(bucket, monkeypatch):
    closed = f"http://127.0.0.1:{free_port()}"  # reserved for this process: nothing listens
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no retries: the test stays fast
    with pytest.raises(DataError) as raised:
        shard_files(f"s3://{bucket}/p/", "path")
    message = str(raised.value)
    assert message.startswith(f"cannot reach the S3 endpoint for s3://{bucket}/p/ at {closed} (")
    assert "set AWS_ENDPOINT_URL to the S3 server's URL" in message and "\n" not in message


@contextmanager
def signatures_checked(s3_server):
    """moto checks credentials (against its IAM users: none) until the block ends."""

    def allow_unsigned(count: str) -> None:
        request = urllib.request.Request(
            f"{s3_server.uri}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200

    allow_unsigned("0")
    try:
        yield
    finally:
        allow_unsigned("inf")  # moto's default: no request is checked


def test_credentials_the_server_refuses_are_one_line_naming_the_uri(s3_server, bucket, tmp_path):
    path = write(review_table(9), tmp_path / "one.parquet")
    upload(s3_server, bucket, [path], tmp_path, "t")
    for uri in (f"s3://{bucket}/t/", f"s3://{bucket}/t/one.parquet"):
        with signatures_checked(s3_server), pytest.raises(DataError) as raised:
            table_rows(files_cfg(uri), "path")
        message = str(raised.value)
        assert message.startswith(f"the S3 server refused access to s3://{bucket}/t/")
        assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
        assert "\n" not in message


def test_prepare_data_reads_s3_shards(s3_server, bucket, tmp_path):
    from warmstart.modeling.prepare import prepare_data

    shards = write_shards(review_table(60), tmp_path / "p", ".parquet", n=2)
    upload(s3_server, bucket, shards, tmp_path / "p", "p")
    cfg = files_cfg(f"s3://{bucket}/p/", time_column="year", since="2021")
    prepared = prepare_data(cfg, {"max_tokens": "auto", "sequence_length": 16}, 7)
    assert prepared.labels == ["billing", "login", "shipping"]
    assert "review" in prepared.vocabulary and prepared.sequence_length == 16
