"""The sources appctl syncs from, in one table: adding a source is one ``SourceEntry``.

Each source is a frozen value (what to read and the options only it takes) whose ``build``
imports its reader when it runs, so that reading this table costs nothing. ``appctl sync``
makes one option per entry (``--openapi SRC``, ``--db DSN``) and one per source option, and
refuses an option the chosen source does not take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from appctl.errors import UsageError
from appctl.sync.plugins import Plugin
from appctl.sync.source import BuildContext, Built, Source, SourceEntry, SourceOption


@dataclass(frozen=True, slots=True)
class OpenAPI:
    """An OpenAPI 3.x / Swagger 2.0 document: a file path or an http(s) URL."""

    location: str
    _: KW_ONLY
    base_url: str | None = None  # instead of the document's servers
    max_bytes: int | None = None  # the largest document read (default: load.Budget's)
    max_nodes: int | None = None  # the most YAML nodes after aliases

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.openapi.source import build

        return build(self, context)


@dataclass(frozen=True, slots=True)
class Database:
    """A database URL (PostgreSQL, MySQL/MariaDB) or a SQLite file. A password in the URL
    is used and never written down; ``password_env`` names where it is read from instead."""

    dsn: str
    _: KW_ONLY
    schemas: tuple[str, ...] = ()
    password_env: str | None = None

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.db.api import sync_db
        from appctl.sync.synced import Synced

        db = sync_db(
            self.dsn,
            root=context.app_dir.parent,
            schemas=self.schemas,
            include=context.include,
            exclude=context.exclude,
            password_env=self.password_env,
            environ=context.environ,
        )
        return Built(Synced(db=db), db.diagnostics, db.tables, db.filtered, "table")


@dataclass(frozen=True, slots=True)
class App:
    """A Python web app as ``module:attribute`` (FastAPI, Starlette, Litestar, Django Ninja,
    APIFlask, flask-smorest), imported in ``python`` (default: the active virtualenv's, else
    ``python3`` on PATH) from ``project`` (default: the working directory)."""

    target: str
    _: KW_ONLY
    base_url: str | None = None  # instead of the framework's servers
    python: str | None = None
    project: str | None = None
    timeout: int | None = None  # seconds the import and the generator may take

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.app.source import build_app

        return build_app(self, context)

    def watched_paths(self, context: BuildContext) -> list[Path] | None:
        """``sync --watch``: the project's ``*.py`` (the app's routes live there)."""
        from appctl.sync.watch import python_files

        return python_files(Path(self.project) if self.project else Path.cwd())


@dataclass(frozen=True, slots=True)
class Django:
    """A Django project by its settings module (Django REST framework: drf-spectacular when
    installed, else DRF's own schema generator; plain views from the URL patterns, inferred);
    ``python``/``project`` as for ``App``. ``models``: its models as database tables instead,
    run against the database the settings name (``password_env`` as for ``Database``)."""

    settings: str
    _: KW_ONLY
    base_url: str | None = None
    python: str | None = None
    project: str | None = None
    timeout: int | None = None
    models: bool = False
    password_env: str | None = None

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.app.source import build_django

        return build_django(self, context)

    def watched_paths(self, context: BuildContext) -> list[Path] | None:
        """``sync --watch``: the project's ``*.py`` for its views; None for ``--models``,
        whose tables change with migrations applied to the database (compared by build)."""
        if self.models:
            return None
        from appctl.sync.watch import python_files

        return python_files(Path(self.project) if self.project else Path.cwd())


_APP_OPTIONS = (
    SourceOption(
        "--python",
        "python",
        "--app/--django: the interpreter that imports the app (default: $VIRTUAL_ENV's, else "
        "python3 on PATH; never appctl's own).",
        metavar="PATH",
    ),
    SourceOption(
        "--project",
        "project",
        "--app/--django: the directory the app is imported from (default: the current one).",
        metavar="DIR",
    ),
    SourceOption(
        "--timeout",
        "timeout",
        "--app/--django: seconds importing the app and generating its document may take "
        "(default 60).",
        metavar="SECONDS",
        kind="count",
    ),
)
_PASSWORD_ENV = SourceOption(
    "--password-env",
    "password_env",
    "--db, --django --models: the variable the password is read from, now and at call time "
    "(else PGPASSWORD / MYSQL_PWD, then ~/.pgpass / ~/.my.cnf [client]); never written down.",
    metavar="NAME",
)
_MODELS = SourceOption(
    "--models",
    "models",
    "--django: sync the project's models as database tables (run against the database its "
    "settings name) instead of its views.",
    kind="flag",
)
_BASE_URL = SourceOption(
    "--base-url", "base_url", "Use this base URL instead of the document's servers."
)


@dataclass(frozen=True, slots=True)
class Supabase:
    """A Supabase project (or a PostgREST server): its URL; the keys come from ``env:``."""

    url: str
    _: KW_ONLY
    key_env: str = "SUPABASE_ANON_KEY"
    jwt_env: str | None = None
    allow_service_key: bool = False

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.supabase import build

        return build(self, context)


@dataclass(frozen=True, slots=True)
class Mcp:
    """An MCP server: a command line (stdio) or an http(s) URL (Streamable HTTP). Its
    credentials come from ``env:`` only: variables passed on by name (stdio), headers and a
    bearer token read from variables (http)."""

    server: str
    _: KW_ONLY
    pass_env: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    bearer_env: str | None = None

    def build(self, context: BuildContext) -> Built:
        from appctl.sync.mcp.source import build

        return build(self, context)


SOURCES: tuple[SourceEntry, ...] = (
    SourceEntry(
        name="openapi",
        flag="--openapi",
        metavar="SRC",
        help="OpenAPI 3.x / Swagger 2.0 document: a file path or an http(s) URL.",
        what="an OpenAPI document",
        example="appctl sync --openapi openapi.yaml",
        make=OpenAPI,
        options=(
            _BASE_URL,
            SourceOption(
                "--max-bytes", "max_bytes", "Largest document to read (bytes).", kind="count"
            ),
            SourceOption(
                "--max-nodes", "max_nodes", "Most YAML nodes after aliases.", kind="count"
            ),
        ),
    ),
    SourceEntry(
        name="db",
        flag="--db",
        metavar="DSN",
        help="A database: postgresql://user@host/db, mysql://user@host/db (MariaDB too), or a "
        "SQLite file. A password in it is used now and never written down.",
        what="a database",
        example="appctl sync --db app.db",
        make=Database,
        options=(
            SourceOption(
                "--schema",
                "schemas",
                "--db: the database schema(s) to read (default: the connection's). Repeatable.",
                metavar="NAME",
                multiple=True,
            ),
            _PASSWORD_ENV,
        ),
    ),
    SourceEntry(
        name="web_app",  # "app" is the CLI's context object
        flag="--app",
        metavar="MODULE:APP",
        help="A Python web app (FastAPI, Starlette, Litestar, Django Ninja, APIFlask, "
        "flask-smorest): its framework's own OpenAPI document, imported in the project's "
        "interpreter; a plain Flask app: its URL map (inferred).",
        what="a Python web app",
        example="appctl sync --app main:app",
        make=App,
        options=(_BASE_URL, *_APP_OPTIONS),
    ),
    SourceEntry(
        name="django",
        flag="--django",
        metavar="SETTINGS",
        help="A Django project by its settings module: DRF views from drf-spectacular when "
        "installed, else DRF's schema generator; plain views from its URL patterns "
        "(inferred); with --models, its models as tables.",
        what="a Django project",
        example="appctl sync --django mysite.settings",
        make=Django,
        options=(_BASE_URL, *_APP_OPTIONS, _MODELS, _PASSWORD_ENV),
    ),
    SourceEntry(
        name="supabase",
        flag="--supabase",
        metavar="URL",
        help="A Supabase project (https://REF.supabase.co) or PostgREST server: its tables, "
        "views and functions, with PostgREST's filters as typed arguments.",
        what="a Supabase project",
        example="appctl sync --supabase https://abcd.supabase.co",
        make=Supabase,
        options=(
            SourceOption(
                "--key-env",
                "key_env",
                "--supabase: the variable holding the project's anon key (default "
                "SUPABASE_ANON_KEY); read now and at call time, never written down.",
                metavar="NAME",
            ),
            SourceOption(
                "--jwt-env",
                "jwt_env",
                "--supabase: the variable holding a user's JWT, sent as the bearer so that "
                "row-level security applies to that user (default: the anon key).",
                metavar="NAME",
            ),
            SourceOption(
                "--allow-service-key",
                "allow_service_key",
                "--supabase: accept a service-role key in --key-env (it bypasses row-level "
                "security for every call).",
                kind="flag",
            ),
        ),
    ),
    SourceEntry(
        name="mcp",
        flag="--mcp",
        metavar="SERVER",
        help="An MCP server: a command line (run over stdio) or an http(s) URL (Streamable "
        "HTTP). Each of its tools becomes an action; safety from its annotations, never "
        "trusted to be read-only unless it says so.",
        what="an MCP server",
        example="appctl sync --mcp 'npx @modelcontextprotocol/server-everything'",
        make=Mcp,
        options=(
            SourceOption(
                "--pass-env",
                "pass_env",
                "--mcp (stdio): a variable passed on to the server (besides PATH, HOME, LANG), "
                "by name; its value is read at call time, never written down. Repeatable.",
                metavar="NAME",
                multiple=True,
            ),
            SourceOption(
                "--header",
                "headers",
                "--mcp (http): a header sent to the server, NAME=env:VARIABLE. Repeatable.",
                metavar="NAME=env:VAR",
                multiple=True,
            ),
            SourceOption(
                "--bearer-env",
                "bearer_env",
                "--mcp (http): the variable holding a token sent as Authorization: Bearer.",
                metavar="NAME",
            ),
        ),
    ),
    SourceEntry(
        name="source",
        flag="--source",
        metavar="NAME",
        help="An installed source plugin (`appctl sources` lists them), with its options "
        "given as --option KEY=VALUE.",
        what="a source plugin",
        example="appctl sync --source csv --option file=endpoints.csv",
        make=Plugin,
        options=(
            SourceOption(
                "--option",
                "options",
                "--source: one of the plugin's options, KEY=VALUE. Repeatable.",
                metavar="KEY=VALUE",
                multiple=True,
            ),
        ),
    ),
)


def source_options() -> list[SourceOption]:
    """Every source option once, in table order (a flag two sources share is listed once)."""
    seen: dict[str, SourceOption] = {}
    for entry in SOURCES:
        for option in entry.options:
            seen.setdefault(option.flag, option)
    return list(seen.values())


def make_source(given: Mapping[str, str], options: Mapping[str, object]) -> Source:
    """The one source named in ``given`` (entry name → value; unset ones absent), made with
    the ``options`` given (field → value; unset ones absent). A UsageError when not exactly
    one source is given, or an option does not apply to it."""
    chosen = [entry for entry in SOURCES if entry.name in given]
    if len(chosen) != 1:
        raise UsageError(
            f"give exactly one source: {_listed([f'{e.flag} {e.metavar}' for e in SOURCES])}",
            suggestion="e.g. " + ", or ".join(e.example for e in SOURCES),
        )
    entry = chosen[0]
    takes = {option.field for option in entry.options}
    foreign = [o.flag for o in source_options() if o.field in options and o.field not in takes]
    if foreign:
        takers = [e for e in SOURCES if any(o.flag in foreign for o in e.options)]
        one = len(foreign) == 1
        raise UsageError(
            f"{_listed(foreign, 'and')} {'applies' if one else 'apply'} to "
            f"{_listed([e.flag for e in takers])} only",
            suggestion=f"Drop {'it' if one else 'them'}, or sync "
            f"{_listed([e.what for e in takers])} instead.",
        )
    return entry.make(given[entry.name], **options)


def _listed(items: list[str], word: str = "or") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"
