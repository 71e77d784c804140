"""A local HTTP server for tests/test_download.py that serves given bytes and injects faults.

It listens on 127.0.0.1 only; nothing in the downloader tests talks to any other host.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

QUORA = ("quora-train.csv", "quora-dev.csv", "quora-test-student.csv")


def blob_id(data: bytes) -> str:
    """The git blob id of data, computed here independently of mtlab.data.download."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def quora_bytes(name: str) -> bytes:
    """Small stand-ins for the course's Quora files (the shared copies are another split)."""
    labelled = "test" not in name
    header = "\tid\tsentence1\tsentence2" + ("\tis_duplicate" if labelled else "")
    rows = [
        f"{i}\tq{name[6:9]}{i}\tHow do I learn {i} things?\tWhat is the way to learn {i} things?"
        + ("\t1.0" if labelled and i % 3 else "\t0.0" if labelled else "")
        for i in range(400)
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


def write_manifest(path: Path, bodies: dict[str, bytes], *, sizes: bool = True) -> Path:
    """A --manifest file giving the git blob id (and size, if sizes) of each body."""
    entries = {
        name: {"git_blob": blob_id(body), **({"size": len(body)} if sizes else {})}
        for name, body in bodies.items()
    }
    path.write_text(json.dumps(entries, indent=1))
    return path


class FaultyHandler(BaseHTTPRequestHandler):
    """Serves server.files (name -> bytes) with Range support; server.faults[name] injects one
    kind of failure.

    Faults: "404"; "corrupt" (same size, one byte changed); "drop" (send half the body, then
    close, for the first server.drops requests); "ignore-range" (always 200); "reset" (send
    half the body, then reset the connection, once); "stall" (send a little, then wait until
    server.release is set); "endless" (the body, then more bytes forever, no Content-Length);
    "oversize" (a body 1,000 bytes longer than the file, announced in Content-Length);
    "trickle" (the body a few bytes at a time, 20 ms apart); "slow-headers" (the status line
    and headers one byte every 0.5 s, never ending them; it hangs up after 15 s); "redirect" (a 302 to server.location).
    server.on_request(name), if set, runs before each answer: to change the disk meanwhile.
    """

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        name = self.path.lstrip("/")
        server.requests.append((name, self.headers.get("Range")))
        if server.on_request:
            server.on_request(name)
        fault = server.faults.get(name)
        if fault in ("slow-headers", "redirect"):
            self._answer_early(server, fault)
            return
        if fault == "404" or name not in server.files:
            self.send_error(404, "Not Found")
            return
        body = server.files[name]
        if fault == "corrupt":
            body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
        if fault == "oversize":
            body += b"x" * 1000
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
        if fault != "endless":
            self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hung up, as after a cap or a deadline
            self._send(server, name, fault, rest)

    def _answer_early(self, server, fault):
        if fault == "redirect":
            self.send_response(302)
            self.send_header("Location", server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 5  # 30 bytes: 15 s, then it hangs up
        with contextlib.suppress(OSError):  # the client hung up, at its deadline
            for byte in head:
                if server.release.wait(0.5):
                    break
                self.wfile.write(bytes([byte]))

    def _send(self, server, name, fault, rest):
        if fault == "drop" and server.drops > 0:
            server.drops -= 1
            self.wfile.write(rest[: len(rest) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif fault == "reset":  # half the body, then a TCP reset instead of a clean close
            self.wfile.write(rest[: len(rest) // 2])
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            server.faults.pop(name)
        elif fault == "stall":
            self.wfile.write(rest[:1000])
            self.wfile.flush()
            server.release.wait(10)
        elif fault == "endless":  # until the client hangs up (or 1 GiB, or the test ends)
            self.wfile.write(rest)
            for _ in range(1 << 14):
                if server.release.is_set():
                    break
                self.wfile.write(b"more " * 13107)
        elif fault == "trickle":
            for i in range(0, len(rest), 50):
                if server.release.is_set():
                    break
                self.wfile.write(rest[i : i + 50])
                self.wfile.flush()
                time.sleep(0.02)
        else:
            self.wfile.write(rest)


@contextlib.contextmanager
def fault_server(files: dict[str, bytes]):
    """A FaultyHandler server on 127.0.0.1 (port chosen by the OS) serving files."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    httpd.files, httpd.requests, httpd.faults, httpd.drops = files, [], {}, 1
    httpd.release, httpd.on_request, httpd.location = threading.Event(), None, ""
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextlib.contextmanager
def silent_server():
    """The address of a port on 127.0.0.1 that accepts connections and never says a word.

    The kernel completes the connection (the listen backlog); nobody ever reads or writes.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
