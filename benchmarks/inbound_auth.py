"""What checking a caller's token costs ``appctl serve`` / ``appctl mcp`` per request.

    .venv/bin/python benchmarks/inbound_auth.py [--tokens 2000]

``serve/inbound``'s ``Verifier.caller`` on the same machine in the same run, each series
interleaved in blocks of 100: a static ``inbound.tokens`` token (constant-time compares),
and OAuth access tokens signed RS256 (2048-bit) and ES256, with the issuer's keys already
cached (its JWKS served on 127.0.0.1 and fetched once before timing). Prints the median and
p99 microseconds per token and each series' ratio to the static one. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import statistics
import threading
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from appctl.contract.inbound import InboundSettings
from appctl.serve.inbound.verify import Verifier

AUDIENCE = "http://127.0.0.1/mcp"
BLOCK = 100


def keys() -> dict[str, tuple[str, Any]]:
    return {
        "rs": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "es": ("ES256", ec.generate_private_key(ec.SECP256R1())),
    }


def jwks_server(signing: dict[str, tuple[str, Any]]) -> http.server.ThreadingHTTPServer:
    published = []
    for kid, (alg, private) in signing.items():
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key()))
        published.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
    body = json.dumps({"keys": published}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def token(url: str, kid: str, alg: str, private: Any) -> str:
    now = int(time.time())
    claims = {"iss": url, "sub": "bench", "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    claims["scope"] = "appctl:read appctl:write"
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})


async def timed(verifier: Verifier, given: str, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        await verifier.caller(given)
        out.append((time.perf_counter() - start) * 1e6)
    return out


async def main(total: int) -> None:
    signing = keys()
    server = jwks_server(signing)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    oauth = {"issuer": url, "resource": AUDIENCE, "jwks_url": f"{url}/jwks"}
    settings = InboundSettings.model_validate(
        {"tokens": {"ci": {"token": "env:CI_TOKEN"}}, "oauth": oauth}
    )
    verifier = Verifier(settings, {"CI_TOKEN": "static-token-" + "x" * 40})
    series = {"static": "static-token-" + "x" * 40}
    for kid, (alg, private) in signing.items():
        series[alg] = token(url, kid, alg, private)
    for given in series.values():
        await verifier.caller(given)  # the keys fetched and cached before timing
    times: dict[str, list[float]] = {name: [] for name in series}
    for _ in range(max(1, total // BLOCK)):
        for name, given in series.items():
            times[name] += await timed(verifier, given, BLOCK)
    server.shutdown()
    base = statistics.median(times["static"])
    print(f"{'series':<8} {'median µs':>10} {'p99 µs':>10} {'ratio':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        p99 = statistics.quantiles(values, n=100)[98]
        print(f"{name:<8} {median:>10.1f} {p99:>10.1f} {median / base:>7.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000, help="tokens per series")
    asyncio.run(main(parser.parse_args().tokens))
