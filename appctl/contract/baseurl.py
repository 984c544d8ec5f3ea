"""Which base URL calls go to, from what a person chose and what the source's servers say.

Takes base URLs and server URLs as strings (and, for a re-sync, the previous and the new
contract); returns base URLs and what to tell the person. Pure: no I/O.

The rule (README, "Base URL"): a chosen base URL with only ``scheme://host[:port]`` keeps the
path of the source's first server (Prefect's ``/api``, Swagger 2.0's ``basePath``); a chosen
base URL with a path, even just ``/``, replaces it. A re-sync keeps a base URL chosen with
``sync --base-url`` while the source's servers stay as they were; when they change, the
source's new server is used, with a warning saying what changed and how to keep the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from appctl.contract.models import Contract


def server_path(server: str | None) -> str:
    """The path of a server URL (absolute or relative), without its trailing slash."""
    if not server:
        return ""
    path = urlsplit(server).path if "://" in server else server.split("?", 1)[0]
    path = path.rstrip("/")
    return path if not path or path.startswith("/") else f"/{path}"


def resolve(chosen: str, servers: Sequence[str]) -> str:
    """``chosen`` made the base URL: with no path it takes the first server's path."""
    if "://" not in chosen:  # a relative base URL is taken as it is
        return chosen.rstrip("/") or chosen
    if urlsplit(chosen).path:  # a path, even "/", replaces the source's
        return chosen.rstrip("/")
    return chosen + server_path(servers[0] if servers else None)


def replaced_path(chosen: str, servers: Sequence[str]) -> str | None:
    """The source's server path that ``chosen`` drops by giving a path of its own, if any."""
    path = server_path(servers[0] if servers else None)
    if "://" not in chosen or not urlsplit(chosen).path or not path:
        return None
    return path if resolve(chosen, servers) != resolve(_origin(chosen), servers) else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class Carried:
    """A re-synced contract's base URL, and what to say about it (a note, or a warning)."""

    schema: Contract
    note: str | None = None
    warning: str | None = None


def _chosen(schema: Contract) -> bool:
    """Whether the contract's base URL was chosen rather than taken from the servers."""
    first = schema.servers[0] if schema.servers else None
    return schema.base_url is not None and schema.base_url != first


def carry_over(previous: Contract | None, synced: Contract, *, given: str | None) -> Carried:
    """The re-synced contract with the base URL chosen at the last sync, while the source's
    servers are unchanged. ``given`` is this sync's ``--base-url`` (which always wins)."""
    if given is not None:
        dropped = replaced_path(given, synced.servers)
        if dropped is None:
            return Carried(synced)
        return Carried(
            synced,
            note=f"base URL {synced.base_url}: its path replaces the source's {dropped} "
            f"(give only {_origin(given)} to keep {dropped})",
        )
    if previous is None or previous.source.location != synced.source.location:
        return Carried(synced)
    if previous.source.kind not in ("openapi", "app") or not _chosen(previous):
        return Carried(synced)
    kept = previous.base_url
    if previous.servers == synced.servers:
        return Carried(
            synced.model_copy(update={"base_url": kept}),
            note=f"base URL {kept} kept from the last sync (the source's server is "
            f"{_shown(synced.servers)}; pass --base-url to change it)",
        )
    if kept == synced.base_url:
        return Carried(synced)
    return Carried(
        synced,
        warning=f"the source's servers changed ({_shown(previous.servers)} → "
        f"{_shown(synced.servers)}), so the base URL is now {synced.base_url or 'unset'} "
        f"instead of {kept}, chosen at the last sync: pass --base-url {kept} to keep it, "
        "or commit the new one",
    )


def _shown(servers: Sequence[str]) -> str:
    if not servers:
        return "none"
    return ", ".join(servers) if len(servers) <= 3 else f"{', '.join(servers[:3])}, ..."
