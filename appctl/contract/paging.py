"""How an operation pages, as the source says: the contract's ``Pagination``.

``params`` are the operation's own paging arguments (their tool-facing names) and
``location`` where they go (``body``: in the JSON request body, as Prefect's ``limit`` and
``offset``; left out when they are query parameters). ``next`` says how a response tells
where the next page is, when the source declares it (a ``Link`` header, a field of the body,
a header of its own such as Kinto's ``Next-Page``); ``headers`` are the paging headers the
operation's responses document (kept in a call's envelope). Every field but ``style`` and
``params`` is left out of schema.json when empty.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# response headers whose value is the next page (a URL) or a token for it (lower case)
NEXT_HEADERS = (
    "next-page",
    "x-next-page",
    "next-cursor",
    "x-next-cursor",
    "x-continuation-token",
    "x-ms-continuation",
    "continuation-token",
)
PAGING_HEADER_WORDS = ("page", "cursor", "total", "continuation", "next", "link", "count")
# body fields that hold the next page (a URL or a token), most specific first
NEXT_FIELDS = (
    "next_url",
    "nextUrl",
    "next_page_url",
    "nextLink",
    "@odata.nextLink",
    "next_link",
    "nextPageToken",
    "next_page_token",
    "next_cursor",
    "nextCursor",
    "next_token",
    "nextToken",
    "next_page",
    "continuation_token",
    "continuationToken",
    "next",
    "links.next",
    "_links.next.href",
    "links.next.href",
    "meta.next_cursor",
    "meta.next",
    "pagination.next_cursor",
    "pagination.next",
    "paging.next",
    "paging.cursors.after",
    "response_metadata.next_cursor",
    "cursor",
)
# token field (lower case, no separators) → the arguments it goes into, by preference
TOKEN_PARAMS = {
    "nextpagetoken": ("pageToken", "page_token"),
    "nextcursor": ("cursor", "after"),
    "cursor": ("cursor", "after"),
    "after": ("after", "cursor"),
    "nexttoken": ("next_token", "nextToken", "token"),
    "nextpage": ("page", "page_token", "pageToken"),  # Stripe's search: next_page → page
    "continuationtoken": ("continuation_token", "continuationToken"),
    "next": ("cursor", "page", "after"),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NextPage(_Model):
    """Where a response says how to continue.

    ``link``: its ``Link`` header's ``rel=next``; ``header``: the header ``name``, whose value
    is the next page's URL or a token; ``body``: the field at ``path`` (dotted, in the JSON
    body), a URL or a token; ``has_more``: the boolean at ``path`` with the id of the last item
    of the list at ``items`` (Stripe's ``starting_after``). A token goes into the argument
    ``param``."""

    kind: Literal["link", "header", "body", "has_more"]
    name: str | None = None
    path: str | None = None
    items: str | None = None
    param: str | None = None


class Pagination(_Model):
    style: Literal["page", "offset", "cursor"]
    params: list[str]
    location: Literal["body"] | None = None  # None: the params are query parameters
    next: NextPage | None = None
    headers: list[str] | None = None
