"""Tokens a model reads for GitHub's ``repos/get`` result, with and without ``fields``.

    .venv/bin/python benchmarks/fields_tokens.py [--fields full_name,description,stargazers_count]

Input: GitHub's own recorded repository object, the example its OpenAPI description gives for
``GET /repos/{owner}/{repo}`` (``components/examples/full-repository-default-response``,
referenced from that operation's 200 response) in the npm package ``@octokit/openapi``
(``.cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json``, installed by
``scripts/setup``).

A local server on 127.0.0.1 answers ``GET /repos/octocat/Hello-World`` with that object as
``application/json``. The GitHub document is synced (all of it, into a temp app dir), and
``repos/get`` is called through the executor twice, without and with ``fields``, under the
default result budget. What is counted is the MCP text content a model reads (the result
envelope's JSON, framed as data as ``appctl mcp`` sends it by default), with o200k_base
(``benchmarks/count_tokens.mjs --text``). Prints both counts and their ratio.

Then what offering ``fields`` costs: o200k_base tokens of the whole MCP tool list
(``tools/list``: name, description, inputSchema, annotations) and of the guide for each of
``--cost-specs`` (default GitHub and Stripe, located as ``openapi_sync.py`` does), with the
``fields`` property and the guide's line about it, and without them (the same tool list with
that property removed, the guide without that line), and the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from appctl.execute.executor import CallOptions, call
from appctl.generate.formats.mcp import tool as mcp_tool
from appctl.generate.guides import render_guide
from appctl.generate.shaping import FIELDS_ARG
from appctl.generate.toolspec import build_tool_specs
from appctl.serve.mcp import envelope

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / ".cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
EXAMPLE = "full-repository-default-response"
PATH = "/repos/octocat/Hello-World"


def repository_example(spec: dict[str, Any]) -> dict[str, Any]:
    """The example of repos/get's 200 answer, followed from the operation itself."""
    answer = spec["paths"]["/repos/{owner}/{repo}"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["examples"]["default-response"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    assert name == EXAMPLE, name
    value: dict[str, Any] = spec["components"]["examples"][name]["value"]
    return value


@contextmanager
def serving(body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.split("?")[0] == PATH
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def tokens(texts: list[str], folder: Path) -> list[int]:
    """o200k_base tokens of each text (one node process for all)."""
    paths = []
    for index, text in enumerate(texts):
        path = folder / f"text-{index}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    script = ROOT / "benchmarks" / "count_tokens.mjs"
    done = subprocess.run(
        ["node", str(script), "--text", *paths], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"count_tokens.mjs failed: {done.stderr.strip()[-300:]}")
    return [int(line) for line in done.stdout.split()]


def text_content(result: Any) -> str:
    [content] = result.content
    text: str = content.text
    return text


def without_fields(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        schema = tool["inputSchema"]
        properties = {k: v for k, v in schema["properties"].items() if k != FIELDS_ARG}
        out.append({**tool, "inputSchema": {**schema, "properties": properties}})
    return out


def offer_cost(schema: Any, folder: Path) -> tuple[int, int, list[int]]:
    """(tools taking fields, tools, token counts of tools/list with and without the
    property, and of the guide with and without its line)."""
    specs = build_tool_specs(schema)
    offered = [mcp_tool(s) for s in specs]
    guide = render_guide(schema)
    plain_guide = "".join(
        line for line in guide.splitlines(keepends=True) if f"`{FIELDS_ARG}`" not in line
    )
    texts = [
        json.dumps(offered, separators=(",", ":")),
        json.dumps(without_fields(offered), separators=(",", ":")),
        guide,
        plain_guide,
    ]
    taking = sum(FIELDS_ARG in s.input_schema["properties"] for s in specs)
    return taking, len(specs), tokens(texts, folder)


def result_tokens(schema: Any, url: str, fields: list[str], folder: Path) -> list[str]:
    """The framed MCP text of repos/get without and with ``fields``, and their tokens."""
    tool = next(a.name for a in schema.actions() if a.operation_id == "repos/get")
    given = {"owner": "octocat", "repo": "Hello-World"}
    options = CallOptions(base_url=url)
    whole = call(schema, tool, given, options, environ={})
    cut = call(schema, tool, {**given, FIELDS_ARG: fields}, options, environ={})
    assert whole.ok and cut.ok, (whole.error, cut.error)
    return [text_content(envelope(r, framed=True)) for r in (whole, cut)]


def synced(path: Path, folder: Path) -> Any:
    from appctl.contract.io import load_schema
    from appctl.sync import OpenAPI, run

    run(OpenAPI(str(path)), app_dir=folder / ".appctl")
    return load_schema(folder / ".appctl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fields", default="full_name,description,stargazers_count")
    parser.add_argument("--cost-specs", default="github,stripe", help="of github,stripe,graph")
    args = parser.parse_args()
    if not SPEC.exists():
        print(f"error: {SPEC} is missing: run scripts/setup", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from openapi_sync import SPECS

    repository = repository_example(json.loads(SPEC.read_text(encoding="utf-8")))
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    with tempfile.TemporaryDirectory() as tmp, serving(json.dumps(repository).encode()) as url:
        folder = Path(tmp)
        texts = result_tokens(synced(SPEC, folder / "github"), url, fields, folder)
        full, shaped = tokens(texts, folder)
        print(f"source: {SPEC.relative_to(ROOT)} components/examples/{EXAMPLE}")
        print(f"repos/get result (MCP text content, framed), fields={','.join(fields)}")
        print(f"  without fields: {full:>8,} tokens ({len(texts[0]):,} characters)")
        print(f"  with fields:    {shaped:>8,} tokens ({len(texts[1]):,} characters)")
        print(f"  ratio with/without: {shaped / full:.3f} ({full / shaped:.1f}x fewer)")
        for key in [k.strip() for k in args.cost_specs.split(",") if k.strip()]:
            spec = SPECS[key]
            schema = synced(spec.locate(), folder / key)
            taking, count, (t_with, t_without, g_with, g_without) = offer_cost(schema, folder)
            print(f"{spec.label}: fields offered on {taking:,} of {count:,} tools")
            for label, before, after in (
                ("tools/list", t_without, t_with),
                ("guide", g_without, g_with),
            ):
                print(f"  {label:<11} {before:,} -> {after:,} tokens ({after / before:.3f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
