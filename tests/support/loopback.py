"""A real HTTP server on a free 127.0.0.1 port, in a thread: the base of the tests' fake peers.

A subclass lists the ``methods`` it serves and answers each request in ``handle``;
any other method gets the standard library's 501.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    methods: tuple[str, ...] = ("POST",)

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        owner = self

        def serve(method: str) -> Any:
            return lambda request: owner.handle(request, method)

        def quiet(request: BaseHTTPRequestHandler, format: str, *args: Any) -> None:
            return

        handler = type(
            "Handler",
            (BaseHTTPRequestHandler,),
            {"log_message": quiet, **{f"do_{m}": serve(m) for m in self.methods}},
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
