"""Probe: a Django project's URL patterns (plain views), printed as JSON after the marker.

Run by path in the project's own interpreter (``appctl/sync/app/run.py``), standard library
only besides Django: ``python django_routes.py mysite.settings``. It walks
``get_resolver()`` the way Django's own ``reverse`` does (nested includes, ``path()``
converters, ``re_path()`` groups, each pattern's regex normalized by Django's
``regex_helper.normalize``) and reports, per URL: the path template, the methods (a class-based
view's handlers; a function view's ``require_http_methods`` list when it has one), the path
parameters with their converter or regex, the docstrings, and whether CSRF is checked.
Django REST framework views are left to DRF's schema (reported as skipped, ``drf``); the
admin site is for people and is skipped too.
"""

import functools
import importlib
import inspect
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _appctl_probe import Failure, main, raised, version_of
from drf import setup  # Django set up as manage.py would, failures reported alike

KINDS = {
    "IntConverter": "int",
    "StringConverter": "string",
    "SlugConverter": "slug",
    "UUIDConverter": "uuid",
    "PathConverter": "path",
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def group_regexes(regex):
    """Name → the regex of each named group ``(?P<name>...)`` of ``regex``."""
    out, i = {}, 0
    while True:
        start = regex.find("(?P<", i)
        if start < 0:
            return out
        close = regex.index(">", start)
        name = regex[start + 4 : close]
        depth, j, in_class = 1, close + 1, False
        while j < len(regex) and depth:
            ch = regex[j]
            if ch == "\\":
                j += 2
                continue
            if in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            j += 1
        out[name] = regex[close + 1 : j - 1]
        i = close


def declared_methods(view):
    """A function view's ``require_http_methods`` list, found through its decorators."""
    seen = 0
    while view is not None and seen < 32:
        if isinstance(view, functools.partial):
            view = view.func
            continue
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = view.__closure__[code.co_freevars.index("request_method_list")]
            return sorted({str(m).upper() for m in cell.cell_contents})
        view = getattr(view, "__wrapped__", None)
        seen += 1
    return None


def methods_of(callback):
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        names = getattr(view_class, "http_method_names", ())
        found = [
            m.upper() for m in names if m not in ("head", "options") and hasattr(view_class, m)
        ]
        return sorted(found), True
    declared = declared_methods(callback)
    if declared is not None:
        return [m for m in declared if m not in ("HEAD", "OPTIONS")], True
    return ["GET"], False


def docs_of(callback, target, methods):
    view_class = getattr(callback, "view_class", None)
    shared = inspect.getdoc(view_class or target) or ""
    if view_class is not None and shared == inspect.getdoc(view_class.__mro__[-2]):
        shared = ""  # Django's own base class docstring, not the project's
    out = {}
    for method in methods:
        handler = getattr(view_class, method.lower(), None) if view_class else None
        own = inspect.getdoc(handler) if handler is not None else None
        if own and handler is not None and handler.__module__.startswith("django."):
            own = None
        out[method] = own or shared
    return out


def is_drf(callback):
    cls = getattr(callback, "cls", None)
    if cls is None:
        return False
    try:
        views = importlib.import_module("rest_framework.views")
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, views.APIView)


def parameter(name, converter, regex):
    if converter is not None:
        kind = KINDS.get(type(converter).__name__, "custom")
        out = {"name": name, "kind": kind, "regex": converter.regex}
        if kind == "custom":
            out["converter"] = type(converter).__name__
        return out
    return {"name": name, "kind": "regex", "regex": regex}


def walk(patterns, prefix, converters, skipped, found, namespace):
    for entry in patterns:
        regex = entry.pattern.regex.pattern
        if prefix and regex.startswith("^"):
            regex = regex[1:]
        full = prefix + regex
        merged = {**converters, **getattr(entry.pattern, "converters", {})}
        if hasattr(entry, "url_patterns"):
            space = entry.namespace or entry.app_name
            if space == "admin" or (entry.app_name == "admin"):
                skipped.append({"path": str(entry.pattern), "why": "the admin site"})
                continue
            walk(entry.url_patterns, full, merged, skipped, found, space or namespace)
            continue
        route(entry, full, merged, skipped, found, namespace)


def route(entry, full, converters, skipped, found, namespace):
    normalize = importlib.import_module("django.utils.regex_helper").normalize
    callback = entry.callback
    possibilities = normalize(full)
    if is_drf(callback):
        for template, _ in possibilities:
            skipped.append({"path": "/" + template.replace("%%", "%"), "why": "drf"})
        return
    methods, declared = methods_of(callback)
    regexes = group_regexes(full)
    view_class = getattr(callback, "view_class", None)
    target = view_class or callback
    while isinstance(target, functools.partial):  # as Django's ResolverMatch does
        target = target.func
    target = inspect.unwrap(target)
    module = getattr(target, "__module__", None) or type(target).__module__
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    name = entry.name or getattr(target, "__name__", None) or qualname
    for template, params in possibilities:
        path = "/" + template % {p: "{" + p + "}" for p in params}
        found.append(
            {
                "path": path,
                "rule": str(entry.pattern),
                "name": f"{namespace}:{name}" if namespace else name,
                "view": f"{module}.{qualname}",
                "methods": methods,
                "methods_declared": declared,
                "docs": docs_of(callback, target, methods),
                "csrf_exempt": bool(getattr(callback, "csrf_exempt", False)),
                "params": [parameter(p, converters.get(p), regexes.get(p, "")) for p in params],
            }
        )


def probe(args):
    if len(args) != 1:
        raise Failure("usage", "expected one Django settings module")
    settings = setup(args[0])
    try:
        resolver = importlib.import_module("django.urls").get_resolver()
        found, skipped = [], []
        walk(resolver.url_patterns, "", {}, skipped, found, "")
    except Failure:
        raise
    except BaseException as exc:  # the URLconf's own import failed
        raise Failure(**raised("raised", exc, settings=args[0])) from None
    middleware = [str(m) for m in getattr(settings, "MIDDLEWARE", None) or ()]
    return {
        "framework": "django",
        "version": version_of("django"),
        "title": args[0],
        "csrf_middleware": any(m.endswith("CsrfViewMiddleware") for m in middleware),
        "script_name": getattr(settings, "FORCE_SCRIPT_NAME", None) or "",
        "routes": found,
        "skipped": skipped,
    }


if __name__ == "__main__":
    main(probe)
