"""predict-folder over an s3:// folder, served by moto on 127.0.0.1 with dummy credentials."""

import io
import sys
from pathlib import Path

import pytest

s3fs = pytest.importorskip("s3fs", reason="the s3 extra is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

import boto3  # noqa: E402
import pandas as pd  # noqa: E402
from helpers import digit_image, save_model  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from digitflow.batch.predict import PredictFolderConfig, predict_folder  # noqa: E402
from digitflow.stages.predict_folder import app  # noqa: E402

BUCKET = "scans"


@pytest.fixture(scope="module")
def endpoint():
    """A moto S3 server on a free loopback port, reached the way users reach MinIO: the AWS
    environment variables, AWS_ENDPOINT_URL included."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            env.setenv(name, value)
        s3fs.S3FileSystem.clear_instance_cache()  # none made before these settings
        yield url
    server.stop()


@pytest.fixture
def bucket(endpoint):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    for listed in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=listed["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def png(side_px: int = 48) -> bytes:
    buffer = io.BytesIO()
    digit_image(side_px).save(buffer, format="PNG")
    return buffer.getvalue()


def put(s3, keys: dict[str, bytes]) -> None:
    for key, body in keys.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def run(url: str, tmp_path: Path, incremental: bool = False) -> dict:
    model = tmp_path / "weights.npz"
    if not model.exists():
        save_model(model, seed=0)
    return predict_folder(
        PredictFolderConfig(input_dir=url, jobs=1),
        model,
        tmp_path / "out" / "predictions.csv",
        tmp_path / "out" / "summary.json",
        incremental=incremental,
    )


def rows(tmp_path: Path) -> pd.DataFrame:
    csv = tmp_path / "out" / "predictions.csv"
    return pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("path")


def test_s3_folder_is_listed_in_path_order_and_read_by_the_workers(bucket, tmp_path):
    put(
        bucket,
        {
            "in/b.png": png(),
            "in/a/c.png": png(40),
            "in/a.png": png(),
            "in/.hidden.png": png(),
            "in/bad.png": b"not an image",
            "elsewhere/x.png": png(),
        },
    )
    result = run(f"s3://{BUCKET}/in/", tmp_path)
    table = rows(tmp_path)
    assert list(table.index) == ["a.png", "a/c.png", "b.png", "bad.png"]
    assert table["status"].to_dict() == {
        "a.png": "ok",
        "a/c.png": "ok",
        "b.png": "ok",
        "bad.png": "error",
    }
    assert table.loc["bad.png", "error"] == "not an image (no known image format)"
    listed = bucket.head_object(Bucket=BUCKET, Key="in/a/c.png")
    assert table.loc["a/c.png", "size_bytes"] == str(listed["ContentLength"])
    assert int(table.loc["a/c.png", "mtime_ns"]) == listed["LastModified"].timestamp() * 10**9
    assert (result["predicted"], result["failed"]) == (3, 1)


def test_incremental_on_s3_keys_objects_by_size_and_last_modified(bucket, tmp_path):
    put(bucket, {"in/a.png": png(), "in/b.png": png()})
    run(f"s3://{BUCKET}/in", tmp_path)
    put(bucket, {"in/b.png": png(60), "in/c.png": png()})  # b rewritten, c new
    again = run(f"s3://{BUCKET}/in", tmp_path, incremental=True)
    assert (again["decoded"], again["kept"]) == (2, 1)
    assert list(rows(tmp_path).index) == ["a.png", "b.png", "c.png"]


def test_a_missing_bucket_is_one_line_and_writes_nothing(endpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_model(Path("weights.npz"), seed=0)
    result = CliRunner().invoke(
        app, ["s3://no-such-bucket/in/", "--model", "weights.npz", "--out", "out/p.csv"]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        "error: input folder s3://no-such-bucket/in/ does not exist"
    ]
    assert not Path("out").exists()


def test_a_url_whose_storage_library_is_missing_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now fails
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    monkeypatch.chdir(tmp_path)
    save_model(Path("weights.npz"), seed=0)
    result = CliRunner().invoke(
        app, ["s3://scans/in/", "--model", "weights.npz", "--out", "out/p.csv"]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        "error: reading s3:// folders needs the s3 extra: pip install 'digitflow[s3]'"
    ]


def test_a_file_url_is_the_local_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(png())
    run(f"file://{folder}", tmp_path)
    assert rows(tmp_path)["status"].to_dict() == {"a.png": "ok"}
