"""Hostile package uploads: corrupt, truncated and lying zips and zip bombs are refused with a 422
naming the problem, before (or while) unpacking, nothing is stored, no temp file stays behind and
the server keeps answering. The CLI says the same without a traceback."""

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import kg.package.reader as reader
from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"
MEMBER = "guji-sample-2026-001/data/books.csv"


def zipped(folder: Path = SAMPLE, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            zf.write(f, Path(folder.name) / f.relative_to(folder))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _data_offset(data: bytes, name: str) -> tuple[zipfile.ZipInfo, int]:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    n, m = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info, info.header_offset + 30 + n + m


def corrupt_member(data: bytes, name: str = MEMBER) -> bytes:
    """The member's compressed bytes overwritten in the middle: a bad deflate stream or a bad CRC."""
    info, start = _data_offset(data, name)
    middle = start + info.compress_size // 2
    return data[:middle] + b"\xff" * 16 + data[middle + 16:]


def lying_member(data: bytes, name: str, declared: int) -> bytes:
    """The member's declared size (local header and central directory) set far below its real size."""
    info, _ = _data_offset(data, name)
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 22, declared)
    pos = zipfile.ZipFile(io.BytesIO(data)).start_dir
    while out[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack("<HHH", out[pos + 28:pos + 34])
        if out[pos + 46:pos + 46 + n] == name.encode():
            struct.pack_into("<I", out, pos + 24, declared)
            return bytes(out)
        pos += 46 + n + m + k
    raise AssertionError(f"{name} not in the central directory")


@pytest.fixture
def tmpdir_(tmp_path, monkeypatch):
    """A private temp directory, so leftovers of this test (and only of it) can be counted."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith(("guji-package-", "guji-upload-")))


@pytest.fixture
def client_key(tmp_path, tmpdir_):
    app = create_app(Settings(home=tmp_path / "home", environment="test", max_upload_bytes=4_000_000,
                              max_unpacked_bytes=3_000_000, max_package_files=40, max_compression_ratio=50))
    key = app.state.context.users.add("sam", "submitter")[1]
    with TestClient(app) as client:
        yield client, key


def post(client, key, body, **params):
    return client.post("/api/submissions", content=body, params=params,
                       headers={"content-type": "application/zip", "authorization": f"Bearer {key}"})


def assert_refused(client, r, status: int, code: str, tmpdir_: Path) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    assert leftovers(tmpdir_) == []
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["quads"] == 0
    return err


def test_the_sample_still_goes_in(client_key, tmpdir_):
    client, key = client_key
    assert post(client, key, zipped()).status_code == 201
    assert leftovers(tmpdir_) == []


def test_corrupt_member_is_a_422_naming_it_and_nothing_stays_behind(client_key, tmpdir_):
    client, key = client_key
    for dry_run in ("false", "true"):
        r = post(client, key, corrupt_member(zipped()), dry_run=dry_run)
        err = assert_refused(client, r, 422, "invalid_archive", tmpdir_)
        assert err["details"]["member"] == MEMBER and MEMBER in err["message"]


def test_truncated_zip_is_a_422(client_key, tmpdir_):
    client, key = client_key
    data = zipped()
    for cut in (len(data) // 2, len(data) - 10):
        r = post(client, key, data[:cut])
        err = assert_refused(client, r, 422, "invalid_archive", tmpdir_)
        assert "zip" in err["message"]


def test_zip_bomb_is_refused_by_its_declared_ratio_before_unpacking(client_key, tmpdir_, monkeypatch):
    client, key = client_key
    made = []
    real = reader.tempfile.mkdtemp
    monkeypatch.setattr(reader.tempfile, "mkdtemp", lambda **kw: made.append(kw) or real(**kw))
    bomb = zipped(extra={"guji-sample-2026-001/data/zeros.txt": b"\0" * 2_500_000})  # ~2.5 KB packed
    assert len(bomb) - len(zipped()) < 20_000  # the bomb adds a few KB to the sample's zip (its page images are most of it)
    r = post(client, key, bomb)
    err = assert_refused(client, r, 422, "archive_too_large", tmpdir_)
    assert err["details"]["member"] == "guji-sample-2026-001/data/zeros.txt" and "50" in err["message"]
    assert made == []  # refused from the zip's directory: nothing was unpacked


def test_declared_total_size_and_member_count_are_limited(client_key, tmpdir_):
    client, key = client_key
    big = zipped(extra={f"guji-sample-2026-001/data/r{i}.bin": os.urandom(800_000) for i in range(4)})
    err = assert_refused(client, post(client, key, big), 422, "archive_too_large", tmpdir_)
    assert err["details"]["limit"] == 3_000_000 and "3000000" in err["message"]
    many = zipped(extra={f"guji-sample-2026-001/data/x{i}.txt": b"x" for i in range(40)})
    err = assert_refused(client, post(client, key, many), 422, "archive_too_large", tmpdir_)
    assert err["details"]["limit"] == 40


def test_member_bigger_than_declared_stops_unpacking(client_key, tmpdir_):
    client, key = client_key
    name = "guji-sample-2026-001/data/zeros.txt"
    liar = lying_member(zipped(extra={name: os.urandom(600_000)}), name, declared=1000)
    err = assert_refused(client, post(client, key, liar), 422, "invalid_archive", tmpdir_)
    assert err["details"]["member"] == name


def test_stale_package_dirs_are_swept_at_startup(tmp_path, tmpdir_):
    stale, fresh = tmpdir_ / "guji-package-stale", tmpdir_ / "guji-package-fresh"
    (stale / "data").mkdir(parents=True)
    fresh.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    with TestClient(create_app(Settings(home=tmp_path / "home", environment="test"))) as client:
        assert client.get("/healthz").status_code == 200
    assert leftovers(tmpdir_) == ["guji-package-fresh"]


# -- the CLI: one clean line and exit 1, never a traceback ----------------------------------------

def guji(home, *args):
    env = {**os.environ, "GUJI_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_validate_and_ingest_refuse_broken_zips_cleanly(tmp_path):
    truncated, corrupt = tmp_path / "truncated.zip", tmp_path / "corrupt.zip"
    data = zipped()
    truncated.write_bytes(data[: len(data) // 2])
    corrupt.write_bytes(corrupt_member(data))
    r = guji(tmp_path / "home", "validate", str(truncated))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "truncated" in r.stderr
    r = guji(tmp_path / "home", "validate", "--json", str(corrupt))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "invalid_archive" and err["details"]["member"] == MEMBER
    r = guji(tmp_path / "home", "ingest", str(corrupt))
    assert r.returncode == 1 and "Traceback" not in r.stderr and MEMBER in r.stderr
