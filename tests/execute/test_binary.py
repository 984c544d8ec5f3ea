"""Binary answers against real httpbin: a model gets their type, size and sha256, never the
bytes; ``appctl call`` saves them to a new 0600 file under the app dir and says where."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from appctl.cli.downloads import extension
from appctl.contract.io import load_schema
from appctl.execute.executor import CallOptions, call
from appctl.serve.mcp import envelope
from tests import runner


@pytest.fixture
def app_dir(httpbin_url: str, tmp_path: Path) -> Path:
    runner.invoke("sync", "--openapi", f"{httpbin_url}/spec.json", cwd=tmp_path)
    return tmp_path / ".appctl"


def test_a_model_gets_a_summary_and_the_bytes_travel_beside_it(
    httpbin_url: str, app_dir: Path
) -> None:
    schema = load_schema(app_dir)
    result = call(schema, "get_image_png", {}, CallOptions(base_url=httpbin_url), environ={})
    payload = result.payload
    assert result.ok and payload is not None and payload.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.data == {
        "content_type": "image/png",
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "note": "binary content not shown",
    }
    text = envelope(result).content[0].text  # what an MCP client's model reads
    dumped = result.model_dump_json()
    for shown in (text, dumped):
        assert "PNG" not in shown and "payload" not in shown and len(shown) < 400
    # JSON answers carry nothing beside them
    plain = call(schema, "get_json", {}, CallOptions(base_url=httpbin_url), environ={})
    assert plain.ok and plain.payload is None and isinstance(plain.data, dict)


def test_appctl_call_saves_binary_answers_under_the_app_dir(
    httpbin_url: str, app_dir: Path
) -> None:
    base = ("--base-url", httpbin_url)
    png = json.loads(
        runner.invoke("call", "get_image_png", "--json", *base, cwd=app_dir.parent).stdout
    )
    raw = runner.invoke("call", "get_bytes_n", "n=300", *base, cwd=app_dir.parent)
    saved = Path(png["data"]["file"])
    assert saved.parent == app_dir / "downloads" and saved.name.startswith("get_image_png-")
    assert saved.suffix == ".png" and stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == png["data"]["sha256"]
    assert png["notes"] == [f"saved {saved.stat().st_size:,} bytes to {saved}"]
    (bin_file,) = (app_dir / "downloads").glob("get_bytes_n-*")
    assert bin_file.suffix == ".bin" and bin_file.stat().st_size == 300
    assert str(bin_file) in raw.stdout and str(bin_file) in raw.stderr  # data and the note
    assert (app_dir / "downloads" / ".gitignore").read_text() == "*\n"
    again = json.loads(
        runner.invoke("call", "get_image_png", "--json", *base, cwd=app_dir.parent).stdout
    )
    assert Path(again["data"]["file"]) != saved and saved.exists()  # never overwritten


def test_extensions_come_from_the_content_type() -> None:
    assert extension("image/png") == ".png"
    assert extension("application/pdf; charset=binary") == ".pdf"
    assert extension("application/x-unknown-thing") == ".bin"
