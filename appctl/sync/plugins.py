"""Third-party sources as plugins: the interface a plugin implements, and how appctl finds,
loads and runs one (``appctl sync --source NAME --option KEY=VALUE``, ``appctl sources``).

A plugin is a distribution that declares an entry point in the group ``appctl.sources``::

    [project.entry-points."appctl.sources"]
    csv = "appctl_source_csv:CsvSource"

The entry point names a class (made with no arguments) or an object with the attributes of
``SourcePlugin``: a ``name``, a one-line ``summary``, the ``options`` it takes (each declared
with its kind, so appctl parses and checks ``--option KEY=VALUE`` before the plugin runs) and
``build(options, *, environ) -> (Contract, diagnostics)``. The contract's ``source`` is
recorded as ``kind: plugin`` and ``format: <name>``; everything after the build (overrides,
the consumer check, atomic writes, ``--check`` drift) is the sync use case's, as for the
built-in sources. docs/plugins.md describes the interface with the example in
``examples/appctl-source-csv``.

Entry points are listed from the installed distributions' metadata without importing them;
a plugin is imported only when it is chosen (or listed with its summary by
``appctl sources``). A plugin that fails to import, is not a ``SourcePlugin``, raises, or
returns something other than a contract is a ``SourceError`` naming the plugin and its
distribution, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from appctl.errors import AppctlError, Diagnostic, SourceError, UsageError, did_you_mean
from appctl.sync.source import BuildContext, Built

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from appctl.contract.models import Contract

GROUP = "appctl.sources"
OptionType = Literal["text", "integer", "boolean"]
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class PluginOption:
    """One option a plugin takes, given as ``--option NAME=VALUE`` (repeated for each)."""

    name: str
    help: str
    type: OptionType = "text"
    required: bool = False
    multiple: bool = False  # given more than once: a tuple of values
    choices: tuple[str, ...] = ()  # text: the values allowed (none: any)


@runtime_checkable
class SourcePlugin(Protocol):
    """What an ``appctl.sources`` entry point provides."""

    name: str
    summary: str
    options: Sequence[PluginOption]

    def build(
        self, options: Mapping[str, Any], *, environ: Mapping[str, str]
    ) -> tuple[Contract, Sequence[Diagnostic]]:
        """Read the source (the only I/O) and return its contract and any warnings.
        ``options``: each declared option given, parsed to its type (``multiple``: a tuple);
        ``environ``: where credentials are read. Raise ``appctl.errors.SourceError`` (or any
        ``AppctlError``) with a suggestion when the source cannot be read."""
        ...


@dataclass(frozen=True, slots=True)
class Installed:
    """An entry point of the group, before it is imported."""

    name: str
    distribution: str
    version: str
    target: str  # module:attribute
    entry: EntryPoint


def installed() -> list[Installed]:
    """Every installed plugin, by name (metadata only: nothing is imported)."""
    from importlib.metadata import entry_points

    found = []
    for entry in entry_points(group=GROUP):
        dist = entry.dist
        found.append(
            Installed(
                name=entry.name,
                distribution=dist.name if dist is not None else "?",
                version=dist.version if dist is not None else "?",
                target=entry.value,
                entry=entry,
            )
        )
    return sorted(found, key=lambda p: (p.name, p.distribution))


def find(name: str) -> Installed:
    """The one installed plugin called ``name``; a UsageError naming the ones there are."""
    plugins = installed()
    matching = [p for p in plugins if p.name == name]
    if len(matching) == 1:
        return matching[0]
    if matching:
        dists = ", ".join(f"{p.distribution} {p.version}" for p in matching)
        raise UsageError(
            f"source plugin {name!r} is installed by more than one distribution: {dists}",
            suggestion="Uninstall all but one of them.",
        )
    names = [p.name for p in plugins]
    builtin = _builtin_flag(name)
    if builtin:
        raise UsageError(
            f"{name!r} is a built-in source, not a plugin",
            suggestion=f"Use `appctl sync {builtin} ...`.",
        )
    raise UsageError(
        f"no source plugin called {name!r} is installed{did_you_mean(name, names)}",
        suggestion=(
            f"Installed plugins: {', '.join(names)}." if names else "No plugin is installed."
        )
        + f" A plugin is a distribution with an entry point in the {GROUP!r} group "
        "(`appctl sources` lists them).",
    )


def _builtin_flag(name: str) -> str | None:
    from appctl.sync.sources import SOURCES

    return next((e.flag for e in SOURCES if e.name == name and e.name != "source"), None)


def load(plugin: Installed) -> SourcePlugin:
    """Import the plugin and check that it is one; a SourceError naming it otherwise."""
    try:
        loaded = plugin.entry.load()
        made = loaded() if isinstance(loaded, type) else loaded
    except Exception as exc:  # a plugin's import can raise anything: name it
        raise SourceError(
            f"source plugin {_who(plugin)} failed to load: {type(exc).__name__}: {exc}",
            suggestion=f"Check that {plugin.distribution} is installed completely and works "
            f"with this Python (it points at {plugin.target}); reinstall or uninstall it.",
        ) from exc
    missing = [a for a in ("name", "summary", "options", "build") if not hasattr(made, a)]
    if missing or not callable(getattr(made, "build", None)):
        raise SourceError(
            f"source plugin {_who(plugin)} is not a source plugin: {plugin.target} has no "
            f"{', '.join(missing) or 'callable build'}",
            suggestion="A plugin provides name, summary, options and build(options, *, "
            "environ) (appctl.sync.plugins.SourcePlugin); report it to its authors.",
        )
    return made  # type: ignore[no-any-return]


def _who(plugin: Installed) -> str:
    return f"{plugin.name!r} ({plugin.distribution} {plugin.version})"


def parse_options(plugin: SourcePlugin, given: Sequence[str], *, who: str) -> dict[str, Any]:
    """``KEY=VALUE`` strings → the options the plugin declares, each parsed to its type; a
    UsageError for an unknown, repeated, missing or ill-typed option."""
    declared = {o.name: o for o in plugin.options}
    values: dict[str, Any] = {}
    for item in given:
        key, sep, raw = item.partition("=")
        key = key.strip()
        option = declared.get(key)
        if not sep or option is None:
            takes = ", ".join(declared) or "no options"
            raise UsageError(
                f"source plugin {who} takes no option {key!r}."
                + (did_you_mean(key, declared) if sep else f" Give KEY=VALUE, not {item!r}."),
                suggestion=f"It takes: {takes} (`appctl -v sources` describes them).",
            )
        value = _typed(option, raw, who=who)
        if option.multiple:
            values[key] = (*values.get(key, ()), value)
        elif key in values:
            raise UsageError(
                f"source plugin {who}: option {key!r} given twice",
                suggestion="Give it once.",
            )
        else:
            values[key] = value
    missing = [o.name for o in plugin.options if o.required and o.name not in values]
    if missing:
        raise UsageError(
            f"source plugin {who} needs {', '.join(missing)}",
            suggestion="e.g. " + " ".join(f"--option {m}=..." for m in missing),
        )
    return values


def _typed(option: PluginOption, raw: str, *, who: str) -> Any:
    where = f"source plugin {who}: option {option.name}"
    if option.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{where} takes a whole number, not {raw!r}") from None
    if option.type == "boolean":
        if raw.lower() in _TRUE + _FALSE:
            return raw.lower() in _TRUE
        raise UsageError(f"{where} takes true or false, not {raw!r}")
    if option.choices and raw not in option.choices:
        raise UsageError(
            f"{where} takes one of {', '.join(option.choices)}, not {raw!r}"
            + did_you_mean(raw, option.choices)
        )
    return raw


@dataclass(frozen=True, slots=True)
class Plugin:
    """A sync source made by an installed plugin: ``name`` and its ``--option`` strings."""

    name: str
    _: KW_ONLY
    options: tuple[str, ...] = ()

    def build(self, context: BuildContext) -> Built:
        found = find(self.name)
        plugin = load(found)
        who = _who(found)
        values = parse_options(plugin, self.options, who=who)
        environ = context.environ if context.environ is not None else {}
        try:
            result = plugin.build(values, environ=environ)
        except AppctlError as exc:  # the plugin's own error: say whose it is
            exc.message = f"source plugin {who}: {exc.message}"
            raise
        except Exception as exc:  # a plugin's bug: name it, no traceback
            raise SourceError(
                f"source plugin {who} failed: {type(exc).__name__}: {exc}",
                suggestion=f"Check the options given; if they are right, this is a bug in "
                f"{found.distribution}: report it to its authors.",
            ) from exc
        schema, diagnostics = _checked(result, who=who)
        return _built(schema, diagnostics, plugin_name=self.name, context=context)


def _checked(result: Any, *, who: str) -> tuple[Contract, tuple[Diagnostic, ...]]:
    from appctl.contract.models import Contract

    ok = isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Contract)
    diagnostics = tuple(result[1]) if ok else ()
    if not ok or not all(isinstance(d, Diagnostic) for d in diagnostics):
        raise SourceError(
            f"source plugin {who} returned {type(result).__name__}, not (Contract, "
            "[Diagnostic, ...])",
            suggestion="This is a bug in the plugin: report it to its authors.",
        )
    return result[0], diagnostics


def _built(
    schema: Contract,
    diagnostics: tuple[Diagnostic, ...],
    *,
    plugin_name: str,
    context: BuildContext,
) -> Built:
    """The plugin's contract as sync takes it: revalidated (a plugin may have built its
    models without validation), recorded as a plugin source, filtered by --include and
    --exclude (tool names, resources, tags)."""
    from pydantic import ValidationError

    from appctl.contract.models import Contract
    from appctl.sync.synced import Synced

    try:
        schema = Contract.model_validate(schema.model_dump(by_alias=True))
    except ValidationError as exc:
        raise SourceError(
            f"source plugin {plugin_name!r} built an invalid contract: "
            f"{exc.errors()[0]['msg']} at {'/'.join(map(str, exc.errors()[0]['loc']))}",
            suggestion="This is a bug in the plugin: report it to its authors.",
        ) from exc
    source = schema.source.model_copy(update={"kind": "plugin", "format": plugin_name})
    total = len(schema.actions())
    kept = _filtered(schema, include=context.include, exclude=context.exclude)
    kept = kept.model_copy(update={"source": source})
    return Built(Synced(schema=kept), diagnostics, total, total - len(kept.actions()), "operation")


def _filtered(schema: Contract, *, include: Sequence[str], exclude: Sequence[str]) -> Contract:
    if not include and not exclude:
        return schema
    from appctl.contract.auth import applies

    resources = []
    for resource in schema.resources:
        actions = [
            a
            for a in resource.actions
            if (not include or applies(list(include), a, resource.name))
            and not applies(list(exclude), a, resource.name)
        ]
        if actions:
            resources.append(resource.model_copy(update={"actions": actions}))
    return schema.model_copy(update={"resources": resources})
