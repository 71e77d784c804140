"""Tests for mtlab.data.download against a local HTTP server on 127.0.0.1 that can inject faults.

The server serves the course's SST, STS and CFIMDB files from the shared data folder (tests
that need them skip without it) and small stand-ins for the Quora files, which are checked
with a manifest made from their own bytes: the shared Quora files are another split than the
course's. Nothing here talks to any host other than 127.0.0.1: every download gets a local
--base-url, or COURSE_URL pointed at the local server.
"""

import hashlib
import json
import re
import shutil
import socket
import subprocess
import time

import pytest

from mtlab.__main__ import main as cli_main
from mtlab.data import download, manifest
from mtlab.data.download import (
    COURSE_URL,
    ENV_VAR,
    ArgumentError,
    ChecksumError,
    DownloadError,
    download_course_data,
    resolve_base_url,
)
from mtlab.data.manifest import FILES, MANIFEST, load_manifest
from tests.conftest import REAL_DATA as REAL
from tests.conftest import TASK_FILES
from tests.download_fixtures import QUORA, blob_id, fault_server, quora_bytes, write_manifest

COURSE_COPIES = [name for name in FILES if name not in QUORA]  # byte-identical in REAL
HAVE_REAL = all((REAL / name).is_file() for name in COURSE_COPIES)
needs_real = pytest.mark.skipif(not HAVE_REAL, reason=f"course data not found in {REAL}")

SMALL = ["sts-dev.csv", "ids-sst-dev.csv", "ids-cfimdb-dev.csv"]  # the three smallest files
STS_DEV_BLOB = MANIFEST["sts-dev.csv"][0]


@pytest.fixture(autouse=True)
def no_default_address(monkeypatch):
    """A test that forgot its local address fails on 127.0.0.1 instead of reaching GitHub."""
    monkeypatch.setattr(download, "COURSE_URL", "http://127.0.0.1:9/the-default-was-used/")


@pytest.fixture
def no_proxy(monkeypatch):
    """No proxy and no $MTLAB_DATA_URL from the environment running the tests."""
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def server(no_proxy):
    """A fault-injecting server on 127.0.0.1 (port chosen by the OS) with every course file."""
    if not HAVE_REAL:
        pytest.skip(f"course data not found in {REAL}")
    files = {name: (REAL / name).read_bytes() for name in COURSE_COPIES}
    with fault_server(files | {name: quora_bytes(name) for name in QUORA}) as httpd:
        yield httpd


@pytest.fixture
def quora_manifest(server, tmp_path):
    """A --manifest for the server's Quora stand-ins, with their sizes."""
    return write_manifest(tmp_path / "quora.json", {name: server.files[name] for name in QUORA})


def blob(path) -> str:
    return blob_id(path.read_bytes())


# --- the manifest and the address ---------------------------------------------------------


@needs_real
def test_manifest_covers_every_course_file_and_matches_the_shared_copies():
    course = {f"{s}-{split}.csv" for s in ("ids-sst", "quora", "sts", "ids-cfimdb")
              for split in ("train", "dev", "test-student")}  # fmt: skip
    assert set(FILES) == set(MANIFEST) == course
    assert {name for splits in TASK_FILES.values() for name in splits.values()} <= course
    for name in COURSE_COPIES:  # byte-identical to the course's: same id, same size
        assert blob(REAL / name) == MANIFEST[name][0], name
        assert (REAL / name).stat().st_size == MANIFEST[name][1], name
    assert {name: MANIFEST[name][1] for name in QUORA} == {
        "quora-train.csv": None, "quora-dev.csv": 3_205_321, "quora-test-student.csv": None,
    }  # fmt: skip
    assert all(re.fullmatch("[0-9a-f]{40}", blob_id_) for blob_id_, _ in MANIFEST.values())


def test_blob_ids_are_what_git_hash_object_prints(tmp_path):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git not installed")
    path = tmp_path / "f.csv"
    path.write_bytes(b"\tid\tsentence\n0\ta\tok\n" * 50)
    printed = subprocess.run([git, "hash-object", str(path)], capture_output=True, text=True)
    assert printed.stdout.strip() == manifest.file_digest(path, "git_blob") == blob(path)


def test_without_an_address_the_course_repository_is_used(monkeypatch):
    monkeypatch.setattr(download, "COURSE_URL", COURSE_URL)  # the real one: no download here
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert COURSE_URL == (
        "https://raw.githubusercontent.com/gpoesia/minbert-default-final-project/main/data/"
    )
    assert resolve_base_url(None) == resolve_base_url("") == COURSE_URL
    monkeypatch.setenv(ENV_VAR, "  ")  # blank counts as unset
    assert resolve_base_url() == COURSE_URL
    monkeypatch.setenv(ENV_VAR, "http://mirror.example/data")
    assert resolve_base_url() == "http://mirror.example/data/"
    assert resolve_base_url("https://other.example/d/") == "https://other.example/d/"


def test_the_built_in_manifest_is_used_without_a_manifest_file():
    expected = load_manifest()
    assert expected["sts-dev.csv"] == ("git_blob", STS_DEV_BLOB, 132_265)
    assert expected["quora-train.csv"].cap == manifest.UNKNOWN_SIZE_CAP == 64 << 20
    assert expected["quora-dev.csv"].cap == 3_205_321


# --- downloads that work ------------------------------------------------------------------


def test_every_course_file_with_the_built_in_ids_and_a_manifest_for_quora(
    server, quora_manifest, tmp_path, capsys
):
    dest = tmp_path / "data"
    argv = ["download", "--dest", str(dest), "--base-url", server.url, "--quiet"]
    assert cli_main([*argv, "--manifest", str(quora_manifest)]) == 0

    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)  # no .part left
    for name in FILES:
        assert (dest / name).read_bytes() == server.files[name], name
    assert sorted(name for name, _ in server.requests) == sorted(FILES)
    assert f"{len(FILES)} file(s) in {dest}, every checksum verified." in capsys.readouterr().out


def test_without_a_manifest_the_stand_in_quora_files_are_refused(server, tmp_path):
    with pytest.raises(ChecksumError, match="git blob id expected a3b5546f"):
        download_course_data(tmp_path, server.url, files=["quora-train.csv"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_full_download_verified(server, tmp_path, capsys):
    paths = download_course_data(tmp_path / "data", server.url, files=SMALL)

    assert paths == [tmp_path / "data" / name for name in SMALL]
    for path in paths:
        assert path.read_bytes() == (REAL / path.name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(SMALL)  # no .part
    assert server.requests == [(name, None) for name in SMALL]
    assert "sts-dev.csv" in capsys.readouterr().err  # the progress bar names the file


def test_base_url_without_trailing_slash_and_from_the_environment(server, tmp_path, monkeypatch):
    download_course_data(tmp_path, server.url.rstrip("/"), files=["sts-dev.csv"], progress=False)
    monkeypatch.setenv(ENV_VAR, server.url)
    download_course_data(tmp_path / "b", None, files=["sts-dev.csv"], progress=False)
    assert blob(tmp_path / "b" / "sts-dev.csv") == STS_DEV_BLOB
    assert [name for name, _ in server.requests] == ["sts-dev.csv", "sts-dev.csv"]


def test_no_address_means_the_course_address(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "COURSE_URL", server.url)  # the local server stands in
    download_course_data(tmp_path, files=["sts-dev.csv"], progress=False)
    assert server.requests == [("sts-dev.csv", None)]
    assert blob(tmp_path / "sts-dev.csv") == STS_DEV_BLOB


def test_files_already_present_are_skipped(server, tmp_path, capsys):
    shutil.copy(REAL / "sts-dev.csv", tmp_path / "sts-dev.csv")
    paths = download_course_data(tmp_path, server.url, files=["sts-dev.csv", "ids-sst-dev.csv"])
    assert server.requests == [("ids-sst-dev.csv", None)]
    assert "sts-dev.csv: already present, checksum ok" in capsys.readouterr().err

    download_course_data(tmp_path, server.url, files=["sts-dev.csv", "ids-sst-dev.csv"])
    assert len(server.requests) == 1  # nothing fetched the second time
    assert [blob(p) for p in paths] == [MANIFEST[p.name][0] for p in paths]


def test_a_present_file_with_the_wrong_content_is_replaced(server, tmp_path):
    (tmp_path / "sts-dev.csv").write_text("an old or edited copy\n")
    download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert blob(tmp_path / "sts-dev.csv") == STS_DEV_BLOB


def test_a_complete_part_file_is_finished_without_the_network(server, tmp_path):
    shutil.copy(REAL / "sts-dev.csv", tmp_path / "sts-dev.csv.part")
    download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert server.requests == []
    assert blob(tmp_path / "sts-dev.csv") == STS_DEV_BLOB
    assert not (tmp_path / "sts-dev.csv.part").exists()


def test_parts_of_files_of_unknown_size_are_finished_or_resumed(server, tmp_path):
    bodies = {name: server.files[name] for name in QUORA[:2]}
    manifest = write_manifest(tmp_path / "m.json", bodies, sizes=False)
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "quora-train.csv.part").write_bytes(bodies["quora-train.csv"])  # complete
    (dest / "quora-dev.csv.part").write_bytes(bodies["quora-dev.csv"][:5000])  # a fifth or so
    download_course_data(dest, server.url, files=QUORA[:2], manifest=manifest, progress=False)
    assert server.requests == [("quora-dev.csv", "bytes=5000-")]
    assert sorted(p.name for p in dest.iterdir()) == sorted(QUORA[:2])
    assert all((dest / name).read_bytes() == body for name, body in bodies.items())


def test_a_manifest_may_give_sha256_instead(server, tmp_path):
    name, body = "sts-dev.csv", server.files["sts-dev.csv"]
    digest = hashlib.sha256(body).hexdigest()
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({name: {"sha256": digest.upper()}}))
    download_course_data(tmp_path / "a", server.url, files=[name], manifest=manifest)
    assert (tmp_path / "a" / name).read_bytes() == body

    server.faults[name] = "corrupt"
    with pytest.raises(ChecksumError, match=f"sha256 expected {digest}, got [0-9a-f]{{64}} "):
        download_course_data(tmp_path / "b", server.url, files=[name], manifest=manifest)


# --- faults -------------------------------------------------------------------------------


def test_wrong_content_is_refused_with_both_ids_and_leaves_no_file(server, tmp_path):
    name = "sts-dev.csv"
    server.faults[name] = "corrupt"
    body = server.files[name]
    corrupt = body[:100] + bytes([body[100] ^ 1]) + body[101:]
    with pytest.raises(ChecksumError) as error:
        download_course_data(tmp_path, server.url, files=[name], progress=False)
    message = str(error.value)
    assert message.startswith(f"{name} downloaded from {server.url}{name}")
    assert f"git blob id expected {STS_DEV_BLOB}, got {blob_id(corrupt)} (132,265 bytes)" in message
    assert "deleted" in message and "--manifest" in message
    assert list(tmp_path.iterdir()) == []  # neither the final file nor the .part

    server.faults.clear()  # a retry starts clean and succeeds
    download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert server.requests[-1] == (name, None)
    assert blob(tmp_path / name) == STS_DEV_BLOB


def test_dropped_connection_keeps_the_part_and_the_next_run_resumes(server, tmp_path):
    name, size = "ids-sst-dev.csv", MANIFEST["ids-sst-dev.csv"][1]
    server.faults[name] = "drop"
    with pytest.raises(DownloadError) as error:
        download_course_data(tmp_path, server.url, files=["sts-dev.csv", name], progress=False)
    half = size // 2
    message = str(error.value)
    assert message.startswith(
        f"{server.url}{name}: download interrupted after {half:,} of {size:,}"
    )
    assert "run the same command again to resume" in message
    assert (tmp_path / f"{name}.part").stat().st_size == half
    assert not (tmp_path / name).exists()
    assert blob(tmp_path / "sts-dev.csv") == STS_DEV_BLOB  # finished before: kept

    paths = download_course_data(tmp_path, server.url, files=["sts-dev.csv", name], progress=False)

    assert server.requests[-1] == (name, f"bytes={half}-")
    assert [blob(p) for p in paths] == [STS_DEV_BLOB, MANIFEST[name][0]]  # the resumed one too
    assert not (tmp_path / f"{name}.part").exists()


def test_connection_reset_mid_file_says_how_much_arrived_and_the_next_run_resumes(server, tmp_path):
    name, size = "ids-cfimdb-dev.csv", MANIFEST["ids-cfimdb-dev.csv"][1]
    server.faults[name] = "reset"
    with pytest.raises(DownloadError) as error:
        download_course_data(tmp_path, server.url, files=[name], progress=False)
    message = str(error.value)
    arrived = int(re.search(r"interrupted after ([\d,]+) of ", message).group(1).replace(",", ""))
    assert message.startswith(
        f"{server.url}{name}: download interrupted after {arrived:,} of {size:,}"
    )
    assert "connection reset by the server" in message or "closed early" in message
    assert f"run the same command again to resume from byte {arrived:,}" in message
    assert (tmp_path / f"{name}.part").stat().st_size == arrived < size

    download_course_data(tmp_path, server.url, files=[name], progress=False)

    expected_range = f"bytes={arrived}-" if arrived else None
    assert server.requests[-1] == (name, expected_range)
    assert blob(tmp_path / name) == MANIFEST[name][0]


def test_server_that_ignores_range_starts_over(server, tmp_path, capsys):
    name = "sts-dev.csv"
    (tmp_path / f"{name}.part").write_bytes(b"garbage that must not end up in the file" * 50)
    server.faults[name] = "ignore-range"
    download_course_data(tmp_path, server.url, files=[name])
    assert server.requests == [(name, "bytes=2000-")]  # asked to resume, got a 200
    assert blob(tmp_path / name) == STS_DEV_BLOB
    assert f"{name}.part: the server cannot resume; starting over" in capsys.readouterr().err


def test_part_that_does_not_fit_the_servers_file_starts_over(server, tmp_path):
    name = "sts-dev.csv"
    (tmp_path / f"{name}.part").write_bytes(b"x" * (MANIFEST[name][1] + 10))  # too long
    download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert server.requests == [(name, None)]
    assert blob(tmp_path / name) == STS_DEV_BLOB


def test_range_not_satisfiable_starts_over(server, tmp_path, monkeypatch):
    name, size = "sts-dev.csv", MANIFEST["sts-dev.csv"][1]
    monkeypatch.setitem(MANIFEST, name, (STS_DEV_BLOB, size + 100))  # as if it expected more
    (tmp_path / f"{name}.part").write_bytes(b"x" * (size + 50))  # past the server's end
    download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert server.requests == [(name, f"bytes={size + 50}-"), (name, None)]  # 416, then 200
    assert blob(tmp_path / name) == STS_DEV_BLOB


def test_404_is_a_clear_error(server, tmp_path):
    server.faults["sts-dev.csv"] = "404"
    with pytest.raises(DownloadError, match=r"^http://127\.0\.0\.1:\d+/sts-dev\.csv: HTTP 404"):
        download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_stalled_server_times_out(server, tmp_path):
    server.faults["sts-dev.csv"] = "stall"
    with pytest.raises(DownloadError) as error:
        download_course_data(
            tmp_path, server.url, files=["sts-dev.csv"], progress=False, timeout=0.3
        )
    assert "download interrupted after 1,000 of 132,265 bytes (timed out" in str(error.value)
    assert (tmp_path / "sts-dev.csv.part").stat().st_size == 1000


def test_endless_body_is_stopped_at_the_files_size_and_the_part_deleted(server, tmp_path):
    name = "sts-dev.csv"
    server.faults[name] = "endless"
    (tmp_path / f"{name}.part").write_bytes(b"stale")  # resumed at byte 5, then endless
    with pytest.raises(DownloadError) as error:
        download_course_data(tmp_path, server.url, files=[name], progress=False)
    message = str(error.value)
    arrived = int(
        re.search(r"sent more: ([\d,]+) bytes arrived", message).group(1).replace(",", "")
    )
    assert message.startswith(f"{server.url}{name}: the server sent more: ")
    assert "over the cap of 132,265 bytes (the file's size in the manifest)" in message
    assert 132_265 < arrived <= 132_265 + download.CHUNK
    assert list(tmp_path.iterdir()) == []  # the .part is gone


def test_endless_body_of_a_file_of_unknown_size_is_stopped_at_the_cap(
    server, tmp_path, monkeypatch
):
    monkeypatch.setattr(manifest, "UNKNOWN_SIZE_CAP", 200_000)
    server.faults["quora-train.csv"] = "endless"
    with pytest.raises(
        DownloadError, match=r"over the cap of 200,000 bytes \(the manifest gives no size\)"
    ):
        download_course_data(tmp_path, server.url, files=["quora-train.csv"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_body_announced_larger_than_the_file_is_refused_before_reading(server, tmp_path):
    name = "sts-dev.csv"
    server.faults[name] = "oversize"
    with pytest.raises(DownloadError) as error:
        download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert str(error.value).startswith(
        f"{server.url}{name}: the server announced 133,265 bytes, over the cap of 132,265 bytes"
    )
    assert list(tmp_path.iterdir()) == []


def test_trickling_body_is_stopped_by_the_deadline_and_the_next_run_resumes(server, tmp_path):
    name = "sts-dev.csv"
    server.faults[name] = "trickle"  # 2,500 bytes/s: 53 s for the file
    started = time.monotonic()
    with pytest.raises(DownloadError) as error:
        download_course_data(tmp_path, server.url, files=[name], progress=False, deadline=0.5)
    assert time.monotonic() - started < 5
    message = str(error.value)
    assert message.startswith(f"{server.url}{name}: download interrupted after ")
    assert "of 132,265 bytes (past the 0.5 s deadline). The partial file" in message
    kept = (tmp_path / f"{name}.part").stat().st_size
    assert 0 < kept < 132_265

    server.faults.clear()
    download_course_data(tmp_path, server.url, files=[name], progress=False, deadline=0.5)
    assert server.requests[-1] == (name, f"bytes={kept}-")
    assert blob(tmp_path / name) == STS_DEV_BLOB


def test_nothing_listening_is_a_clear_error(tmp_path, no_proxy):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(DownloadError, match=rf"^{url}sts-dev\.csv: could not connect \("):
        download_course_data(tmp_path, url, files=["sts-dev.csv"], progress=False, timeout=2)


# --- arguments, refused before any network work -------------------------------------------

LOCAL = "http://127.0.0.1:9/"  # never reached: each of these fails before connecting


@pytest.mark.parametrize(
    "url",
    ["ftp://host/data/", "example.org/data/", "http:///data/", "https://host/data/?v=1",
     "http://host:port/data/", "http://[::1/data/", "file:///tmp/data/"],
)  # fmt: skip
def test_a_malformed_address_is_named(url, tmp_path, monkeypatch):
    dest = tmp_path / "d"
    with pytest.raises(ArgumentError) as error:
        download_course_data(dest, url, progress=False)
    assert str(error.value).startswith(f"malformed download address {url!r} (from --base-url)")
    monkeypatch.setenv(ENV_VAR, url)
    with pytest.raises(ArgumentError, match=rf"\(from \${ENV_VAR}\): expected the http://"):
        download_course_data(dest, None, progress=False)
    assert not dest.exists()


def test_a_dest_that_is_a_file_is_named(tmp_path):
    dest = tmp_path / "data"
    dest.write_text("not a folder")
    with pytest.raises(ArgumentError, match=f"^--dest {re.escape(str(dest))} is a file, not a"):
        download_course_data(dest, LOCAL, progress=False)
    with pytest.raises(ArgumentError, match="cannot create it"):
        download_course_data(dest / "sub", LOCAL, progress=False)
    assert dest.read_text() == "not a folder"


GIT = {"git_blob": "a" * 40}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{oops", r"not valid JSON \(Expecting property name"),
        ([], r'expected \{"file name": \{"git_blob" \(or "sha256"\).*, got \[\]'),
        ({}, r"expected .*, got \{\}"),
        ({"sst.csv": GIT}, r"'sst.csv' is not a course file; valid names: ids-sst-"),
        ({"sts-dev.csv": "abc"}, r"'sts-dev.csv': expected \{.*, got \"abc\""),
        ({"sts-dev.csv": {"size": 3}}, r"'sts-dev.csv': expected .*, got keys \['size'\]"),
        ({"sts-dev.csv": {**GIT, "md5": "x"}}, r"got keys \['git_blob', 'md5'\]"),
        ({"sts-dev.csv": {**GIT, "sha256": "b" * 64}}, r"got keys \['git_blob', 'sha256'\]"),
        ({"sts-dev.csv": {"git_blob": "abc"}}, r"'git_blob' expected 40 hex digits, got \"abc\""),
        ({"sts-dev.csv": {"sha256": "g" * 64}}, r"'sha256' expected 64 hex digits, got \"ggg"),
        ({"sts-dev.csv": {**GIT, "size": -1}}, r"'size' expected bytes \(0 or more\), got -1"),
        ({"sts-dev.csv": {**GIT, "size": True}}, r"'size' expected bytes .*, got true"),
        ({"sts-dev.csv": {**GIT, "size": "9"}}, r"'size' expected bytes .*, got \"9\""),
    ],
)  # fmt: skip
def test_a_bad_manifest_says_which_file_and_key(content, complaint, tmp_path):
    manifest = tmp_path / "mirror.json"
    manifest.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ArgumentError) as error:
        download_course_data(tmp_path / "d", LOCAL, manifest=manifest, progress=False)
    message = str(error.value)
    assert message.startswith(f"manifest {manifest}: ")
    assert re.search(complaint, message), message
    assert "\n" not in message
    assert not (tmp_path / "d").exists()


def test_a_missing_manifest_is_named(tmp_path):
    with pytest.raises(ArgumentError, match=r"^manifest .*nope\.json does not exist$"):
        download_course_data(tmp_path, LOCAL, manifest=tmp_path / "nope.json")


def test_unknown_file_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown course file\(s\) \['sst.csv'\]; valid names: "):
        download_course_data(tmp_path, LOCAL, files=["sst.csv"])


@pytest.mark.parametrize(("limit", "seconds"), [("timeout", 0), ("deadline", -1.5)])
def test_limits_must_be_positive(limit, seconds, tmp_path):
    message = f"^the {limit} must be more than 0 seconds, got {seconds:g}$"
    with pytest.raises(ArgumentError, match=message):
        download_course_data(tmp_path / "d", LOCAL, progress=False, **{limit: seconds})
    assert not (tmp_path / "d").exists()


# --- the command line ---------------------------------------------------------------------


def test_cli_download_dispatches_and_reports(server, tmp_path, capsys):
    dest = tmp_path / "d"
    argv = ["download", "--dest", str(dest), "--base-url", server.url, "--quiet", "--files"]
    assert cli_main([*argv, "sts-dev.csv"]) == 0
    out = capsys.readouterr().out
    assert f"1 file(s) in {dest}, every checksum verified." in out
    assert f"export MTLAB_DATA_DIR={dest}" in out
    assert blob(dest / "sts-dev.csv") == STS_DEV_BLOB


def test_cli_reads_the_environment_and_defaults_to_the_project_data_folder(
    server, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("mtlab.data.download.PROJECT_DATA_DIR", tmp_path / "project-data")
    monkeypatch.setenv(ENV_VAR, server.url)
    assert download.main(["--files", "sts-dev.csv", "--quiet"]) == 0
    assert (tmp_path / "project-data" / "sts-dev.csv").is_file()
    assert "export MTLAB_DATA_DIR" not in capsys.readouterr().out


def test_cli_without_an_address_downloads_from_the_course_address(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "COURSE_URL", server.url)  # the local server stands in
    assert cli_main(["download", "--dest", str(tmp_path), "--quiet", "--files", "sts-dev.csv"]) == 0
    assert server.requests == [("sts-dev.csv", None)]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--base-url", "ftp://host/data/"], "malformed download address 'ftp://host/data/'"),
        (["--dest", "{file}"], "--dest {file} is a file, not a folder"),
        (["--manifest", "{file}"], "manifest {file}: not valid JSON"),
        (["--deadline", "0"], "the deadline must be more than 0 seconds, got 0"),
    ],
)
def test_cli_bad_arguments_are_one_line_and_exit_2(args, complaint, tmp_path, capsys, no_proxy):
    file = tmp_path / "a-file"
    file.write_text("not a folder, not JSON")
    args = [arg.format(file=file) for arg in args]
    argv = ["download", "--dest", str(tmp_path / "d"), "--base-url", LOCAL, *args]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m mtlab download: error: {complaint.format(file=file)}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_cli_failure_exits_1_with_the_error(server, tmp_path, capsys):
    server.faults["sts-dev.csv"] = "404"
    argv = ["download", "--dest", str(tmp_path), "--base-url", server.url, "--files", "sts-dev.csv"]
    assert cli_main(argv) == 1
    assert "download failed: http://127.0.0.1:" in capsys.readouterr().err


class _Stop(Exception):
    pass


def test_cli_without_download_still_parses_run_options(monkeypatch):
    seen = []

    def fake_run_lab(config):
        seen.append(config)
        raise _Stop

    monkeypatch.setattr("mtlab.__main__.run_lab", fake_run_lab)
    with pytest.raises(_Stop):
        cli_main(["--train-limit", "7", "--output-dir", "runs/x"])
    assert seen[0].train_limit == 7 and seen[0].output_dir == "runs/x"
