"""HTTP/1.1 keep-alive for the emulator's server: a fix of the harness, no API changes.

What werkzeug does (moto 5.2.1's server is werkzeug's development server): every response carries
`Connection: close` ("keep-alive connections aren't handled well by Python's http.server because it doesn't know how
to drain the stream before the next request line"), and after each response the handler keeps the connection for up
to 10 ms to discard whatever else the client sent. So every request of every SDK client costs a new TCP connection
and a new server thread, which AWS's endpoints (keep-alive, connections reused by the SDK's agents) do not charge.
Measured: 500 sequential GuardDuty `ListDetectors` from one client cost the client 2.6-2.9 ms of CPU and 3.4-3.9 ms of
wall time each with a connection per request, 1.9 ms and 2.3-2.5 ms with one connection for all.

What this changes, per request:
- A request that can be drained exactly keeps its connection: HTTP/1.1, no `Connection: close` from the client, and a
  body whose end is known from `Content-Length` (or no body). Its body is read through a `LimitedStream` of that
  length, and whatever the application left unread is read to the end before the response's headers go out, so the
  next request line starts where this body ends. The response says `Connection: keep-alive` and the 10 ms drain is
  skipped (it would swallow the next request).
- Everything else closes its connection as before: a chunked body (its end is found only by parsing it), a client
  that asked for `close`, a request line werkzeug refused, and any request during which werkzeug logged an error (an
  exception in moto after part of a response may have been written).
- Responses are written with Nagle's algorithm off (`TCP_NODELAY`): with the connection kept, a response written in
  two parts (headers, body) would otherwise wait for the client's delayed acknowledgement, 40 ms.

Idle connections stay open until the client closes them (the server never closes one between requests, so a client
never sends a request on a connection the server is closing); the flz client closes its idle sockets after 5 s
(scripts/aws/clients.ts). `FLZ_EMULATOR_KEEPALIVE=0` turns this off. `apply()` is idempotent.
"""
from __future__ import annotations

import os
import selectors
import threading
from typing import Any

import werkzeug.serving as serving
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

_APPLIED = False
# Whether the request this thread is serving keeps its connection: werkzeug's drain (the only user of `selectors` in
# werkzeug.serving) asks for a selector without a reference to the handler.
_request = threading.local()


class _NothingToDrain:
    """A selector that reports nothing to read: the body was drained exactly, and what follows is the next request."""

    def register(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def select(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        return []

    def close(self) -> None:
        return None


class _Selectors:
    """What werkzeug.serving sees as the `selectors` module."""

    EVENT_READ = selectors.EVENT_READ

    @staticmethod
    def DefaultSelector() -> Any:  # noqa: N802 (the name werkzeug calls)
        return _NothingToDrain() if getattr(_request, "keep", False) else selectors.DefaultSelector()


def _keepable(handler: WSGIRequestHandler) -> bool:
    length = (handler.headers.get("Content-Length") or "").strip()
    return (
        handler.request_version == "HTTP/1.1"
        and "chunked" not in (handler.headers.get("Transfer-Encoding") or "").lower()
        and (handler.headers.get("Connection") or "").strip().lower() != "close"
        and (length == "" or length.isdigit())
    )


def apply() -> None:
    """Keeps connections of requests whose body can be drained exactly; see the module's docstring."""
    global _APPLIED
    if _APPLIED or os.environ.get("FLZ_EMULATOR_KEEPALIVE") == "0":
        return
    _APPLIED = True
    handle_one_request = WSGIRequestHandler.handle_one_request
    make_environ = WSGIRequestHandler.make_environ
    send_header = WSGIRequestHandler.send_header
    log = BaseWSGIServer.log

    def patched_handle_one_request(self: WSGIRequestHandler) -> None:
        # Reset for each request: a request line refused before make_environ must not inherit the last one's answer.
        _request.keep = False
        _request.failed = False
        try:
            handle_one_request(self)
        finally:
            if _request.failed:
                self.close_connection = True
            _request.keep = False

    def patched_make_environ(self: WSGIRequestHandler) -> Any:
        environ = make_environ(self)
        if _keepable(self):
            body = LimitedStream(self.rfile, int((self.headers.get("Content-Length") or "0").strip() or 0))
            environ["wsgi.input"] = body
            self._flz_body = body  # type: ignore[attr-defined]
            _request.keep = True
        return environ

    def patched_send_header(self: WSGIRequestHandler, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and getattr(_request, "keep", False):
            # moto may not have read the whole body (a form it did not need): read it now, so the next request line
            # is where the client put it. http.server's send_header keeps the connection on "keep-alive".
            self._flz_body.exhaust()  # type: ignore[attr-defined]
            value = "keep-alive"
        send_header(self, keyword, value)

    def patched_log(self: BaseWSGIServer, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's name)
        if type == "error":
            _request.failed = True
        log(self, type, message, *args)

    WSGIRequestHandler.handle_one_request = patched_handle_one_request  # type: ignore[method-assign]
    WSGIRequestHandler.make_environ = patched_make_environ  # type: ignore[method-assign]
    WSGIRequestHandler.send_header = patched_send_header  # type: ignore[method-assign]
    WSGIRequestHandler.disable_nagle_algorithm = True
    BaseWSGIServer.log = patched_log  # type: ignore[method-assign]
    serving.selectors = _Selectors  # type: ignore[assignment]
