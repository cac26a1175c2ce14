"""Narrow extension of moto 5.2.1's S3 emulation: two fidelity fixes the custody ledger's concurrency depends on.

1. Conditional creates are atomic. S3 documents that of concurrent conditional writes (`If-None-Match: *`) to one key
   only the first to finish succeeds and the others get 412 Precondition Failed (S3 user guide, "How to prevent object
   overwrites with conditional writes"). moto's threaded server checks for an existing object and then stores the new
   one as two steps, so two requests racing on one key can both succeed: the second silently becomes a second version.
   Two custody writers then both believe they claimed the same sequence, and one refuses to go on ("holds a record
   other than the one its batch claimed"). The check and the store of a PutObject with `If-None-Match` run here under
   one lock (per process; conditional writes only, so every other write keeps moto's concurrency).
2. ListObjectVersions costs what its prefix holds. moto deep-copies every version of every key in the bucket on each
   call and filters by prefix afterwards: a listing of one case's 60 custody objects in a bucket of 1,000 costs about
   160 ms of the emulator's (single) CPU, 70 times a GetObject, and grows with every other case in the bucket, which
   S3 does not. Only the keys under the prefix are handed to moto's own listing code; what it returns is unchanged.

`apply()` is idempotent and is called by moto_flz.py before the server starts.
"""
from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

_APPLIED = False
_CONDITIONAL_PUT = threading.Lock()


class _PrefixKeys:
    """The part of a bucket's key store that moto's listing reads: `iterlists()`, limited to keys under a prefix."""

    def __init__(self, keys: Any, prefix: str) -> None:
        self._keys = keys
        self._prefix = prefix

    def iterlists(self) -> Any:
        return [(k, v) for k, v in list(self._keys.iterlists()) if k.startswith(self._prefix)]


class _PrefixBucket:
    def __init__(self, bucket: Any, prefix: str) -> None:
        self.keys = _PrefixKeys(bucket.keys, prefix)


class _PrefixBackend:
    """Stands in for the backend inside moto's listing, whose only backend call is `get_bucket`."""

    def __init__(self, bucket: Any, prefix: str) -> None:
        self._bucket = _PrefixBucket(bucket, prefix)

    def get_bucket(self, _name: str) -> Any:
        return self._bucket


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True

    original_list = S3Backend.list_object_versions
    signature = inspect.signature(original_list)

    def list_object_versions(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        prefix = bound.arguments.get("prefix") or ""
        bucket = self.get_bucket(bound.arguments["bucket_name"])
        bound.arguments["self"] = _PrefixBackend(bucket, prefix)
        return original_list(*bound.args, **bound.kwargs)

    S3Backend.list_object_versions = list_object_versions  # type: ignore[method-assign]

    original_put = S3Response.put_object

    def put_object(self: S3Response) -> Any:
        if self.headers.get("If-None-Match") == "*":
            with _CONDITIONAL_PUT:
                return original_put(self)
        return original_put(self)

    S3Response.put_object = put_object  # type: ignore[method-assign]
