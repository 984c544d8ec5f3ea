"""Probe: a Django project's models (the ORM's metadata) and its default database, printed
as JSON after the marker. Stdlib only besides Django.

``python django_models.py mysite.settings`` sets Django up and reports, for every model of
``apps.get_models()`` (abstract models are never registered there; auto-created many-to-many
tables are left out by it too): its label, app, ``db_table``, whether it is managed, a proxy
or from a ``django.contrib`` app, its own docstring, and each concrete field with its column,
type, null, primary key, unique, choices, help_text and, for a foreign key, the table and
column it points at. ``database`` is ``DATABASES['default']``: engine, name, host, port, user
and the password, which appctl uses for this sync and never writes down.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _appctl_probe import Failure, main, raised, version_of
from drf import setup


def field_facts(field):
    out = {
        "name": field.name,
        "column": field.column,
        "type": type(field).__name__,
        "internal_type": field.get_internal_type(),
        "null": bool(field.null),
        "primary_key": bool(field.primary_key),
        "unique": bool(field.unique),
        "help_text": str(field.help_text or ""),
        "verbose_name": str(field.verbose_name or ""),
    }
    if field.choices:
        out["choices"] = [[value, str(label)] for value, label in flat_choices(field.choices)]
    related = field.related_model if field.is_relation and field.many_to_one else None
    if related is None and field.is_relation and field.one_to_one and field.concrete:
        related = field.related_model
    if related is not None:
        target = field.target_field
        out["relation"] = {
            "table": related._meta.db_table,
            "column": target.column,
            "model": related._meta.label,
        }
    return out


def flat_choices(choices):
    """(value, label) pairs, grouped choices flattened."""
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from flat_choices(label)
        else:
            yield value, label


def own_doc(model):
    doc = (model.__doc__ or "").strip()
    # Django writes "Name(field, field, ...)" when a model has no docstring of its own
    return "" if doc.startswith(f"{model.__name__}(") else doc


def model_facts(model):
    meta = model._meta
    return {
        "label": meta.label,
        "app": meta.app_label,
        "app_module": meta.app_config.name,
        "db_table": meta.db_table,
        "managed": bool(meta.managed),
        "proxy": bool(meta.proxy),
        "contrib": meta.app_config.name.startswith("django.contrib."),
        "doc": own_doc(model),
        "verbose_name": str(meta.verbose_name),
        "fields": [field_facts(f) for f in meta.local_concrete_fields],
    }


def database(settings):
    found = dict(settings.DATABASES.get("default") or {})
    name = found.get("NAME")
    return {
        "engine": str(found.get("ENGINE") or ""),
        "name": str(name) if name is not None else "",
        "host": str(found.get("HOST") or ""),
        "port": str(found.get("PORT") or ""),
        "user": str(found.get("USER") or ""),
        "password": str(found.get("PASSWORD") or ""),
        "options": sorted(str(k) for k in (found.get("OPTIONS") or {})),
    }


def probe(args):
    if len(args) != 1:
        raise Failure("usage", "expected one Django settings module")
    settings = setup(args[0])
    from django.apps import apps

    try:
        models = [model_facts(m) for m in apps.get_models()]
    except BaseException as exc:
        raise Failure(**raised("raised", exc, settings=args[0])) from None
    return {
        "framework": "django",
        "version": version_of("django"),
        "settings": args[0],
        "database": database(settings),
        "models": sorted(models, key=lambda m: m["label"]),
    }


if __name__ == "__main__":
    main(probe)
