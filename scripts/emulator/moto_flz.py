"""Starts moto_server (moto 5.2.1) for flz tests, benchmarks and drills, on the loopback port given.

This is the place for the narrow, documented emulator extensions that the issues allow; the plain server is the
default for everything they do not name. Installed here: flz_ebs (cross-account snapshot sharing as the recipient
sees it, EBS Snapshot Lock), flz_organizations (Organizations' delegated policy management, and invited accounts
with known IDs), flz_lambda (Lambda's ListFunctionUrlConfigs), flz_s3 (atomic conditional creates, listings priced by
prefix), five speed fixes with unchanged answers: flz_dispatch (request routing without a file-system scan per
request), flz_backends (an account's backends found without queueing on moto's global lock), flz_actions (a response
class's action names computed once, not per request), flz_accounts (a request's account found without walking every
account's IAM store), flz_request_log (no access-log line per request), and two fixes of the HTTP server where
werkzeug's development server differs from an AWS endpoint: flz_listen (a burst of connections is queued, not
dropped) and flz_keepalive (connections kept between requests); see each module for why. Usage: python3 moto_flz.py --port N

Profiling: with FLZ_EMULATOR_PROFILE=<file> in the environment (of a test, benchmark or drill: the emulator inherits it),
every request is profiled on its thread and, when the server stops, <file> holds the CPU per request class and the top
functions by cumulative and own time, <file>.prof the merged pstats data (flz_profile; `%p` in <file> becomes the PID).
"""
import argparse
import os
import sys

# The extensions sit beside this file; make them importable however the script is started.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from moto.server import ThreadedMotoServer  # noqa: E402

import flz_accounts  # noqa: E402
import flz_actions  # noqa: E402
import flz_backends  # noqa: E402
import flz_dispatch  # noqa: E402
import flz_ebs  # noqa: E402
import flz_lambda  # noqa: E402
import flz_keepalive  # noqa: E402
import flz_listen  # noqa: E402
import flz_organizations  # noqa: E402
import flz_profile  # noqa: E402
import flz_request_log  # noqa: E402
import flz_s3  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    flz_dispatch.apply()
    flz_ebs.apply()
    flz_lambda.apply()
    flz_organizations.apply()
    flz_s3.apply()
    flz_accounts.apply()
    flz_backends.apply()
    flz_request_log.apply()
    flz_actions.apply()  # after every extension that patches a response class
    flz_profile.apply()
    flz_keepalive.apply()  # HTTP/1.1 keep-alive (a harness fix; see the module)
    flz_listen.apply()  # before the server is created: the backlog is read when it listens
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"ready http://{args.host}:{args.port}", flush=True)
    try:
        sys.stdin.read()  # the parent closes stdin (or dies) when it is done with us
    finally:
        server.stop()
        flz_profile.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
