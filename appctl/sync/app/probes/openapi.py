"""Probe: the OpenAPI document a Python web app's own framework generates. Stdlib only.

``python openapi.py module:attribute`` imports the app and asks its framework for the
document: FastAPI ``app.openapi()``, Litestar ``app.openapi_schema``, Django Ninja
``api.get_openapi_schema()``, APIFlask ``app.spec``, flask-smorest ``Api.spec``, Starlette a
``SchemaGenerator`` in the app's module. Prints (after the marker) ``{"framework", "version",
"document"}``; ``document`` is null for a framework without a generator of its own (plain
Flask), with ``reason`` saying so. A Django project (a ``manage.py`` here or
``$DJANGO_SETTINGS_MODULE``) is set up before the import, as ``manage.py`` would.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _appctl_probe import Failure, class_names, import_target, main, raised, version_of

SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


def probe(args):
    if len(args) != 1 or ":" not in args[0]:
        raise Failure("usage", "expected one module:attribute")
    django_setup()
    module, app = import_target(args[0])
    kinds = class_names(app)
    for name, reader in READERS:
        if any(k.startswith(name) for k in kinds):
            return reader(app, module)
    raise Failure(
        "unsupported",
        f"{args[0]} is a {kinds[0]}, not an app of a framework appctl reads",
        found=kinds[0],
    )


def django_setup():
    """Set Django up when this is a Django project, as its manage.py would."""
    name = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not name and os.path.isfile("manage.py"):
        with open("manage.py", encoding="utf-8", errors="replace") as file:
            found = SETTINGS.search(file.read())
        name = found.group(1) if found else None
    if not name:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = name
    try:
        import django

        django.setup()
    except ModuleNotFoundError as exc:
        raise Failure(**raised("missing_module", exc)) from None
    except BaseException as exc:
        raise Failure(**raised("raised", exc, settings=name)) from None


def generated(framework, distribution, make, **facts):
    """``make()``'s document, or a report that the framework's generator raised."""
    try:
        document = make()
    except BaseException as exc:
        raise Failure(**raised("generator", exc, framework=framework)) from None
    return dict(facts, framework=framework, version=version_of(distribution), document=document)


def fastapi(app, module):
    def make():
        document = dict(app.openapi())
        root = getattr(app, "root_path", "") or ""
        if root and not document.get("servers"):
            document["servers"] = [{"url": root}]
        return document

    return generated("fastapi", "fastapi", make)


def starlette(app, module):
    from starlette.schemas import BaseSchemaGenerator

    found = [v for v in vars(module).values() if isinstance(v, BaseSchemaGenerator)]
    if not found:
        raise Failure(
            "no_generator",
            f"Starlette has no OpenAPI generator of its own, and {module.__name__} holds no "
            "starlette.schemas.SchemaGenerator",
            framework="starlette",
        )
    return generated("starlette", "starlette", lambda: found[0].get_schema(app.routes))


def litestar(app, module):
    if getattr(app, "openapi_config", None) is None:
        raise Failure(
            "no_generator",
            "this Litestar app was made with openapi_config=None",
            framework="litestar",
        )
    return generated("litestar", "litestar", lambda: app.openapi_schema.to_schema())


def ninja(api, module):
    return generated("django-ninja", "django-ninja", lambda: dict(api.get_openapi_schema()))


def apiflask(app, module):
    def make():
        with app.app_context():
            return app._get_spec("json", force_update=True)

    return generated("apiflask", "apiflask", make)


def flask(app, module):
    apis = (getattr(app, "extensions", None) or {}).get("flask-smorest", {}).get("apis", {})
    if apis:
        api = next(iter(apis.values()))["ext_obj"]
        return smorest_api(api, module)
    return {
        "framework": "flask",
        "version": version_of("flask"),
        "document": None,
        "reason": "a Flask app without flask-smorest or APIFlask",
    }


def smorest_api(api, module):
    def make():
        with api._app.app_context():
            return api.spec.to_dict()

    return generated("flask-smorest", "flask-smorest", make)


READERS = (
    ("fastapi.", fastapi),
    ("litestar.", litestar),
    ("ninja.", ninja),
    ("apiflask.", apiflask),
    ("flask_smorest.", smorest_api),
    ("flask.", flask),
    ("starlette.", starlette),
)

if __name__ == "__main__":
    main(probe)
