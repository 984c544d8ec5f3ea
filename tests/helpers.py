"""Build small OpenAPI documents in tests and sync them without touching the disk."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from appctl.sync.openapi.load import Loaded
from appctl.sync.openapi.parse import SyncOptions, SyncResult, build_contract


def loaded(doc: Any, *, base: str = "/tmp/spec.json") -> Loaded:
    raw = orjson.dumps(doc)
    return Loaded(
        document=doc,
        sha256=hashlib.sha256(raw).hexdigest(),
        location="spec.json",
        base=base,
        is_url=False,
    )


def sync_doc(doc: dict[str, Any], **options: Any) -> SyncResult:
    return build_contract(loaded(doc), SyncOptions(**options))


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}
