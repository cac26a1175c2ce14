"""Action lookup of moto 5.2.1's responses without a class inspection per request: a speed fix, no behaviour change.

What moto does: `BaseResponse.call_action` (every query, JSON and REST-JSON request: EC2, IAM, STS, KMS, GuardDuty,
Security Hub, Route 53 Resolver, Organizations...) decides whether the action is implemented by asking
`method_names_from_class(self.__class__)`, which runs `inspect.getmembers` over the response class: `dir()` of a class
with hundreds of attributes (EC2's response class mixes in every EC2 area), a `getattr` and an `isfunction` test for
each, a sort. Measured with the profiling switch (flz_profile) under `npm run bench -- assess`: 22 % of the emulator's
profiled CPU in the steady state, more than rendering the responses. AWS has no such cost.

What this changes, and nothing else: the list of a class's function names is computed once per class and kept.
The answer is the same list: a response class's functions are fixed once moto and the flz extensions are imported
(every extension patches its classes in its `apply()`, before the server starts, and moto_flz.py applies this module
after them). `apply()` is idempotent.
"""
from __future__ import annotations

import moto.core.responses as responses
from moto.core.utils import method_names_from_class

_APPLIED = False


def apply() -> None:
    """Installs the per-class memo of `method_names_from_class` where `call_action` looks it up."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    names: dict[type, list[str]] = {}

    def memo(clazz: type) -> list[str]:
        # Two threads may compute the same class's list at once; both get the same answer, so no lock is needed.
        found = names.get(clazz)
        if found is None:
            found = names[clazz] = method_names_from_class(clazz)
        return found

    responses.method_names_from_class = memo  # type: ignore[assignment]
