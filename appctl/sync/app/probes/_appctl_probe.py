"""What every probe shares: the import path, the marker line, the error report. Stdlib only.

A probe is run by path (``python probes/NAME.py ARGS``) with the project as its working
directory. ``main(body)`` puts the project first on ``sys.path`` (and this directory last,
where the probe found this module), sends the app's own prints to stderr, calls ``body(args)``
and writes the marker line from ``$APPCTL_PROBE_MARKER`` and then one line of JSON to the real
stdout: the body's result, or ``{"error": {...}}`` saying what went wrong. It ends the process
with ``os._exit`` so that threads or exit hooks the app started cannot hold it open.
"""

import json
import os
import sys
import traceback

MARKER_VAR = "APPCTL_PROBE_MARKER"
HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    """What a probe reports instead of a result: ``kind`` is one of the runner's categories."""

    def __init__(self, kind, message, **facts):
        super().__init__(message)
        self.report = dict(facts, kind=kind, message=message)


def project_first():
    """The project (the working directory) first on sys.path, this directory last."""
    here = os.path.normcase(HERE)
    kept = [p for p in sys.path if os.path.normcase(os.path.abspath(p or ".")) != here]
    kept = [p for p in kept if p not in ("", ".")]
    sys.path[:] = [os.getcwd(), *kept, HERE]


def main(body):
    project_first()
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        result = body(sys.argv[1:])
    except Failure as failure:
        result = {"error": failure.report}
    except BaseException as exc:  # the app's own failure, SystemExit included
        result = {"error": raised("raised", exc)}
    finally:
        sys.stdout = real
    try:
        text = json.dumps(result, default=str, allow_nan=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"error": {"kind": "unreadable", "message": str(exc)}})
    real.write("\n" + os.environ.get(MARKER_VAR, "") + "\n" + text + "\n")
    real.flush()
    sys.stderr.flush()
    os._exit(0)


def raised(kind, exc, **facts):
    """A report of an exception: its last traceback line and the app's frame it came from."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    report = dict(facts, kind=kind, message=last, type=type(exc).__name__)
    where = app_frame(exc)
    if where:
        report["where"] = where
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        report["module"] = exc.name
    return report


def app_frame(exc):
    """``file:line`` of the innermost frame in the project (outside any installed package)."""
    root = os.getcwd() + os.sep
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path.startswith(root) and "site-packages" not in path:
            found = f"{os.path.relpath(path, root[:-1])}:{frame.lineno}"
    return found


def import_target(target):
    """The object ``module:attribute`` names (``attribute`` may be dotted, or end in ``()`` to
    call a factory without arguments)."""
    import importlib

    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise Failure("not_found", f"no module named {exc.name!r}", module=exc.name) from None
        raise Failure(**raised("missing_module", exc)) from None
    except BaseException as exc:
        raise Failure(**raised("raised", exc)) from None
    return module, _attribute(module, module_name, attribute)


def _attribute(module, module_name, attribute):
    call = attribute.endswith("()")
    value = module
    for part in attribute.removesuffix("()").split("."):
        if not hasattr(value, part):
            names = sorted(n for n in dir(module) if not n.startswith("_"))
            raise Failure(
                "no_attribute",
                f"module {module_name!r} has no attribute {attribute.removesuffix('()')!r}",
                names=names[:200],
                attribute=part,
            )
        value = getattr(value, part)
    if call:
        try:
            value = value()
        except BaseException as exc:
            raise Failure(**raised("raised", exc)) from None
    return value


def class_names(value):
    """``module.Class`` of the value's type and every base, most derived first."""
    return [f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__]


def version_of(distribution):
    try:
        from importlib.metadata import version

        return version(distribution)
    except Exception:
        return ""
