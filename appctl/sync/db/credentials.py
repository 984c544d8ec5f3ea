"""Where a database password comes from when the URL has none, the same at sync, call and
doctor time: the variable ``--password-env NAME`` named (kept in the contract as
``env:NAME``), then the driver's standard variable (``PGPASSWORD``, ``MYSQL_PWD``), then a
file of the user's: PostgreSQL's libpq reads ``~/.pgpass`` (or ``PGPASSFILE``) itself when
it is given no password; for MariaDB/MySQL, whose driver PyMySQL reads neither
``MYSQL_PWD`` nor an option file unless asked, the ``password`` of the ``[client]`` group of
``~/.my.cnf`` is read here. Nothing found here is ever written down.

The option file is read as data only: no ``!include`` is followed, a file that is not a
regular file, is writable by others (which the MySQL clients ignore too) or is over 64 KiB is
skipped, and a file that cannot be read counts as absent.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

STANDARD_VARIABLE = {"postgresql": "PGPASSWORD", "mysql": "MYSQL_PWD", "mariadb": "MYSQL_PWD"}
OPTION_FILE = ".my.cnf"
OPTION_FILE_LIMIT = 1 << 16
QUOTES = ("'", '"')


def family_of(drivername: str) -> str:
    """``postgresql``, ``mysql`` (MariaDB too) or ``sqlite`` from a SQLAlchemy driver name."""
    backend = drivername.split("+", 1)[0]
    return "mysql" if backend == "mariadb" else backend


def find_password(
    family: str, *, password_env: str | None, environ: Mapping[str, str]
) -> str | None:
    """The password for a URL without one, or None (PostgreSQL: libpq looks further)."""
    names = [n for n in (password_env, STANDARD_VARIABLE.get(family)) if n]
    for name in names:
        if environ.get(name):
            return environ[name]
    if family == "mysql":
        return option_file_password(_home(environ) / OPTION_FILE)
    return None


def sources(family: str, password_env: str | None = None) -> str:
    """The places a password is looked for, in order, for hints."""
    named = password_env and password_env != STANDARD_VARIABLE.get(family)
    first = f"{password_env} (--password-env)" if named else "--password-env NAME"
    if family == "postgresql":
        return f"the URL, {first}, PGPASSWORD, or ~/.pgpass (PGPASSFILE) read by libpq"
    if family == "mysql":
        return f"the URL, {first}, MYSQL_PWD, or the [client] password of ~/.my.cnf"
    return f"the URL or {first}"


def option_file_password(path: Path) -> str | None:
    """The last ``password`` of the ``[client]`` group of a MySQL option file, or None."""
    try:  # non-blocking: a FIFO put in its place must not hold the command
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_mode & stat.S_IWOTH:
                return None
            data = handle.read(OPTION_FILE_LIMIT + 1)
    except OSError:
        return None
    if len(data) > OPTION_FILE_LIMIT:
        return None
    found: str | None = None
    group = ""
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;!":  # comments, and !include directives (not followed)
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip().lower()
            continue
        key, sep, value = line.partition("=")
        if group == "client" and sep and key.strip().lower().replace("_", "-") == "password":
            found = _option_value(value.strip())
    return found


def _option_value(text: str) -> str:
    """A value as the MySQL clients read it: quoted verbatim, else up to a ``#`` comment."""
    if len(text) >= 2 and text[0] in QUOTES and text[-1] == text[0]:
        return text[1:-1]
    if text[:1] in QUOTES and text[0] in text[1:]:  # quoted, then a trailing comment
        return text[1 : text.index(text[0], 1)]
    return text.split("#", 1)[0].rstrip()


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()
