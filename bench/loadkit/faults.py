"""Faults a test can switch on and off without touching shared services.

* :class:`TcpProxy`: the app reaches PostgreSQL through a loopback relay; cutting it is, for the
  app, the database server going away (open connections reset, new ones refused). The shared
  PostgreSQL server itself is never stopped.
* :func:`limit_file_size`: a disk that is full for one process. ``RLIMIT_FSIZE`` applies to the
  files the process already has open, so SQLite's next write to its WAL fails (Python ignores
  ``SIGXFSZ``, so the write returns an error instead of killing the server). Raising the limit
  again is the disk getting space back.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from bench.loadkit.servers import free_port


class TcpProxy:
    """A TCP relay from a loopback port to ``target``, with :meth:`cut` and :meth:`restore`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        stop = threading.Event()
        self._listener, self._stop = listener, stop
        self._spawn(self._accept, listener, stop)
        return self

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._drop(end)

    def _drop(self, end: socket.socket) -> None:
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            end.close()
        with self._lock:
            self._sockets.discard(end)

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            open_ends = list(self._sockets)
        for end in open_ends:
            self._drop(end)

    def restore(self) -> None:
        if self._listener is None:
            self.start()

    def close(self) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def limit_file_size(pid: int, limit: int | None) -> None:
    """Set (``limit`` bytes) or lift (None) the file-size limit of a running process."""
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    soft = resource.RLIM_INFINITY if limit is None else limit
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


@contextlib.contextmanager
def reachable_through_proxy(url: str) -> Iterator[tuple[str, TcpProxy | None]]:
    """The URL a server should use so that a test can take its database away, and the relay.

    PostgreSQL: the URL points at a :class:`TcpProxy` in front of the real server. SQLite: the
    URL itself and no relay (a full disk is the fault there, see :func:`database_down`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url, None
        return
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        proxied = parsed.set(host="127.0.0.1", port=proxy.port)
        yield proxied.render_as_string(hide_password=False), proxy


@contextlib.contextmanager
def database_down(pid: int, proxy: TcpProxy | None) -> Iterator[None]:
    """The database unavailable to server ``pid`` inside the block, back after it.

    With a relay, PostgreSQL goes away (open connections reset, new ones refused); without one,
    the SQLite server's disk is full (no file of the process may grow).
    """
    if proxy is not None:
        proxy.cut()
    else:
        limit_file_size(pid, 0)
    try:
        yield
    finally:
        if proxy is not None:
            proxy.restore()
        else:
            limit_file_size(pid, None)
