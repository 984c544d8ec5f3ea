"""Resolve ``$ref`` values: local pointers and relative files; never the network.

Takes the loaded root document; answers ``lookup(ref, base)`` with the target, the document
it lives in and its pointer. Relative files are read only from the root document's folder
tree (a spec must not make appctl read arbitrary local files), through the same loader and
budgets. A missing or refused target is a ``RefProblem`` that callers turn into a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

from appctl.errors import AppctlError
from appctl.sync.openapi.load import Budget, Loaded, is_url, load

MAX_HOPS = 64


class RefProblem(Exception):
    """A reference that cannot be followed; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    value: Any
    doc: str  # key of the document the value lives in
    pointer: str  # JSON pointer inside that document, "" for the root


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    if not pointer.startswith("/"):
        raise RefProblem(f"not a JSON pointer: {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *segments: str | int) -> str:
    return pointer + "".join("/" + escape(str(s)) for s in segments)


@dataclass
class Resolver:
    root: Loaded
    budget: Budget = field(default_factory=Budget)
    docs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.docs[self.root.base] = self.root.document
        self._root_dir = None if self.root.is_url else Path(self.root.base).parent

    def lookup(self, ref: str, base: str) -> Target:
        """The value ``ref`` points to, as seen from document ``base``."""
        if not isinstance(ref, str):
            raise RefProblem(f"$ref must be a string, got {type(ref).__name__}")
        location, _, fragment = ref.partition("#")
        doc_key = self._document_key(location, base) if location else base
        pointer = unquote(fragment)
        value = self.walk(self.docs[doc_key], pointer, ref)
        return Target(value=value, doc=doc_key, pointer=pointer)

    def follow(self, value: Any, base: str, pointer: str) -> Target:
        """Follow a chain of ``{"$ref": ...}`` objects to the first non-reference value."""
        target = Target(value=value, doc=base, pointer=pointer)
        seen: set[tuple[str, str]] = set()
        for _ in range(MAX_HOPS):
            if not (isinstance(target.value, dict) and "$ref" in target.value):
                return target
            key = (target.doc, target.pointer)
            if key in seen:
                raise RefProblem(f"circular $ref chain at {target.pointer or '/'}")
            seen.add(key)
            target = self.lookup(target.value["$ref"], target.doc)
        raise RefProblem(f"$ref chain longer than {MAX_HOPS} hops")

    def _document_key(self, location: str, base: str) -> str:
        if is_url(location) or is_url(base):
            absolute = urljoin(base, location) if is_url(base) else location
            raise RefProblem(f"network reference not fetched: {absolute}")
        path = (Path(base).parent / location).resolve()
        if self._root_dir is None or not path.is_relative_to(self._root_dir):
            raise RefProblem(f"file reference outside the document's folder not read: {location}")
        key = str(path)
        if key not in self.docs:
            if not path.is_file():
                raise RefProblem(f"referenced file not found: {location}")
            try:
                self.docs[key] = load(key, budget=self.budget).document
            except AppctlError as exc:
                raise RefProblem(f"cannot read referenced file {location}: {exc.message}") from None
        return key

    @staticmethod
    def walk(doc: Any, pointer: str, ref: str) -> Any:
        """The node at JSON ``pointer`` in ``doc``; ``RefProblem`` naming ``ref`` if none."""
        node = doc
        for segment in split_pointer(pointer):
            if isinstance(node, dict) and segment in node:
                node = node[segment]
            elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                node = node[int(segment)]
            else:
                raise RefProblem(f"$ref target does not exist: {ref}")
        return node
