"""Request routing of moto 5.2.1's server without its per-request file-system scan: a speed fix, no behaviour change.

Why this exists: moto_server picks the service of every request in `DomainDispatcherApplication.get_application`,
under one lock shared by all requests. For a request sent to the loopback endpoint (`AWS_ENDPOINT_URL`, as every flz
test, drill and benchmark sends), `get_backend_for_host` runs twice (the `Host` header, then the host inferred from the
signature's credential scope), and each run lists moto's package directory and stats every entry
(`backends.list_of_moto_modules`: about 180 `isdir` calls), then tries every service's URL pattern in turn. Measured in
`npm run bench -- assess` (20 accounts, 473 requests): 1.63 s of emulator CPU with the scan, 1.15 s without; the
requests are the same and so are the answers. AWS has no such cost: the benchmarks model AWS's time with injected
latency, and the emulator's own CPU is the benchmark's noise, not the code under test.

What this changes, and nothing else: the directory listing is read once (moto's installed modules do not change while
the server runs), and the answer of `get_backend_for_host` is kept per host string (it depends only on the host and on
moto's static URL patterns; the answer for an unknown host, None, is kept too, as moto would compute it again the same
way). `apply()` is idempotent and is called by moto_flz.py before the server starts.
"""
from __future__ import annotations

from typing import Any

import moto.backends as backends
from moto.moto_server import werkzeug_app

_APPLIED = False


def apply() -> None:
    """Installs the cached listing and the per-host routing memo."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: iter(modules)  # type: ignore[assignment]

    original = werkzeug_app.DomainDispatcherApplication.get_backend_for_host
    routes: dict[str | None, Any] = {}

    def get_backend_for_host(self: werkzeug_app.DomainDispatcherApplication, host: str | None) -> Any:
        # Called under the dispatcher's lock (get_application), so the dict needs no lock of its own.
        if host not in routes:
            routes[host] = original(self, host)
        return routes[host]

    werkzeug_app.DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
