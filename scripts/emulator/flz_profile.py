"""Profiling switch of the emulator: where moto spends its CPU, per request type. Off unless asked for.

Set `FLZ_EMULATOR_PROFILE=<file>` in the environment of whatever starts the emulator (a test, a benchmark, `flz drill`:
scripts/emulator/index.ts passes the environment through) and, when the server stops, `<file>` holds a text report and
`<file>.prof` the merged `pstats` data of every request (open it with `python3 -m pstats <file>.prof`). A `%p` in the
name is replaced by the server's process ID, for runs that start several emulators. `FLZ_EMULATOR_PROFILE_SKIP=<n>`
leaves the first n requests out (a benchmark's warm-up, where moto builds each account's and region's backends and
loads service models: costs paid once per server, not per request).

What is measured: each HTTP request from the moment werkzeug starts reading it on its connection thread until the
response is written (`WSGIRequestHandler.handle_one_request`: request parsing, moto's routing, the service's response
and its rendering, the write), with cProfile enabled on that thread only (Python 3.11's cProfile profiles the thread
that enables it). Each request is classed by service and action: the credential scope of its signature names the
service; the action comes from `X-Amz-Target` (JSON protocols), the `Action` form field (query protocols) or, for
REST services (S3, EBS direct APIs), the method, whether the path names an object, and the names of its query
parameters. The report gives, per class, the request count and thread CPU per request (`time.thread_time`, which
cProfile's own overhead inflates: compare classes with each other, not with a run without the switch), then the top
functions by cumulative and by own time over all requests and per class.

`FLZ_EMULATOR_PROFILE_MODE=sample` samples instead (every `FLZ_EMULATOR_PROFILE_INTERVAL` ms, default 1): a thread
reads the stack of every thread that is inside moto's application (routing to response body; werkzeug's HTTP parsing
and the write are outside) and counts, per request class, the function on top (own time) and every function on the
stack (cumulative). cProfile charges a fixed cost to every function call, which inflates code made of many small
calls (`inspect.getmembers`, the serializers) several times against code spending its time in C: sampling does
not, so use it to decide what to fix and cProfile to see call counts. Only the text report is written in this mode.

Nothing about a request's answer changes: the wrapper reads the form body only to class the request and puts it back
(as moto's own dispatcher does, `DomainDispatcherApplication._get_body`).
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import sys
import threading
from collections import Counter
import time
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server import werkzeug_app
from werkzeug.serving import WSGIRequestHandler

_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")
_TOP = 25
_TOP_PER_CLASS = 12


class _Profiles:
    """Per request class: the count, the thread CPU, and the merged profile of every request of the class."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        # Raw profiles, merged only at the end: merging costs more than the request it measures and would crowd out
        # the requests still being served.
        self.profiles: dict[str, list[cProfile.Profile]] = {}
        self.stats: dict[str, pstats.Stats] = {}

    def add(self, kind: str, cpu: float, profile: cProfile.Profile) -> None:
        with self.lock:
            self.count[kind] = self.count.get(kind, 0) + 1
            self.cpu[kind] = self.cpu.get(kind, 0.0) + cpu
            self.profiles.setdefault(kind, []).append(profile)

    def report(self) -> tuple[str, pstats.Stats | None]:
        for kind, profiles in self.profiles.items():
            self.stats[kind] = pstats.Stats(*profiles)
        out = io.StringIO()
        total_n = sum(self.count.values())
        total_cpu = sum(self.cpu.values())
        out.write(f"emulator profile: {total_n} requests, {total_cpu:.3f} s thread CPU (profiled)\n\n")
        out.write(f"{'requests':>8} {'CPU s':>8} {'ms/req':>8}  class\n")
        for kind in sorted(self.cpu, key=lambda k: -self.cpu[k]):
            n = self.count[kind]
            out.write(f"{n:>8} {self.cpu[kind]:>8.3f} {self.cpu[kind] / n * 1000:>8.2f}  {kind}\n")
        merged = pstats.Stats() if self.stats else None
        if merged is not None:
            merged.add(*self.stats.values())
        if merged is not None:
            for order in ("cumulative", "tottime"):
                out.write(f"\n==== all requests, top {_TOP} by {order} ====\n")
                merged.stream = out  # type: ignore[attr-defined]
                merged.sort_stats(order).print_stats(_TOP)
        for kind in sorted(self.cpu, key=lambda k: -self.cpu[k]):
            for order in ("cumulative", "tottime"):
                out.write(f"\n==== {kind} ({self.count[kind]} requests), top {_TOP_PER_CLASS} by {order} ====\n")
                stats = self.stats[kind]
                stats.stream = out  # type: ignore[attr-defined]
                stats.sort_stats(order).print_stats(_TOP_PER_CLASS)
        return out.getvalue(), merged


_PROFILES = _Profiles()
_CURRENT = threading.local()
_TARGET: str | None = None
_SKIP = [0]  # requests still to leave out (a list: changed from the request threads under _PROFILES.lock)


def _classify(environ: dict[str, Any]) -> str:
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service} {target.split('.')[-1]}"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size:
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)  # put back: the request is answered from it
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return f"{service} {action[0]}"
    path = environ.get("PATH_INFO", "")
    query = sorted(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if service != "s3":  # REST APIs: the first path segment names the resource (EBS /snapshots, Security Hub /accounts)
        shape = "/" + path.strip("/").split("/")[0]
        return f"{service} {environ.get('REQUEST_METHOD', '?')} {shape}{' ?' + '&'.join(query) if query else ''}"
    shape = "object" if path.strip("/").count("/") >= 1 else ("bucket" if path.strip("/") else "root")
    if environ.get("HTTP_HOST", "").count(".") >= 1 and not environ["HTTP_HOST"][0].isdigit():
        shape = "object" if path.strip("/") else "bucket"  # virtual-hosted style: the bucket is in the host
    return f"{service} {environ.get('REQUEST_METHOD', '?')} {shape}{' ?' + '&'.join(query) if query else ''}"


class _Samples:
    """Stack samples of the threads inside moto's application, per request class."""

    def __init__(self) -> None:
        self.active: dict[int, str] = {}  # thread ident -> request class, while inside the application
        self.total: Counter[str] = Counter()
        self.own: dict[str, Counter[str]] = {}
        self.cumulative: dict[str, Counter[str]] = {}
        self.stop = threading.Event()

    def run(self, interval: float) -> None:
        while not self.stop.wait(interval):
            frames = sys._current_frames()
            for ident, kind in list(self.active.items()):
                frame = frames.get(ident)
                if frame is None:
                    continue
                names: list[str] = []
                while frame is not None:
                    code = frame.f_code
                    names.append(f"{code.co_filename.split('site-packages/')[-1]}:{code.co_firstlineno}({code.co_name})")
                    frame = frame.f_back
                self.total[kind] += 1
                self.own.setdefault(kind, Counter())[names[0]] += 1
                self.cumulative.setdefault(kind, Counter()).update(set(names))

    def report(self) -> str:
        out = io.StringIO()
        n = sum(self.total.values())
        out.write(f"emulator profile (sampled): {n} samples inside moto's application\n\n")
        out.write(f"{'samples':>8} {'share':>6} {'requests':>8}  class\n")
        for kind, count in self.total.most_common():
            out.write(f"{count:>8} {count / n:>6.1%} {_PROFILES.count.get(kind, 0):>8}  {kind}\n")
        own: Counter[str] = Counter()
        cumulative: Counter[str] = Counter()
        for kind in self.total:
            own.update(self.own[kind])
            cumulative.update(self.cumulative[kind])
        for title, counter, top in (("cumulative", cumulative, _TOP * 2), ("own", own, _TOP)):
            out.write(f"\n==== all requests, top {top} by {title} samples ====\n")
            for name, count in counter.most_common(top):
                out.write(f"{count:>8} {count / n:>6.1%}  {name}\n")
        for kind, total in self.total.most_common():
            for title, counter in (("cumulative", self.cumulative[kind]), ("own", self.own[kind])):
                out.write(f"\n==== {kind} ({total} samples), top {_TOP} by {title} ====\n")
                for name, count in counter.most_common(_TOP):
                    out.write(f"{count:>8} {count / total:>6.1%}  {name}\n")
        return out.getvalue()


_SAMPLES = _Samples()
_SAMPLING = [False]


def _apply_sampling(interval: float) -> None:
    _SAMPLING[0] = True
    original_call = werkzeug_app.DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        with _PROFILES.lock:
            skip = _SKIP[0] > 0
            if skip:
                _SKIP[0] -= 1
        if skip:
            return original_call(self, environ, start_response)
        kind = _classify(environ)
        ident = threading.get_ident()
        with _PROFILES.lock:
            _PROFILES.count[kind] = _PROFILES.count.get(kind, 0) + 1
        _SAMPLES.active[ident] = kind
        try:
            return original_call(self, environ, start_response)
        finally:
            _SAMPLES.active.pop(ident, None)

    werkzeug_app.DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]
    threading.Thread(target=_SAMPLES.run, args=(interval,), daemon=True, name="flz-profile-sampler").start()


def apply() -> None:
    """Installs the per-request profiler when FLZ_EMULATOR_PROFILE is set; otherwise does nothing."""
    global _TARGET
    target = os.environ.get("FLZ_EMULATOR_PROFILE")
    if not target or _TARGET is not None:
        return
    _TARGET = target.replace("%p", str(os.getpid()))
    _SKIP[0] = int(os.environ.get("FLZ_EMULATOR_PROFILE_SKIP") or 0)
    if os.environ.get("FLZ_EMULATOR_PROFILE_MODE") == "sample":
        _apply_sampling(float(os.environ.get("FLZ_EMULATOR_PROFILE_INTERVAL") or 1) / 1000)
        return

    original_call = werkzeug_app.DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        _CURRENT.kind = _classify(environ)
        return original_call(self, environ, start_response)

    werkzeug_app.DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]

    original_handle = WSGIRequestHandler.handle_one_request

    def handle_one_request(self: WSGIRequestHandler) -> None:
        with _PROFILES.lock:
            skip = _SKIP[0] > 0
            if skip:
                _SKIP[0] -= 1
        if skip:
            original_handle(self)
            return
        _CURRENT.kind = None
        # Thread CPU as the clock: wall time would charge a function with the waits for moto's locks and the GIL.
        profile = cProfile.Profile(time.thread_time)
        cpu0 = time.thread_time()
        profile.enable()
        try:
            original_handle(self)
        finally:
            profile.disable()
            cpu = time.thread_time() - cpu0
            kind = getattr(_CURRENT, "kind", None)
            if kind is not None:  # None: the connection closed without a request (keep-alive end)
                _PROFILES.add(kind, cpu, profile)

    WSGIRequestHandler.handle_one_request = handle_one_request  # type: ignore[method-assign]


def write() -> None:
    """Writes the report and the merged profile, if the switch is on. Called by moto_flz.py when the server stops."""
    if _TARGET is None:
        return
    if _SAMPLING[0]:
        _SAMPLES.stop.set()
        with open(_TARGET, "w", encoding="utf-8") as f:
            f.write(_SAMPLES.report())
        return
    text, merged = _PROFILES.report()
    with open(_TARGET, "w", encoding="utf-8") as f:
        f.write(text)
    if merged is not None:
        merged.dump_stats(_TARGET + ".prof")
