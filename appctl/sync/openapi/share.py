"""Large argument schemas written inline → named definitions in the contract, referenced.

Schemas the document shares through ``$ref`` are definitions already (``jsonschema``). What
is left inline in the arguments is what the document itself repeats inline, operation by
operation: Microsoft Graph writes the same 40-value ``$orderby`` enum and the same date-time
``pattern`` into thousands of operations. An argument schema whose compact JSON is at least
``SHARE_MIN`` bytes and that two or more arguments repeat becomes one definition, and the
arguments refer to it:

- the name is ``<argument name>.<8 hex digits of the content's sha256>`` (the argument name
  most used with that content, ties broken alphabetically): deterministic, independent of
  operation order, unchanged while the content is, and never taken from another definition
  (on a clash the digest grows);
- the argument keeps, beside the ``$ref``, the keywords front ends read from an argument's
  own schema (``KEPT``: ``type``, ``format``, ``contentEncoding``, ``contentMediaType``), so
  the CLI's argument parsing, the request encoder and the binary-field handling see what they
  saw before. Under JSON Schema 2020-12 a ``$ref`` applies beside its siblings, so the
  argument accepts exactly the values it accepted before;
- small schemas stay inline (a definition would cost more than it saves), and so does a large
  one used once (moving it would save nothing and make the action harder to read);
- an array of binary items stays inline: the multipart encoder and the argument check read
  its ``items`` from the argument's own schema to send each item as a file part.

Tools are unchanged: a definition used once in a tool is put back in place of its reference
by the tool generator (``toolspec.inline_single_use``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from appctl.contract.models import Action, Field

SHARE_MIN = 120  # bytes of compact JSON
KEPT = ("type", "format", "contentEncoding", "contentMediaType")
DEF_PREFIX = "#/definitions/"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def share_large_schemas(actions: Iterable[Action], definitions: dict[str, Any]) -> int:
    """Move every inline argument schema of ``SHARE_MIN`` bytes or more that is used more than
    once into ``definitions`` (changed in place, like the fields); returns how many
    definitions were added."""
    users: dict[bytes, list[Field]] = {}
    for action in actions:
        for field in action.parameters:
            schema = field.schema_
            if "$ref" in schema or _binary_items(schema):
                continue
            key = orjson.dumps(schema)
            if len(key) >= SHARE_MIN:
                users.setdefault(key, []).append(field)
    added = 0
    for key in sorted(users):  # the order of the names taken on a clash: the content's
        fields = users[key]
        if len(fields) < 2:
            continue
        name = _name(key, fields, definitions)
        if name not in definitions:
            definitions[name] = orjson.loads(key)
            added += 1
        kept = {k: fields[0].schema_[k] for k in KEPT if k in fields[0].schema_}
        shared = {**kept, "$ref": DEF_PREFIX + name}
        for field in fields:
            field.schema_ = shared  # one dict for all: schemas are never changed in place
    return added


def share_response_schemas(actions: Iterable[Action], definitions: dict[str, Any]) -> int:
    """The same for response body schemas (documents that inline their entities repeat them
    in every operation that answers with one: GitHub's installations, tasks...). A shared
    body schema is replaced by its reference alone, named after its ``title`` (else
    ``response``); returns how many definitions were added."""
    users: dict[bytes, list[tuple[dict[str, Any], str]]] = {}
    for action in actions:
        for response in action.responses:
            for media, schema in response.content.items():
                if "$ref" in schema:
                    continue
                key = orjson.dumps(schema)
                if len(key) >= SHARE_MIN:
                    users.setdefault(key, []).append((response.content, media))
    added = 0
    for key in sorted(users):
        places = users[key]
        if len(places) < 2:
            continue
        title = places[0][0][places[0][1]].get("title")
        label = title if isinstance(title, str) and title.strip() else "response"
        name = _name(key, [label.strip().replace(" ", "_")], definitions)
        if name not in definitions:
            definitions[name] = orjson.loads(key)
            added += 1
        shared = {"$ref": DEF_PREFIX + name}
        for content, media in places:
            content[media] = shared  # one dict for all: schemas are never changed in place
    return added


def _name(key: bytes, fields: list[Field] | list[str], definitions: dict[str, Any]) -> str:
    counts = Counter(f if isinstance(f, str) else f.name for f in fields)
    label = min(counts, key=lambda n: (-counts[n], n))
    label = _NAME_CHARS.sub("_", label).strip("_") or "schema"
    digest = hashlib.sha256(key).hexdigest()
    for size in (8, 16, 64):
        name = f"{label}.{digest[:size]}"
        if name not in definitions or orjson.dumps(definitions[name]) == key:
            return name
    return f"{label}.{digest}.shared"  # a definition of the document took even that name


def _binary_items(schema: dict[str, Any]) -> bool:
    items = schema.get("items")
    return isinstance(items, dict) and (
        items.get("format") == "binary" or items.get("contentEncoding") == "base64"
    )
