"""Tests for mtlab.download against a local HTTP server on 127.0.0.1 that can inject faults.

The server serves the real course files from the shared data folder (skipped without it).
Nothing here talks to any host other than 127.0.0.1.
"""

import hashlib
import re
import shutil
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mtlab.__main__ import main as cli_main
from mtlab.download import (
    ENV_VAR,
    FILES,
    SHA256,
    SIZES,
    ChecksumError,
    DownloadError,
    download_course_data,
    resolve_base_url,
)
from tests.conftest import REAL_DATA as REAL
from tests.conftest import TASK_FILES

pytestmark = pytest.mark.skipif(
    not all((REAL / name).is_file() for name in FILES), reason=f"course data not found in {REAL}"
)

SMALL = ["sts-dev.csv", "ids-sst-dev.csv", "ids-cfimdb-dev.csv"]  # the three smallest files


class FaultyHandler(BaseHTTPRequestHandler):
    """Serves REAL with Range support; server.faults[name] injects one kind of failure.

    Faults: "404"; "corrupt" (same size, one byte changed); "drop" (send half the body,
    then close, for the first server.drops requests); "ignore-range" (always 200);
    "reset" (send half the body, then reset the connection, once); "stall" (send a little,
    then wait until server.release is set).
    """

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        name = self.path.lstrip("/")
        server.requests.append((name, self.headers.get("Range")))
        fault = server.faults.get(name)
        path = REAL / name
        if fault == "404" or name not in FILES or not path.is_file():
            self.send_error(404, "Not Found")
            return
        body = path.read_bytes()
        if fault == "corrupt":
            body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
        start = 0
        wanted = self.headers.get("Range")
        if wanted and fault != "ignore-range":
            start = int(re.fullmatch(r"bytes=(\d+)-", wanted).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        rest = body[start:]
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        if fault == "drop" and server.drops > 0:
            server.drops -= 1
            self.wfile.write(rest[: len(rest) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "reset":  # half the body, then a TCP reset instead of a clean close
            self.wfile.write(rest[: len(rest) // 2])
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            server.faults.pop(name)
            return
        if fault == "stall":
            self.wfile.write(rest[:1000])
            self.wfile.flush()
            server.release.wait(10)
            return
        self.wfile.write(rest)


@pytest.fixture
def server(monkeypatch):
    """A fault-injecting server on 127.0.0.1, port chosen by the OS; no proxy is ever used."""
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.delenv(ENV_VAR, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    httpd.requests, httpd.faults, httpd.drops = [], {}, 1
    httpd.release = threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the manifest -------------------------------------------------------------------------


def test_manifest_covers_every_course_file_and_matches_the_shared_copies():
    names = {name for splits in TASK_FILES.values() for name in splits.values()}
    assert set(FILES) == set(SHA256) == set(SIZES) == names
    for name in FILES:
        assert sha256(REAL / name) == SHA256[name], name
        assert (REAL / name).stat().st_size == SIZES[name], name


# --- downloads that work ------------------------------------------------------------------


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
    assert sha256(tmp_path / "b" / "sts-dev.csv") == SHA256["sts-dev.csv"]
    assert [name for name, _ in server.requests] == ["sts-dev.csv", "sts-dev.csv"]


def test_files_already_present_are_skipped(server, tmp_path, capsys):
    shutil.copy(REAL / "sts-dev.csv", tmp_path / "sts-dev.csv")
    paths = download_course_data(tmp_path, server.url, files=["sts-dev.csv", "ids-sst-dev.csv"])
    assert server.requests == [("ids-sst-dev.csv", None)]
    assert "sts-dev.csv: already present, checksum ok" in capsys.readouterr().err

    download_course_data(tmp_path, server.url, files=["sts-dev.csv", "ids-sst-dev.csv"])
    assert len(server.requests) == 1  # nothing fetched the second time
    assert [sha256(p) for p in paths] == [SHA256[p.name] for p in paths]


def test_a_present_file_with_the_wrong_content_is_replaced(server, tmp_path):
    (tmp_path / "sts-dev.csv").write_text("an old or edited copy\n")
    download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert sha256(tmp_path / "sts-dev.csv") == SHA256["sts-dev.csv"]


def test_a_complete_part_file_is_finished_without_the_network(server, tmp_path):
    shutil.copy(REAL / "sts-dev.csv", tmp_path / "sts-dev.csv.part")
    download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert server.requests == []
    assert sha256(tmp_path / "sts-dev.csv") == SHA256["sts-dev.csv"]
    assert not (tmp_path / "sts-dev.csv.part").exists()


# --- faults -------------------------------------------------------------------------------


def test_wrong_content_is_a_checksum_error_and_leaves_no_file(server, tmp_path):
    server.faults["sts-dev.csv"] = "corrupt"
    with pytest.raises(ChecksumError) as error:
        download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    message = str(error.value)
    assert message.startswith(f"sts-dev.csv downloaded from {server.url}sts-dev.csv")
    assert f"expected {SHA256['sts-dev.csv']}, got " in message
    got = re.search(r"got ([0-9a-f]{64})", message).group(1)
    assert got != SHA256["sts-dev.csv"]
    assert "deleted" in message
    assert list(tmp_path.iterdir()) == []  # neither the final file nor the .part

    server.faults.clear()  # a retry starts clean and succeeds
    download_course_data(tmp_path, server.url, files=["sts-dev.csv"], progress=False)
    assert server.requests[-1] == ("sts-dev.csv", None)
    assert sha256(tmp_path / "sts-dev.csv") == SHA256["sts-dev.csv"]


def test_dropped_connection_keeps_the_part_and_the_next_run_resumes(server, tmp_path):
    name, size = "ids-sst-dev.csv", SIZES["ids-sst-dev.csv"]
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
    assert sha256(tmp_path / "sts-dev.csv") == SHA256["sts-dev.csv"]  # finished before: kept

    paths = download_course_data(tmp_path, server.url, files=["sts-dev.csv", name], progress=False)

    assert server.requests[-1] == (name, f"bytes={half}-")
    assert [sha256(p) for p in paths] == [SHA256["sts-dev.csv"], SHA256[name]]
    assert not (tmp_path / f"{name}.part").exists()


def test_connection_reset_mid_file_says_how_much_arrived_and_the_next_run_resumes(server, tmp_path):
    name, size = "ids-cfimdb-dev.csv", SIZES["ids-cfimdb-dev.csv"]
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
    assert sha256(tmp_path / name) == SHA256[name]


def test_server_that_ignores_range_starts_over(server, tmp_path, capsys):
    name = "sts-dev.csv"
    (tmp_path / f"{name}.part").write_bytes(b"garbage that must not end up in the file" * 50)
    server.faults[name] = "ignore-range"
    download_course_data(tmp_path, server.url, files=[name])
    assert server.requests == [(name, "bytes=2000-")]  # asked to resume, got a 200
    assert sha256(tmp_path / name) == SHA256[name]
    assert f"{name}.part: the server cannot resume; starting over" in capsys.readouterr().err


def test_part_that_does_not_fit_the_servers_file_starts_over(server, tmp_path):
    name = "sts-dev.csv"
    (tmp_path / f"{name}.part").write_bytes(b"x" * (SIZES[name] + 10))  # longer than the file
    download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert server.requests == [(name, None)]
    assert sha256(tmp_path / name) == SHA256[name]


def test_range_not_satisfiable_starts_over(server, tmp_path, monkeypatch):
    name = "sts-dev.csv"
    monkeypatch.setitem(SIZES, name, SIZES[name] + 100)  # as if our manifest expected more
    (tmp_path / f"{name}.part").write_bytes(b"x" * (SIZES[name] - 50))  # past the server's end
    download_course_data(tmp_path, server.url, files=[name], progress=False)
    assert server.requests == [(name, f"bytes={SIZES[name] - 50}-"), (name, None)]  # 416, 200
    assert sha256(tmp_path / name) == SHA256[name]


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


def test_nothing_listening_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(DownloadError, match=rf"^{url}sts-dev\.csv: could not connect \("):
        download_course_data(tmp_path, url, files=["sts-dev.csv"], progress=False, timeout=2)


# --- arguments ----------------------------------------------------------------------------


def test_no_address_explains_both_ways_to_give_one(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(
        DownloadError, match=f"--base-url URL, or set the environment variable {ENV_VAR}"
    ):
        resolve_base_url(None)
    with pytest.raises(DownloadError, match="no default host"):
        download_course_data(tmp_path, None, progress=False)


def test_unknown_file_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown course file\(s\) \['sst.csv'\]; valid names: "):
        download_course_data(tmp_path, "http://127.0.0.1:9/", files=["sst.csv"])


# --- the command line ---------------------------------------------------------------------


def test_cli_download_dispatches_and_reports(server, tmp_path, capsys):
    dest = tmp_path / "d"
    argv = ["download", "--dest", str(dest), "--base-url", server.url, "--quiet", "--files"]
    assert cli_main([*argv, "sts-dev.csv"]) == 0
    out = capsys.readouterr().out
    assert f"1 file(s) in {dest}, every sha256 checksum verified." in out
    assert f"export MTLAB_DATA_DIR={dest}" in out
    assert sha256(dest / "sts-dev.csv") == SHA256["sts-dev.csv"]


def test_cli_reads_the_environment_and_defaults_to_the_project_data_folder(
    server, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("mtlab.download.PROJECT_DATA_DIR", tmp_path / "project-data")
    monkeypatch.setenv(ENV_VAR, server.url)
    from mtlab import download

    assert download.main(["--files", "sts-dev.csv", "--quiet"]) == 0
    assert (tmp_path / "project-data" / "sts-dev.csv").is_file()
    assert "export MTLAB_DATA_DIR" not in capsys.readouterr().out


def test_cli_without_an_address_exits_with_both_options_named(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["download", "--dest", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--base-url URL" in err and ENV_VAR in err
    assert list(tmp_path.iterdir()) == []


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
