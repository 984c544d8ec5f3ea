"""Probe: a plain Flask app's URL map, printed as JSON after the result marker.

Run by path in the project's own interpreter (``appctl/sync/app/run.py``), standard library
only besides the app itself: ``python flask_routes.py module:attribute``. The attribute is a
Flask app, or a factory called without arguments (``create_app``). Every rule but the static
files' gives its path template (``/users/{id}``), methods (without HEAD and OPTIONS), its path
parameters with their converter's facts, and the view's docstrings (per method for a
``MethodView``).
"""

import inspect
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _appctl_probe import Failure, class_names, import_target, main, version_of

RULE_PART = re.compile(r"<(?:([^<>:]+):)?([A-Za-z_][A-Za-z0-9_]*)>")
KINDS = {
    "IntegerConverter": "int",
    "FloatConverter": "float",
    "PathConverter": "path",
    "UUIDConverter": "uuid",
    "UnicodeConverter": "string",
    "AnyConverter": "any",
}
IMPLIED = frozenset(("HEAD", "OPTIONS"))


def load(target):
    _, found = import_target(target)
    if not hasattr(found, "url_map") and callable(found):
        found = found()  # an app factory
    if not hasattr(found, "url_map") or not hasattr(found, "view_functions"):
        kind = class_names(found)[0]
        raise Failure("unsupported", f"{target} is a {kind}, not a Flask app", found=kind)
    return found


def parameter(name, converter):
    kind = KINDS.get(type(converter).__name__, "custom")
    out = {"name": name, "kind": kind, "regex": getattr(converter, "regex", "")}
    for key in ("min", "max", "signed", "fixed_digits"):
        if getattr(converter, key, None) is not None:
            out[key] = getattr(converter, key)
    if kind == "any":
        out["items"] = sorted(str(item) for item in getattr(converter, "items", ()))
    if kind == "custom":
        out["converter"] = type(converter).__name__
    return out


def docs(view, methods):
    view_class = getattr(view, "view_class", None)
    shared = inspect.getdoc(view_class or view) or ""
    out = {}
    for method in methods:
        handler = getattr(view_class, method.lower(), None) if view_class else None
        out[method] = (inspect.getdoc(handler) if handler else None) or shared
    return out


def routes(app):
    found, skipped = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            skipped.append({"path": rule.rule, "why": "static files"})
            continue
        if rule.redirect_to is not None or rule.host or rule.subdomain:
            why = "a redirect" if rule.redirect_to is not None else "host matching"
            skipped.append({"path": rule.rule, "why": why})
            continue
        view = app.view_functions.get(rule.endpoint)
        methods = sorted(m for m in (rule.methods or ()) if m not in IMPLIED)
        converters = getattr(rule, "_converters", {})
        found.append(
            {
                "path": RULE_PART.sub(lambda m: "{" + m.group(2) + "}", rule.rule),
                "rule": rule.rule,
                "name": rule.endpoint,
                "view": qualified(view),
                "methods": methods,
                "methods_declared": True,
                "docs": docs(view, methods) if view is not None else {},
                "params": [parameter(n, c) for n, c in converters.items()],
            }
        )
    return found, skipped


def qualified(view):
    if view is None:
        return ""
    target = getattr(view, "view_class", view)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"


def probe(args):
    if len(args) != 1 or ":" not in args[0]:
        raise Failure("usage", "expected one module:attribute")
    app = load(args[0])
    found, skipped = routes(app)
    return {
        "framework": "flask",
        "version": version_of("flask"),
        "title": getattr(app, "name", "") or "",
        "server_name": app.config.get("SERVER_NAME") or "",
        "application_root": app.config.get("APPLICATION_ROOT") or "/",
        "routes": found,
        "skipped": skipped,
    }


if __name__ == "__main__":
    main(probe)
