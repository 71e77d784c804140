"""HTTP connections that end at a deadline, whatever the server does.

A socket timeout bounds each read, not their sum: a server that sends its headers one byte a
second never trips it, and a silent one trips it only after the whole timeout. So every
socket opened for a download gets a timeout no longer than the time left, and a `Watchdog`
shuts it down at the deadline, which ends whatever read is waiting on it: the TLS handshake,
a proxy's reply, the headers or the body. (Looking up the host's name is not covered: the
system's resolver has its own limits.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request


class Watchdog:
    """Shuts down every socket opened through `create_connection` when `until` comes.

    `until` is on the time.monotonic() clock. Use it as a context manager around the
    download: leaving it stops the timer.
    """

    def __init__(self, until: float) -> None:
        self.until = until
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(until - time.monotonic(), 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def create_connection(self, address, timeout=None, source_address=None) -> socket.socket:
        """socket.create_connection, with a timeout cut to the time left, and watched."""
        left = self.until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed before connecting")
        if isinstance(timeout, (int, float)):
            left = min(timeout, left)
        sock = socket.create_connection(address, left, source_address)
        with self._lock:
            self._sockets.append(sock)
            if self._expired:  # the timer fired while this socket connected
                _shut(sock)
        return sock

    def _expire(self) -> None:
        while (left := self.until - time.monotonic()) > 0:  # a timer may wake a little early
            time.sleep(left)
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    """End every read waiting on sock; the plain socket's shutdown, so also under TLS."""
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watched:
    """A urllib handler whose connections open their sockets through the watchdog."""

    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def do_open(self, http_class, req, **kwargs):
        def connection(*args, **kw):
            made = http_class(*args, **kw)
            made._create_connection = self.watchdog.create_connection  # what connect() calls
            return made

        return super().do_open(connection, req, **kwargs)


class _HTTPHandler(_Watched, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_Watched, urllib.request.HTTPSHandler):
    pass


def opener(watchdog: Watchdog, user_agent: str) -> urllib.request.OpenerDirector:
    """urllib's usual opener (proxies from the environment, redirects, HTTP errors) for http
    and https only, every connection watched: a redirect to ftp:// or file:// is refused."""
    director = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _HTTPHandler(watchdog),
        _HTTPSHandler(watchdog),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    director.addheaders = [("User-Agent", user_agent)]
    return director
