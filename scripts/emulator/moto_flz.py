"""Starts moto_server (moto 5.2.1) for flz tests, benchmarks and drills, on the loopback port given.

This is the place for the narrow, documented emulator extensions that the issues allow; the plain server is the
default. Usage: python3 moto_flz.py --port N
"""
import argparse
import sys

from moto.server import ThreadedMotoServer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"ready http://{args.host}:{args.port}", flush=True)
    try:
        sys.stdin.read()  # the parent closes stdin (or dies) when it is done with us
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
