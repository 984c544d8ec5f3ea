"""Error categories, diagnostics and the one table of suggestions.

Exception tree (only ``cli/`` turns these into colour and exit codes)::

    AppctlError                 category + message + suggestion (+ JSON pointer)
     ├── UsageError             bad flags or arguments                (usage)
     ├── SourceError            a spec or database could not be read  (source)
     │    ├── BudgetError       a source exceeds a size/node/depth budget (budget)
     │    └── StrictError       sync --strict refused the source; ``problems`` says where (source)
     ├── ContractError          .appctl/schema.json is missing or invalid (contract)
     ├── OverrideError          overrides.yaml is invalid or names what no longer exists (override)
     └── ProviderError          an LLM provider failed or refused a request           (provider)

Warnings that do not stop a run are ``Diagnostic`` values, collected and returned,
never raised.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    USAGE = "usage"
    SOURCE = "source"
    BUDGET = "budget"
    CONTRACT = "contract"
    OVERRIDE = "override"
    PROVIDER = "provider"
    INTERNAL = "internal"


SUGGESTIONS: dict[Category, str] = {
    Category.USAGE: "Run the command with --help to see its options.",
    Category.SOURCE: "Check that the path or URL points to an OpenAPI 3.x or Swagger 2.0 "
    "document in JSON or YAML.",
    Category.BUDGET: "Split the document, or raise the limit with the matching --max-* option "
    "if the source is trusted.",
    Category.CONTRACT: "Re-create it with `appctl sync`, or fix the hand edit it names "
    "(`appctl schema --json-schema` prints the schema editors can validate against).",
    Category.OVERRIDE: "Edit .appctl/overrides.yaml so it names actions and parameters that "
    "exist (`appctl tools --names` lists them).",
    Category.PROVIDER: "Check the provider profile (model, base_url, api_key) in "
    ".appctl/config.yaml and that the provider is reachable.",
    Category.INTERNAL: "This is a bug in appctl; please report it with the command you ran.",
}


class AppctlError(Exception):
    """An error with a category, a message and a suggestion the reader can act on."""

    category: Category = Category.INTERNAL

    def __init__(self, message: str, *, suggestion: str | None = None, pointer: str | None = None):
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion if suggestion is not None else SUGGESTIONS[self.category]
        self.pointer = pointer

    def __str__(self) -> str:
        where = f" (at {self.pointer})" if self.pointer else ""
        return f"{self.message}{where}"


class UsageError(AppctlError):
    category = Category.USAGE


class SourceError(AppctlError):
    category = Category.SOURCE


class BudgetError(SourceError):
    category = Category.BUDGET


class StrictError(SourceError):
    """``sync --strict`` refused the source: ``problems`` (errors with JSON pointers) say why."""

    def __init__(self, message: str, *, problems: tuple[Diagnostic, ...], suggestion: str):
        super().__init__(message, suggestion=suggestion)
        self.problems = problems


class ContractError(AppctlError):
    category = Category.CONTRACT


class OverrideError(AppctlError):
    category = Category.OVERRIDE


class ProviderError(AppctlError):
    """The LLM provider failed: unreachable, rejected the key or the request, or timed out."""

    category = Category.PROVIDER


REPAIR = "repair"  # the source was changed to make it valid
STRUCTURE = "structure"  # the document breaks the OpenAPI specification's structure


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning that did not stop the run; ``pointer`` is a JSON pointer into the source."""

    message: str
    pointer: str = ""
    level: str = "warning"
    kind: str = ""  # REPAIR or STRUCTURE: what ``sync --strict`` refuses

    def render(self) -> str:
        where = f"{self.pointer}: " if self.pointer else ""
        return f"{self.level}: {where}{self.message}"


def first_line(exc: BaseException) -> str:
    """An exception's message in one line, from the driver's own error when it wraps one
    (SQLAlchemy's ``.orig``); the exception's type when it says nothing."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """' Did you mean x?' for the closest candidate, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
