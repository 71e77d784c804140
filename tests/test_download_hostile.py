"""`python -m mtlab download` against a hostile disk and hostile servers, all on 127.0.0.1.

A hostile disk: a link, hard link, folder or named pipe where a file or its .part goes,
planted before the download or while it runs; no file outside --dest may change. Hostile
servers: silent, headers one byte at a time, a stalled body, redirects to other schemes;
--deadline bounds the whole file. The files are small stand-ins checked with a manifest of
their own bytes, so nothing here needs the course data.
"""

import os
import re
import time

import pytest

from mtlab.__main__ import main as cli_main
from mtlab.data import download
from mtlab.data.deadline import Watchdog
from mtlab.data.download import ENV_VAR, ArgumentError, DownloadError, download_course_data
from tests.download_fixtures import fault_server, silent_server, write_manifest

NAME = "sts-dev.csv"
BODY = b"id\tsentence1\tsentence2\tsimilarity\n" + b"".join(
    b"%d\tA man plays a guitar %d.\tA man is playing music.\t4.0\n" % (i, i) for i in range(120)
)
PRECIOUS = b"a file of the user's, outside --dest\n"
LOCAL = "http://127.0.0.1:9/"  # never reached: these fail before connecting


@pytest.fixture(autouse=True)
def local_only(monkeypatch):
    """No proxy, no $MTLAB_DATA_URL, and a default address on 127.0.0.1."""
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(download, "COURSE_URL", "http://127.0.0.1:9/the-default-was-used/")


@pytest.fixture
def server():
    with fault_server({NAME: BODY, f"elsewhere/{NAME}": BODY}) as httpd:
        yield httpd


@pytest.fixture
def mirror(tmp_path):
    return write_manifest(tmp_path / "mirror.json", {NAME: BODY})


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "precious.txt"
    path.write_bytes(PRECIOUS)
    return path


@pytest.fixture
def dest(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def fetch(dest, url, manifest, **limits):
    return download_course_data(
        dest, url, files=[NAME], manifest=manifest, progress=False, **limits
    )


# --- what stands at a name the download writes ----------------------------------------------


def symlink_to_victim(path, victim):
    path.symlink_to(victim)


def dangling_symlink(path, victim):
    path.symlink_to(victim.with_name("created-through-the-link"))


def hard_link_to_victim(path, victim):
    os.link(victim, path)


def folder(path, victim):
    path.mkdir()
    (path / "inside").write_bytes(PRECIOUS)


def fifo(path, victim):
    os.mkfifo(path)


PLANTED = [
    (".part", symlink_to_victim, "is a symbolic link (to {victim})"),
    (".part", dangling_symlink, "is a symbolic link (to {dangling})"),
    (".part", hard_link_to_victim, "has 2 hard links: writing to it would change"),
    (".part", folder, "is a folder, not a plain file"),
    (".part", fifo, "is a named pipe (FIFO), not a plain file"),
    ("", symlink_to_victim, "is a symbolic link (to {victim})"),
    ("", dangling_symlink, "is a symbolic link (to {dangling})"),
    ("", folder, "is a folder, not a plain file"),
    ("", fifo, "is a named pipe (FIFO), not a plain file"),
]


@pytest.mark.parametrize(("suffix", "plant", "complaint"), PLANTED)
def test_a_link_folder_or_pipe_at_a_name_is_refused_before_any_network_work(
    suffix, plant, complaint, dest, victim, mirror
):
    where = dest / f"{NAME}{suffix}"
    plant(where, victim)
    with pytest.raises(ArgumentError) as error:
        fetch(dest, LOCAL, mirror)  # nothing listens there: an error about it would come later
    message = str(error.value)
    dangling = victim.with_name("created-through-the-link")
    assert message.startswith(f"--dest {dest}: {where} ")
    assert complaint.format(victim=victim, dangling=dangling) in message
    assert "move it away and run again" in message and "\n" not in message
    assert victim.read_bytes() == PRECIOUS and not dangling.exists()
    assert os.path.lexists(where)  # left as it was


@pytest.mark.parametrize(("suffix", "plant", "complaint"), PLANTED[:3])
def test_the_cli_names_the_planted_file_and_exits_2(
    suffix, plant, complaint, dest, victim, mirror, capsys
):
    plant(dest / f"{NAME}{suffix}", victim)
    argv = ["download", "--dest", str(dest), "--base-url", LOCAL, "--manifest", str(mirror)]
    assert cli_main([*argv, "--files", NAME, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m mtlab download: error: --dest {dest}: {dest / NAME}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert victim.read_bytes() == PRECIOUS


def test_a_hard_link_at_the_final_name_is_replaced_not_written_through(
    server, dest, victim, mirror
):
    os.link(victim, dest / NAME)  # wrong content: downloaded again, then renamed over the name
    fetch(dest, server.url, mirror)
    assert (dest / NAME).read_bytes() == BODY
    assert victim.read_bytes() == PRECIOUS
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


@pytest.mark.parametrize(
    ("suffix", "plant", "complaint"),
    [PLANTED[0], PLANTED[1], PLANTED[2], PLANTED[4], PLANTED[5]],
)
def test_a_name_planted_while_the_download_runs_is_not_written_through(
    suffix, plant, complaint, server, dest, victim, mirror
):
    where = dest / f"{NAME}{suffix}"
    server.on_request = lambda name: plant(where, victim)  # after the checks, before the writes
    with pytest.raises(DownloadError) as error:
        fetch(dest, server.url, mirror)
    dangling = victim.with_name("created-through-the-link")
    message = str(error.value)
    assert message.startswith(f"{where} ")
    assert complaint.format(victim=victim, dangling=dangling) in message
    assert victim.read_bytes() == PRECIOUS and not dangling.exists()
    assert os.path.lexists(where)


def test_a_read_only_dest_is_named_before_any_network_work(dest, mirror):
    dest.chmod(0o555)
    try:
        if os.access(dest, os.W_OK):
            pytest.skip("run as root: folder permissions do not bind")
        with pytest.raises(ArgumentError, match=rf"^--dest {re.escape(str(dest))}: cannot write"):
            fetch(dest, LOCAL, mirror)
    finally:
        dest.chmod(0o755)


# --- servers that would outlast the deadline ------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])  # https: the TLS handshake never ends
def test_a_silent_server_fails_at_the_deadline_not_the_read_timeout(scheme, dest, mirror):
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(DownloadError) as error:
            fetch(dest, f"{scheme}://127.0.0.1:{port}/", mirror, timeout=30, deadline=1)
        took = time.monotonic() - started
    assert 0.9 < took < 1 + 5
    assert str(error.value) == (
        f"{scheme}://127.0.0.1:{port}/{NAME}: no complete response within the 1 s deadline "
        "(the server is silent or too slow)"
    )
    assert list(dest.iterdir()) == []


def test_headers_one_byte_at_a_time_are_cut_off_at_the_deadline(server, dest, mirror):
    server.faults[NAME] = "slow-headers"  # each byte within the read timeout, never done
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r": no complete response within the 1\.5 s deadline"):
        fetch(dest, server.url, mirror, timeout=30, deadline=1.5)
    assert 1.4 < time.monotonic() - started < 1.5 + 5
    assert list(dest.iterdir()) == []


def test_a_stalled_body_is_cut_off_at_the_deadline_and_kept_for_resuming(server, dest, mirror):
    server.faults[NAME] = "stall"  # 1,000 bytes, then nothing for 10 s
    started = time.monotonic()
    with pytest.raises(DownloadError) as error:
        fetch(dest, server.url, mirror, timeout=30, deadline=1)
    assert time.monotonic() - started < 1 + 5
    assert f"after 1,000 of {len(BODY):,} bytes (past the 1 s deadline)" in str(error.value)
    assert (dest / f"{NAME}.part").read_bytes() == BODY[:1000]

    server.faults.clear()
    fetch(dest, server.url, mirror)
    assert server.requests[-1] == (NAME, "bytes=1000-")
    assert (dest / NAME).read_bytes() == BODY


def test_no_connection_is_made_once_the_deadline_has_passed():
    with (
        silent_server() as port,
        Watchdog(time.monotonic() - 0.1) as watchdog,
        pytest.raises(TimeoutError, match="the deadline passed before connecting"),
    ):
        watchdog.create_connection(("127.0.0.1", port), 30)


@pytest.mark.slow
def test_cli_deadline_3_against_a_silent_server(dest, mirror, capsys):
    with silent_server() as port:
        url = f"http://127.0.0.1:{port}/"
        argv = ["download", "--dest", str(dest), "--base-url", url, "--manifest", str(mirror)]
        started = time.monotonic()
        assert cli_main([*argv, "--files", NAME, "--deadline", "3", "--quiet"]) == 1
        took = time.monotonic() - started
    assert 2.9 < took < 3 + 5
    err = capsys.readouterr().err
    assert err == f"download failed: {url}{NAME}: no complete response within the 3 s deadline " \
        "(the server is silent or too slow)\n"  # fmt: skip


# --- redirects ------------------------------------------------------------------------------


def test_a_redirect_to_http_is_followed(server, dest, mirror):
    server.faults[NAME], server.location = "redirect", f"{server.url}elsewhere/{NAME}"
    fetch(dest, server.url, mirror)
    assert (dest / NAME).read_bytes() == BODY
    assert [name for name, _ in server.requests] == [NAME, f"elsewhere/{NAME}"]


@pytest.mark.parametrize(
    ("location", "complaint"),
    [
        (
            "file:///etc/passwd",
            r"HTTP 302 .*Redirection to url 'file:///etc/passwd' is not allowed",
        ),
        ("ftp://127.0.0.1:9/sts-dev.csv", r"could not connect \(unknown url type: ftp\)"),
        ("data:,hello", r"HTTP 302 .*Redirection to url 'data:,hello' is not allowed"),
    ],
)
def test_a_redirect_to_another_scheme_is_refused(location, complaint, server, dest, mirror):
    server.faults[NAME], server.location = "redirect", location
    with pytest.raises(DownloadError) as error:
        fetch(dest, server.url, mirror)
    assert str(error.value).startswith(f"{server.url}{NAME}: ")
    assert re.search(complaint, str(error.value)), str(error.value)
    assert list(dest.iterdir()) == []


# --- arguments that are not what they seem -------------------------------------------------


@pytest.mark.parametrize(
    ("make", "complaint"),
    [
        (lambda path: os.mkfifo(path), "is a named pipe (FIFO), not a plain file"),  # not waited on
        (lambda path: path.mkdir(), "is a folder, not a plain file"),
        (lambda path: path.symlink_to(path.with_name("gone")), "is a broken symbolic link"),
        (lambda path: path.write_bytes(b" " * (2 << 20)), ": over 1,048,576 bytes, not a manifest"),
    ],
)
def test_a_manifest_that_is_no_file_is_named(make, complaint, tmp_path):
    manifest = tmp_path / "mirror.json"
    make(manifest)
    with pytest.raises(ArgumentError) as error:
        download_course_data(tmp_path / "d", LOCAL, manifest=manifest, progress=False)
    assert str(error.value).startswith(f"manifest {manifest}")
    assert complaint in str(error.value)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda path: path.symlink_to(path.with_name("gone")), "a broken symbolic link (to "),
        (lambda path: os.mkfifo(path), "a named pipe (FIFO)"),
    ],
)
def test_a_dest_that_is_no_folder_says_what_it_is(make, what, tmp_path, mirror):
    dest = tmp_path / "data"
    make(dest)
    with pytest.raises(
        ArgumentError, match=rf"^--dest {re.escape(str(dest))} is {re.escape(what)}"
    ):
        fetch(dest, LOCAL, mirror)
    assert not (tmp_path / "gone").exists()
