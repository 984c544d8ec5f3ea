"""Against real httpbin (its own Swagger 2.0 document, written by flasgger, declares no
security): schemes added in config.yaml reach only the tools they apply to, and what httpbin
echoes back (headers, query, URL) never brings a secret into any output or file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

from tests import runner

TOKEN = "hb+/=bearer SECRET 1"
KEY = "k/+= key SECRET 2"
USER, PASSWORD = "api", "pw+=basic-SECRET-3"  # no "/": httpbin routes on the path
CONFIG = """
auth:
  schemes:
    token: {type: bearer, token: env:HB_TOKEN, apply_to: [get_headers]}
    basic:
      type: basic
      username: env:HB_USER
      password: env:HB_PASSWORD
      apply_to: [get_basic_auth_user_passwd]
    key: {type: api_key, in: query, param: api_key, value: env:HB_KEY, apply_to: [get_get]}
"""


def _forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}


def test_httpbin_echoes_never_bring_a_secret_back(httpbin_url: str, tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HB_TOKEN": TOKEN,
        "HB_KEY": KEY,
        "HB_USER": USER,
        "HB_PASSWORD": PASSWORD,
    }

    def appctl(*args: str, code: int = 0, environ: dict[str, str] = env) -> str:
        proc = runner.invoke(*args, cwd=tmp_path, code=code, env=environ)
        return proc.stdout + proc.stderr

    appctl("sync", "--openapi", f"{httpbin_url}/spec.json", "--base-url", httpbin_url)
    (tmp_path / ".appctl" / "config.yaml").write_text(CONFIG)
    out = appctl("call", "get_headers", "--json")
    headers = json.loads(out)["data"]["headers"]
    assert headers["Authorization"] == "Bearer ***"  # httpbin echoed it; we hid it
    query = appctl("call", "get_get", "--json")
    echoed = json.loads(query)
    out += query
    assert echoed["data"]["args"] == {"api_key": "***"} and "api_key=***" in echoed["data"]["url"]
    basic = appctl("call", "get_basic_auth_user_passwd", f"user={USER}", f"passwd={PASSWORD}")
    assert '"authenticated": true' in basic and '"user": "api"' in basic
    out += basic
    plain = json.loads(appctl("call", "get_anything", "--json"))
    assert "Authorization" not in plain["data"]["headers"]  # no scheme applies to it
    assert "api_key" not in plain["data"]["url"]
    refused = appctl(
        "call", "get_headers", code=1, environ={k: v for k, v in env.items() if k != "HB_TOKEN"}
    )
    assert "HB_TOKEN" in refused
    out += appctl("call", "get_headers", "--dry-run") + appctl("history", "--json")
    secrets = _forms(TOKEN) | _forms(KEY) | _forms(PASSWORD)
    secrets.add(base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    for form in secrets:
        assert form not in out, form
    for path in (tmp_path / ".appctl").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [f for f in secrets if f.encode() in data], path
