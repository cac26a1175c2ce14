"""The account of a request's access key without walking every account's IAM store: a speed fix, same answers.

What moto does: every request's account comes from its access key (`BaseResponse.get_current_account` ->
`moto.iam.models.get_account_id_from`), which walks every account the emulator knows and, in each, every partition's
IAM backend (aws, aws-cn, aws-us-gov, ...: about 80 dictionary lookups through moto's backend dictionaries with 27
accounts), until one holds the key; an unknown key (the dummy `testing` credentials) walks them all and gets the
default account. Measured with the profiling switch (flz_profile) under `npm run bench -- assess`: about 4 % of the
emulator's profiled CPU, growing with the number of accounts.

What this changes:
1. A key found in an account is remembered with that account; the next lookup checks that the account's IAM backend
   still holds the key (a reset, a deleted key, an expired session is seen) and otherwise asks moto again. The answer
   is moto's unless the same access key ID were held by two accounts at once: AWS makes access key IDs unique, and
   moto draws them at random (16 characters from 32), so the walk's first match is the only match.
2. The walk itself (a key not remembered) is moto's, in the same order, with the same lazy creation of a missing
   partition backend; it reads the backend dictionaries directly instead of through their `__getitem__`, which
   re-checks the key list on every access.
`apply()` is idempotent.
"""
from __future__ import annotations

from typing import Any

import moto.iam.models as iam_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.utilities.utils import PARTITION_NAMES

_APPLIED = False


def _walk(access_key: str) -> str:
    # moto's get_account_id_from, same order; dict.get first, moto's __getitem__ (which creates) only on a miss.
    for account_id, account in list(iam_models.iam_backends.items()):
        for partition in PARTITION_NAMES:
            backend = dict.get(account, partition)
            if backend is None:
                backend = account[partition]
            if access_key in backend.access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


def apply() -> None:
    """Installs the remembered key -> (account, partition) lookup in front of moto's walk."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    known: dict[str, tuple[str, Any]] = {}

    def get_account_id_from(access_key: str) -> str:
        hit = known.get(access_key)
        if hit is not None:
            account_id, backend = hit
            account = dict.get(iam_models.iam_backends, account_id)
            # The same backend object still in place (not reset) and still holding the key.
            if account is not None and backend in dict.values(account) and access_key in backend.access_keys:
                return account_id
            known.pop(access_key, None)
        account_id = _walk(access_key)
        # Remember only a key an account holds (an unknown key's default account is not remembered: a later
        # CreateAccessKey or AssumeRole may hand that key out).
        for backend in dict.values(dict.get(iam_models.iam_backends, account_id) or {}):
            if access_key in backend.access_keys:
                known[access_key] = (account_id, backend)
                break
        return account_id

    iam_models.get_account_id_from = get_account_id_from  # type: ignore[assignment]

