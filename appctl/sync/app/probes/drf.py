"""Probe: the OpenAPI document of a Django REST framework project. Stdlib only.

``python drf.py SETTINGS`` sets Django up with that settings module, as ``manage.py`` would,
and asks drf-spectacular for the document when it is installed, else DRF's own generator
(``rest_framework.schemas.openapi.SchemaGenerator``); either runs with its own AutoSchema as
the default schema class, for this run only. Prints (after the marker) ``{"framework",
"version", "document"}``; ``document`` is null for a project without DRF, with ``reason``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _appctl_probe import Failure, main, raised, version_of

SPECTACULAR = "drf_spectacular.openapi.AutoSchema"
DRF = "rest_framework.schemas.openapi.AutoSchema"


def probe(args):
    if len(args) != 1:
        raise Failure("usage", "expected one Django settings module")
    settings = setup(args[0])
    if "rest_framework" not in settings.INSTALLED_APPS:
        return {
            "framework": "django",
            "version": version_of("django"),
            "document": None,
            "reason": "a Django project without Django REST framework in INSTALLED_APPS",
        }
    try:
        from drf_spectacular.generators import SchemaGenerator
    except ModuleNotFoundError as exc:
        if exc.name != "drf_spectacular" and not str(exc.name).startswith("drf_spectacular."):
            raise Failure(**raised("missing_module", exc)) from None
        return generate(settings, "djangorestframework", DRF, drf_generator())
    return generate(settings, "drf-spectacular", SPECTACULAR, SchemaGenerator)


def setup(name):
    os.environ["DJANGO_SETTINGS_MODULE"] = name
    try:
        import django

        django.setup()
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (reading it imports the settings)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise Failure("not_found", f"no module named {exc.name!r}", module=exc.name) from None
        raise Failure(**raised("missing_module", exc)) from None
    except BaseException as exc:
        raise Failure(**raised("raised", exc)) from None
    return settings


def drf_generator():
    from rest_framework.schemas.openapi import SchemaGenerator

    return SchemaGenerator


def generate(settings, framework, schema_class, generator):
    from django.test.utils import override_settings

    given = dict(getattr(settings, "REST_FRAMEWORK", None) or {})
    stats = spectacular_stats() if framework == "drf-spectacular" else None
    try:
        with override_settings(REST_FRAMEWORK={**given, "DEFAULT_SCHEMA_CLASS": schema_class}):
            document = generator().get_schema(request=None, public=True)
    except BaseException as exc:
        raise Failure(**raised("generator", exc, framework=framework)) from None
    return {
        "framework": framework,
        "version": version_of(framework),
        "document": document,
        "warnings": said(stats),
    }


def spectacular_stats():
    """drf-spectacular's record of the warnings and errors it finds while generating."""
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    return GENERATOR_STATS


def said(stats):
    """What the generator warned about, each once, with paths relative to the project."""
    if stats is None:
        return []
    root = os.getcwd() + os.sep
    found = [*stats._error_cache, *stats._warn_cache]
    return [str(message).replace(root, "").strip() for message in found]


if __name__ == "__main__":
    main(probe)
