"""An operation's method, path and operationId → its ``Safety`` and ``Provenance``.

Takes the method, the path template, the operationId and any ``x-appctl-safety``; returns a
``Judgement``. Pure. The rule, in order (the first that applies decides):

1. ``x-appctl-safety`` in the document (``read_only``, ``mutating``, ``destructive``) wins:
   provenance ``declared``.
2. The safe methods of RFC 9110 §9.2.1 (GET, HEAD, OPTIONS, TRACE) and QUERY (safe by its own
   definition) are ``read_only``; DELETE is ``destructive``: provenance ``declared``.
3. A POST, PUT or PATCH that names a bulk delete is ``destructive``, provenance ``inferred``:
   the words of its last two literal path segments, or of its operationId, hold both a bulk
   word (bulk, batch, mass) and a delete word (delete, remove, destroy, purge):
   ``/bulk_delete``, ``/batch/delete``, ``/items:batchDelete``, ``bulkDeleteFlows``.
4. A POST is ``read_only``, provenance ``inferred``, when neither its last path segment nor its
   operationId has a write word (create, update, apply, save, run, …: ``WRITE_WORDS``; in the
   operationId, words that also name a path segment, singular or plural, are nouns and do not
   count) and one of these holds:

   - its last path segment is a template-free read word (``READ_WORDS``: search, filter, count,
     query, list, lookup, validate, preview, paginate), alone (``/flows/filter``,
     ``/{index}/_search``) or as a custom method after ``:`` or ``.`` (``/users:search``,
     ``/conversations.list``), and some segment before it is neither a version nor ``api``
     nor ``rest`` (so ``/filter`` or ``/api/v3/filter`` alone, often "create a filter", is
     not enough);
   - the first word of its operationId (split at ``_ - .`` and camelCase) is a read word
     (``searchIssues``, ``count_flows_flows_count_post``).

5. Otherwise POST, PUT and PATCH are ``mutating``: provenance ``declared``.

Conservative on purpose, because a wrong ``read_only`` lets ``--read-only`` and the default
``allow`` policy run a call that changes data: plurals are nouns (``POST /lists`` creates a
list, ``POST /queries`` saves a query, ``/filters`` makes one); compound segments are not
split (``/search-indexes`` and ``/count-deployments`` both stay mutating, since a noun compound
and a verb phrase look alike); ``/validate-and-apply`` and ``validateAndApply`` have a write
word; a read word at the end of an operationId (``createSavedSearch``) is not its verb; a read
word before a template variable (``/search/{index}``) is not inferred. Other methods (PUT,
PATCH) are never inferred read-only. Whatever is inferred is shown by ``appctl sync`` and the
guide, and an override (``actions:`` or ``rules:`` in overrides.yaml) settles it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appctl.contract.kinds import Provenance, Safety

READ_METHODS = frozenset(("get", "head", "options", "trace", "query"))
READ_WORDS = frozenset(
    ("search", "filter", "count", "query", "list", "lookup", "validate", "preview", "paginate")
)
BULK_WORDS = frozenset(("bulk", "batch", "mass"))
DELETE_WORDS = frozenset(("delete", "remove", "destroy", "purge"))
WRITE_WORDS = DELETE_WORDS | frozenset(
    (
        "create",
        "add",
        "insert",
        "new",
        "update",
        "upsert",
        "set",
        "put",
        "patch",
        "edit",
        "modify",
        "replace",
        "save",
        "apply",
        "import",
        "upload",
        "send",
        "submit",
        "execute",
        "run",
        "trigger",
        "start",
        "stop",
        "cancel",
        "commit",
        "write",
        "publish",
        "register",
        "reset",
        "move",
        "copy",
        "merge",
        "approve",
        "reject",
        "archive",
        "restore",
        "sync",
        "clear",
    )
)
_NOT_A_COLLECTION = re.compile(r"^(v\d+(\.\d+)*|api|rest|\d+(\.\d+)*)$", re.IGNORECASE)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True, slots=True)
class Judgement:
    safety: Safety
    provenance: Provenance
    problem: str | None = None  # an x-appctl-safety that is not a Safety value


def words(text: str) -> list[str]:
    """``bulkDelete_flows-2`` → ``["bulk", "delete", "flows", "2"]``."""
    return [w.lower() for w in _WORD.findall(text)]


def _literal_segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s and "{" not in s]


def _last_segment(path: str) -> str:
    """The path's last segment, or "" when it holds a template variable."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "" if "{" in last else last


def _read_segment(path: str) -> bool:
    last = _last_segment(path)
    verb = re.split(r"[:.]", last)[-1].lstrip("_").lower()
    if verb not in READ_WORDS:
        return False
    bare = verb == last.lstrip("_").lower()  # /filter rather than /users:search
    before = path.rstrip("/").split("/")[:-1]
    return not bare or any(s and not _NOT_A_COLLECTION.match(s) for s in before)


def _bulk_delete(path: str, operation_id: str) -> bool:
    for text in (" ".join(_literal_segments(path)[-2:]), operation_id):
        found = set(words(text))
        if found & BULK_WORDS and found & DELETE_WORDS:
            return True
    return False


def _write_word(path: str, id_words: list[str]) -> bool:
    """A write word in the last path segment, or in the operationId other than as part of a
    path noun (``flow_run`` in FastAPI's ``filter_flow_run_input_flow_runs__id__input_filter``
    names the ``/flow_runs`` collection)."""
    if WRITE_WORDS & set(words(_last_segment(path))):
        return True
    nouns = set(words(" ".join(_literal_segments(path))))
    nouns |= {n[:-1] for n in nouns if n.endswith("s")}
    return bool(WRITE_WORDS & (set(id_words) - nouns))


def _read_operation(path: str, operation_id: str) -> bool:
    id_words = words(operation_id)
    if _write_word(path, id_words):
        return False
    return _read_segment(path) or bool(id_words and id_words[0] in READ_WORDS)


def judge(method: str, path: str, *, operation_id: str = "", declared: object = None) -> Judgement:
    """The operation's safety and where it comes from (the rule in the module docstring)."""
    problem = None
    if declared is not None:
        try:
            return Judgement(Safety(str(declared)), Provenance.DECLARED)
        except ValueError:
            problem = (
                f"x-appctl-safety {declared!r} is not one of "
                + ", ".join(s.value for s in Safety)
                + "; using the method's default"
            )
    method = method.lower()
    if method in READ_METHODS:
        return Judgement(Safety.READ_ONLY, Provenance.DECLARED, problem)
    if method == "delete":
        return Judgement(Safety.DESTRUCTIVE, Provenance.DECLARED, problem)
    if method in ("post", "put", "patch") and _bulk_delete(path, operation_id):
        return Judgement(Safety.DESTRUCTIVE, Provenance.INFERRED, problem)
    if method == "post" and _read_operation(path, operation_id):
        return Judgement(Safety.READ_ONLY, Provenance.INFERRED, problem)
    return Judgement(Safety.MUTATING, Provenance.DECLARED, problem)
