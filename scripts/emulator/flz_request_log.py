"""No access-log line per request from the emulator's HTTP server: a speed fix, no behaviour change of any API.

What werkzeug does (moto 5.2.1's server runs on werkzeug's development server): after every response,
`WSGIRequestHandler.log_request` decodes the path (`uri_to_iri`), formats and colours an access-log line and writes it
to stderr through the `werkzeug` logger (`127.0.0.1 - - [date] "POST / HTTP/1.1" 200 -`). Measured with the profiling
switch (flz_profile) under `npm run bench -- assess`: about 5 % of the emulator's profiled CPU; the parent
(scripts/emulator/index.ts) then reads every line only to keep the last 4,000 characters for a start-up error.

What this changes: the access-log line is not produced, unless `FLZ_EMULATOR_LOG_REQUESTS=1` is set (for debugging).
Errors are still logged: werkzeug reports a failed request (a traceback, a bad request line) through `log_error` and
`log_exception`, not through `log_request`, and those are untouched. Responses are untouched. `apply()` is idempotent.
"""
from __future__ import annotations

import os
from typing import Any

from werkzeug.serving import WSGIRequestHandler

_APPLIED = False


def apply() -> None:
    """Makes `log_request` a no-op unless FLZ_EMULATOR_LOG_REQUESTS=1."""
    global _APPLIED
    if _APPLIED or os.environ.get("FLZ_EMULATOR_LOG_REQUESTS") == "1":
        return
    _APPLIED = True

    def log_request(self: WSGIRequestHandler, *_args: Any) -> None:
        return None

    WSGIRequestHandler.log_request = log_request  # type: ignore[method-assign]
