"""An account's backends found without taking moto's global backend lock: a contention fix, same answers.

What moto does: every look-up of an account's backends (`BackendDict.__getitem__`: every request at least once, in
`mark_account_as_visited`, and again for the service's own backend) takes `backend_lock`, one re-entrant lock shared
by every service, account and region, and inside it builds `list(self.keys())` to see whether the account exists yet.
Under the threaded server, a thread that is switched out by the interpreter (every 5 ms) while it holds that lock makes
every other request thread queue on it. Sampled with the profiling switch (flz_profile, FLZ_EMULATOR_PROFILE_MODE=
sample) under `npm run bench -- assess` (20 accounts): 70 % of the samples of threads inside moto's application were
waiting on that line. AWS has no such queue. moto's own region look-up (`AccountSpecificBackend.__getitem__`) already
checks without the lock first and locks only to create.

What this changes: the account's presence is checked first without the lock (a dictionary membership test is atomic
under the interpreter lock); only an account not there yet goes through moto's locked create, unchanged. The backends
returned are the same objects. The one difference is a request racing the emulator's reset (`/moto-api/reset`, which
clears every account under the lock): it may use the accounts being cleared instead of waiting for fresh ones; the
tests, drills and benchmarks reset only between runs, with no request in flight. `apply()` is idempotent.
"""
from __future__ import annotations

from moto.core.base_backend import BackendDict

_APPLIED = False


def apply() -> None:
    """Puts the unlocked presence check in front of moto's locked create."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    create = BackendDict._create_account_specific_backend

    def create_if_missing(self: BackendDict, account_id: str) -> None:  # type: ignore[type-arg]
        if dict.__contains__(self, account_id):
            return
        create(self, account_id)

    BackendDict._create_account_specific_backend = create_if_missing  # type: ignore[method-assign]
