"""A listen queue as deep as the kernel allows, for the emulator's HTTP server: a fix of the harness, no API changes.

What happens without it: werkzeug's development server (moto 5.2.1's) listens with a backlog of 128
(`werkzeug.serving.LISTEN_QUEUE`) and accepts on one thread, which also needs the interpreter lock to start each
connection's thread. A client that opens a few hundred connections at once (`flz assess` on 20 accounts: about 400
requests in flight, each SDK client with its own sockets) overflows that queue while the accepting thread waits for the
lock; the kernel drops the SYNs it cannot queue (`nstat TcpExtListenOverflows`: 1,500 during one `npm run bench --
assess`) and the client's TCP stack sends them again after its initial retransmission timeout, one second. Requests
then took 1.0-1.1 s against 0.1-0.4 s for their neighbours, with both processes idle meanwhile: the benchmark measured
the emulator's accept queue, which AWS's endpoints do not have.

What this changes: the server listens with a backlog of `FLZ_EMULATOR_LISTEN_QUEUE` (default 4096; the kernel caps it
at `net.core.somaxconn`), so a burst of connections waits in the kernel's queue until it is accepted instead of being
dropped. Nothing else: the same server, the same threads, the same answers. `apply()` is idempotent and must run
before the server is created (the backlog is read when it starts listening).
"""
from __future__ import annotations

import os

from werkzeug.serving import BaseWSGIServer


def apply() -> None:
    """Raises the listen backlog of every werkzeug server created afterwards (setting it again changes nothing)."""
    BaseWSGIServer.request_queue_size = int(os.environ.get("FLZ_EMULATOR_LISTEN_QUEUE") or 4096)
