"""A Django project's models (what ``probes/django_models.py`` reports) → the contract a
database sync makes, run by the SQL executor against the database the settings name.

The database itself is reflected (``sync/db``: its real types, keys and constraints are what
the SQL executor works with), restricted to the models' tables; then what the ORM knows and
the database does not is laid over it: ``choices`` become an ``enum`` (labels in the
description), ``help_text`` the column's description, the model's own docstring the table's,
and a ``ForeignKey`` without a constraint in the database (``db_constraint=False``, MyISAM) a
relation. The contract is then built by ``sync/db/build.py``, as ``appctl sync --db`` builds
it: one resource per model, its password an ``env:`` reference, never a value.

Which models: every model ``apps.get_models()`` lists (abstract models are not there, nor the
tables Django makes for many-to-many fields), less proxy models (their rows are their
concrete model's) and the models of ``django.contrib`` apps (users, permissions, sessions:
Django's own, left out unless ``--include`` names their table). An unmanaged model is kept
when its table exists, and left out with a warning when it does not, like a managed model
whose migration has not run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic import Field as PField

from appctl.errors import Diagnostic, SourceError, UsageError
from appctl.sync.db.facts import ColumnFacts, RelationFacts, TableFacts

ENGINES = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql",
    "django.db.backends.postgresql_psycopg2": "postgresql",
    "django.db.backends.mysql": "mysql",
    "django.contrib.gis.db.backends.postgis": "postgresql",
    "django.contrib.gis.db.backends.spatialite": "sqlite",
    "django.contrib.gis.db.backends.mysql": "mysql",
}


class _Probed(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FieldRelation(_Probed):
    table: str
    column: str
    model: str = ""


class ModelField(_Probed):
    name: str
    column: str
    type: str = ""
    null: bool = False
    primary_key: bool = False
    unique: bool = False
    help_text: str = ""
    choices: list[tuple[Any, str]] | None = None
    relation: FieldRelation | None = None


class ModelFacts(_Probed):
    label: str  # app_label.ModelName
    db_table: str
    managed: bool = True
    proxy: bool = False
    contrib: bool = False
    doc: str = ""
    fields: list[ModelField] = PField(default_factory=list)


class DatabaseSettings(_Probed):
    engine: str
    name: str = ""
    host: str = ""
    port: str = ""
    user: str = ""
    password: SecretStr = SecretStr("")
    options: list[str] = PField(default_factory=list)


class ModelsProbe(_Probed):
    version: str = ""
    settings: str
    database: DatabaseSettings
    models: list[ModelFacts]


def read_probe(found: Mapping[str, Any]) -> ModelsProbe:
    try:
        return ModelsProbe.model_validate(found)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SourceError(
            f"the models read from the Django project are not what appctl expects: {where}: "
            f"{first['msg']}",
            suggestion="This is a bug in appctl's Django probe for this Django version; "
            "please report it with the version.",
        ) from None


def database_dsn(database: DatabaseSettings, *, project: Path) -> str:
    """``DATABASES['default']`` as a DSN ``sync/db`` reads (a SQLite file's path; else a
    URL, holding the settings' password for this sync only)."""
    import sqlalchemy as sa

    family = ENGINES.get(database.engine)
    if family is None:
        raise UsageError(
            f"DATABASES['default'] uses {database.engine or 'no ENGINE'}, a database appctl "
            "does not run",
            suggestion="appctl runs SQLite, PostgreSQL and MariaDB/MySQL databases.",
        )
    if not database.name or database.name == ":memory:" or "mode=memory" in database.name:
        raise UsageError(
            "DATABASES['default'] is an in-memory database: it has no tables to sync",
            suggestion="Point the settings at a database file or server.",
        )
    if family == "sqlite":
        path = Path(database.name).expanduser()
        return str(path if path.is_absolute() else project / path)
    url = sa.engine.URL.create(
        family,
        username=database.user or None,
        password=database.password.get_secret_value() or None,
        host=database.host or None,
        port=int(database.port) if database.port.isdigit() else None,
        database=database.name,
    )
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Chosen:
    models: dict[str, ModelFacts]  # table → the model whose facts it takes
    left_out: tuple[str, ...]  # labels of models --include/--exclude left out
    notes: tuple[str, ...]


def choose_models(
    probe: ModelsProbe, *, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Chosen:
    """The models whose tables are synced (see the module docstring), by table."""
    chosen: dict[str, ModelFacts] = {}
    proxies: list[str] = []
    contrib: list[str] = []
    left_out: list[str] = []
    for model in probe.models:
        if model.proxy:
            proxies.append(model.label)
        elif not _matches(model.db_table, include, exclude):
            left_out.append(model.label)
        elif model.contrib and not _named(model.db_table, include):
            contrib.append(model.db_table)
        else:
            chosen.setdefault(model.db_table, model)
    notes = []
    if proxies:
        notes.append(f"proxy models use their concrete model's table: {', '.join(sorted(proxies))}")
    if contrib:
        notes.append(
            "the tables of Django's own apps are left out (--include TABLE adds one): "
            + ", ".join(sorted(contrib))
        )
    return Chosen(chosen, tuple(left_out), tuple(notes))


def _named(table: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(table.lower(), p.lower()) for p in patterns)


def _matches(table: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    return not _named(table, exclude) and (not include or _named(table, include))


def table_patterns(tables: Sequence[str]) -> list[str]:
    """Each table name as an fnmatch pattern that matches only it."""
    return ["".join(f"[{c}]" if c in "*?[]" else c for c in table) for table in sorted(tables)]


def missing_tables(chosen: Chosen, found: Sequence[TableFacts]) -> list[Diagnostic]:
    """A warning per chosen model whose table the database does not have."""
    present = {t.name for t in found}
    out = []
    for table, model in sorted(chosen.models.items()):
        if table in present:
            continue
        why = (
            "an unmanaged model's table, which Django does not create"
            if not model.managed
            else "run `manage.py migrate`"
        )
        out.append(
            Diagnostic(f"{model.label}: its table {table} is not in the database ({why}): left out")
        )
    return out


def overlay(table: TableFacts, model: ModelFacts) -> TableFacts:
    """The reflected table with what the ORM knows and the database does not."""
    fields = {f.column: f for f in model.fields}
    columns = [_column(c, fields.get(c.name)) for c in table.columns]
    relations = list(table.relations)
    related = {tuple(r.columns) for r in relations}
    for field in model.fields:
        target = field.relation
        if target is not None and (field.column,) not in related:
            relations.append(
                RelationFacts([field.column], target.table, None, target.table, [target.column])
            )
    comment = model.doc.strip() or table.comment
    return dataclasses.replace(table, comment=comment, columns=columns, relations=relations)


def _column(column: ColumnFacts, field: ModelField | None) -> ColumnFacts:
    if field is None:
        return column
    parts = [field.help_text.strip()] if field.help_text.strip() else []
    schema = column.schema_
    if field.choices:
        values = [value for value, _ in field.choices]
        if _fits(values, schema):
            schema = {**schema, "enum": values}
        labels = [f"{value} ({label})" for value, label in field.choices if str(value) != label]
        if labels:
            parts.append("Choices: " + ", ".join(labels) + ".")
    comment = " ".join(parts) or column.comment
    if comment == column.comment and schema is column.schema_:
        return column
    return dataclasses.replace(column, comment=comment, schema_=schema)


def _fits(values: list[Any], schema: Mapping[str, Any]) -> bool:
    """Whether every choice is a value of the column's JSON type (a choice list on a field
    the database stores differently is left as a description)."""
    kind = schema.get("type")
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    check = checks.get(kind) if isinstance(kind, str) else None
    return check is not None and all(check(v) for v in values)
