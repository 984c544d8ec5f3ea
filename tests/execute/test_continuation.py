"""Signed continuations: forged, edited, cut, expired, another tool's or another argument
set's handles are refused with a message saying how to start over; the key file is 0600,
ignored by git, made once, and a readable one is refused."""

from __future__ import annotations

import base64
import json
import os
import random
import stat
from pathlib import Path

import pytest

from appctl.config import CursorSettings
from appctl.errors import UsageError
from appctl.execute.continuation import CursorError, Sealer, binding, process_sealer
from appctl.session.keys import KEY_FILE, load_sealer

KEY = bytes(range(32))
ARGS = {"order_by": "id", "limit": 10, "filter": {"name": "ü"}}


def _sealer(ttl: float = 60.0) -> Sealer:
    return Sealer(KEY, ttl=ttl)


def test_round_trip_binds_tool_and_arguments_not_the_cursor() -> None:
    token = _sealer().seal("list_pets", ARGS, {"after": [3, None]}, now=1000.0)
    again = {**ARGS, "cursor": token}  # the cursor argument itself is not bound
    assert _sealer().open("list_pets", again, token, now=1001.0) == {"after": [3, None]}
    reordered = dict(reversed(list(ARGS.items())))
    assert _sealer().open("list_pets", reordered, token, now=1001.0) == {"after": [3, None]}


@pytest.mark.parametrize(
    ("tool", "arguments", "now", "expected", "reason"),
    [
        ("get_pet", ARGS, 1001.0, "belongs to the tool 'list_pets'", "tool"),
        ("list_pets", {**ARGS, "limit": 11}, 1001.0, "issued for other arguments", "arguments"),
        ("list_pets", {"order_by": "id"}, 1001.0, "issued for other arguments", "arguments"),
        ("list_pets", ARGS, 1061.0, "expired 1 s ago", "expired"),
    ],
)
def test_misuse_is_refused_with_a_way_to_restart(
    tool: str, arguments: dict[str, object], now: float, expected: str, reason: str
) -> None:
    token = _sealer().seal("list_pets", ARGS, {"after": [3]}, now=1000.0)
    with pytest.raises(CursorError) as caught:
        _sealer().open(tool, arguments, token, now=now)
    assert expected in str(caught.value)
    assert caught.value.reason == reason
    assert "again without cursor" in str(caught.value)


def _edited(token: str, change: dict[str, object]) -> str:
    prefix, payload, mac = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(change)
    raw = json.dumps(body, separators=(",", ":")).encode()
    return ".".join((prefix, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), mac))


def test_tampered_truncated_and_foreign_tokens_are_not_believed() -> None:
    token = _sealer().seal("list_pets", ARGS, {"after": [3]}, now=1000.0)
    forged_state = _edited(token, {"s": {"after": [0]}})
    longer_life = _edited(token, {"e": 10**12})
    other_key = Sealer(b"k" * 32, ttl=60).seal("list_pets", ARGS, {"after": [3]}, now=1000.0)
    for bad in (
        forged_state,
        longer_life,
        token[:-1],
        token[: len(token) // 2],
        token + "A",
        other_key,
        "",
        "c1..",
        "c1.e30.",
        "c2" + token[2:],
        base64.b64encode(json.dumps({"after": [3]}).encode()).decode(),  # the old format
        "c1.ü.ü",
        "c1.\ud800.x",
    ):
        with pytest.raises(CursorError, match="not one appctl issued") as caught:
            _sealer().open("list_pets", ARGS, bad, now=1001.0)
        assert caught.value.reason == "forged"


def test_fuzzed_tokens_never_raise_anything_but_cursor_error() -> None:
    token = _sealer().seal("list_pets", ARGS, {"after": [3]}, now=1000.0)
    rng = random.Random(18)
    alphabet = "abcAB-_.=01\x00ü"
    for _ in range(2000):
        chars = list(token)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == token:
            continue
        with pytest.raises(CursorError):
            _sealer().open("list_pets", ARGS, mutated, now=1001.0)
    for value in (None, 3, ["c1"], {"c1": 1}, b"c1.a.b"):
        with pytest.raises(CursorError):
            _sealer().open("list_pets", ARGS, value, now=1001.0)  # type: ignore[arg-type]


def test_binding_is_canonical_and_short() -> None:
    assert binding({"a": 1, "b": [1, 2]}) == binding({"b": [1, 2], "a": 1, "cursor": "x"})
    assert binding({"a": 1}) != binding({"a": "1"})
    assert len(binding(ARGS)) == 16


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        Sealer(b"short")
    assert len(process_sealer().key) == 32
    assert process_sealer() is process_sealer()


def test_key_file_is_made_on_first_use_0600_and_ignored(tmp_path: Path) -> None:
    app = tmp_path / ".appctl"
    app.mkdir()
    sealer = load_sealer(app, CursorSettings(), {})
    assert not (app / KEY_FILE).exists()  # opening the app dir writes nothing
    token = sealer.seal("t", {}, {"n": 1})
    key = app / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (app / ".gitignore").read_text() == "cursor.key\n"
    again = load_sealer(app, CursorSettings(), {})  # the next process reads the same key
    assert again.open("t", {}, token) == {"n": 1}
    (app / ".gitignore").write_text("history.db\n")
    key.unlink()
    load_sealer(app, CursorSettings(), {}).seal("t", {}, {})
    assert (app / ".gitignore").read_text() == "history.db\ncursor.key\n"


def test_a_readable_or_foreign_key_file_is_refused(tmp_path: Path) -> None:
    key = tmp_path / KEY_FILE
    key.write_text("ab" * 32 + "\n")
    os.chmod(key, 0o644)
    with pytest.raises(UsageError, match="may be read by other users") as caught:
        load_sealer(tmp_path, CursorSettings(), {})
    assert "chmod 600" in (caught.value.suggestion or "")
    os.chmod(key, 0o600)
    key.write_text("not hex at all")
    with pytest.raises(UsageError, match="does not hold a key"):
        load_sealer(tmp_path, CursorSettings(), {})


def test_a_read_only_app_dir_uses_the_process_key(tmp_path: Path) -> None:
    app = tmp_path / "ro"
    app.mkdir()
    os.chmod(app, 0o500)
    try:
        sealer = load_sealer(app, CursorSettings(), {})
        token = sealer.seal("t", {}, {})
        if os.geteuid() != 0:  # root writes anyway
            assert not (app / KEY_FILE).exists()
            assert sealer.secret() == process_sealer().key
        assert sealer.open("t", {}, token) == {}
    finally:
        os.chmod(app, 0o700)


def test_a_shared_key_from_the_environment(tmp_path: Path) -> None:
    settings = CursorSettings(key="env:APPCTL_TEST_CURSOR_KEY", ttl=30)
    env = {"APPCTL_TEST_CURSOR_KEY": "s" * 40}
    one = load_sealer(tmp_path / "one", settings, env)
    two = load_sealer(tmp_path / "two", settings, env)  # another server, same secret
    assert two.open("t", {"a": 1}, one.seal("t", {"a": 1}, {"x": 2})) == {"x": 2}
    assert one.ttl == 30
    assert not (tmp_path / "one").exists()
    for environ in ({}, {"APPCTL_TEST_CURSOR_KEY": "short"}):
        with pytest.raises(UsageError, match="APPCTL_TEST_CURSOR_KEY") as caught:
            load_sealer(tmp_path, settings, environ)
        assert "openssl rand" in (caught.value.suggestion or "")


def test_config_takes_only_a_reference() -> None:
    with pytest.raises(ValueError, match="env:NAME reference"):
        CursorSettings(key="the-secret-itself")
    with pytest.raises(ValueError):
        CursorSettings(ttl=0)
