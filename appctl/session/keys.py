"""The key continuations are signed with (``execute/continuation.py``), found at the edge.

config.yaml's ``cursors.key`` (an ``env:NAME`` reference: what several servers behind one
load balancer share), else ``.appctl/cursor.key``: 32 random bytes in hex, created on first
use with permissions 0600 and listed in ``.appctl/.gitignore`` so it is never committed. A
key file others may read is refused (anyone who reads it can forge cursors). When the app
dir cannot be written, the process's own key serves (its handles do not outlive it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from appctl.config import CursorSettings
from appctl.errors import UsageError
from appctl.execute.continuation import MIN_KEY_BYTES, Sealer, process_sealer

KEY_FILE = "cursor.key"
IGNORE_FILE = ".gitignore"


def load_sealer(app_dir: Path, settings: CursorSettings, environ: Mapping[str, str]) -> Sealer:
    if settings.key is not None:
        name = settings.key[4:]
        value = environ.get(name, "")
        if len(value.encode("utf-8")) < MIN_KEY_BYTES:
            raise UsageError(
                f"cursors.key in config.yaml names {name}, which is "
                + ("not set" if not value else f"shorter than {MIN_KEY_BYTES} bytes"),
                suggestion=f"Set {name} to a random secret (e.g. `openssl rand -hex 32`), the "
                "same on every server that serves this app, or remove cursors.key to use "
                ".appctl/cursor.key.",
            )
        return Sealer(value.encode("utf-8"), ttl=settings.ttl)
    path = app_dir / KEY_FILE
    try:  # a key file that is there is checked now: a bad one stops the command
        return Sealer(_read(path), ttl=settings.ttl)
    except FileNotFoundError:
        return Sealer(ttl=settings.ttl, source=lambda: _make(app_dir))


def _make(app_dir: Path) -> bytes:
    """Create the key file (when first needed), or read the one another process made."""
    path = app_dir / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_made(path)
    except OSError:  # a read-only app dir: this process's key
        return process_sealer().key
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    _ignore(app_dir)
    return _read_made(path)


def _read_made(path: Path) -> bytes:
    try:
        return _read(path)
    except (OSError, UsageError):  # changed under us: never fail a call for it
        return process_sealer().key


def _read(path: Path) -> bytes:
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise UsageError(
            f"{path} may be read by other users, who could forge appctl's cursors with it",
            suggestion=f"Run `chmod 600 {path}` (or delete it: appctl makes a new one).",
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"{path} does not hold a key appctl made (expected {2 * 32} hex digits)",
            suggestion="Delete it: appctl makes a new one on the next call.",
        )
    return key


def _ignore(app_dir: Path) -> None:
    """List the key file in the app dir's .gitignore (made, or added to)."""
    path = app_dir / IGNORE_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except OSError:
        return
    if KEY_FILE in (line.strip() for line in lines):
        return
    text = "\n".join([*lines, KEY_FILE]) + "\n"
    with contextlib.suppress(OSError):  # best effort: the key works either way
        path.write_text(text, encoding="utf-8")
