"""The RFC 8288 Link parser and the next-page detection, on real-world and hostile values."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from appctl.contract.models import Action, HttpTransport, Safety, Verb
from appctl.contract.paging import Pagination
from appctl.execute.http.links import MAX_LINKS, next_link, parse_links
from appctl.execute.http.paging import find_next, kept_headers

BASE = "https://api.example.com/v1/items?page=1"
GITHUB = (
    '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", '
    '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next", '
    '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", '
    '<https://api.github.com/repositories/1300192/issues?page=1>; rel="first"'
)


def test_github_links() -> None:
    links = parse_links(GITHUB, base=BASE)
    assert [link.rels for link in links] == [("prev",), ("next",), ("last",), ("first",)]
    assert next_link(GITHUB, base=BASE) == links[1].target


def test_commas_semicolons_and_quotes_inside_links() -> None:
    value = (
        '</a,b;c?x=1>; title="one, two; three"; rel="first", '
        "<p2>; REL=\"Next Last\"; title='x', <p3>; rel=next"
    )
    links = parse_links(value, base=BASE)
    assert links[0].target == "https://api.example.com/a,b;c?x=1"
    assert links[0].param("title") == "one, two; three"
    assert links[1].rels == ("next", "last") and links[1].target.endswith("/v1/p2")
    assert next_link(value, base=BASE) == "https://api.example.com/v1/p2"  # the first one


def test_first_rel_wins_escapes_and_extended_values() -> None:
    assert next_link('<a>; rel="prev"; rel="next", <b>; rel=next', base=BASE).endswith("/b")
    assert parse_links(r'<a>; title="say \"hi\""', base=BASE)[0].param("title") == 'say "hi"'
    assert next_link("<c>; rel*=UTF-8'en'n%65xt", base=BASE).endswith("/v1/c")


def test_a_link_anchored_elsewhere_is_not_this_responses_next() -> None:
    value = '<https://api.example.com/other?p=2>; rel=next; anchor="/other"'
    assert next_link(value, base=BASE) is None


def test_garbage_is_skipped_not_raised() -> None:
    for value in ("", ",,,", "<", '<a>; rel="next', "no link here", "<a b>; rel=next", ">;<"):
        assert isinstance(parse_links(value, base=BASE), list)
    assert next_link('junk, "<nope>", <x>; rel=next', base=BASE) == "https://api.example.com/v1/x"
    assert next_link("<http://[::1>; rel=next", base=BASE) is None
    many = ", ".join(f"<p{i}>; rel=item" for i in range(MAX_LINKS * 4))
    assert len(parse_links(many, base=BASE)) == MAX_LINKS


PIECES = st.sampled_from(
    ["<", ">", ";", ",", '"', "\\", "=", " ", "rel", "next", "*", "'", "%", "http://h/", "\x00"]
)
TARGETS = st.sampled_from(
    [
        "<//evil.example/x>; rel=next",
        "<javascript:alert(1)>; rel=next",
        "<https://api.example.com@evil.example/>; rel=next",
        "<https://API.example.com/v1/items?page=2>; rel=next",
        "</v1/items?page=2>; rel=next",
        "<ftp://api.example.com/x>; rel=next",
        "<http://[::1>; rel=next",
        "<../../../etc>; rel=next",
    ]
)
LINKISH = st.lists(st.one_of(PIECES, TARGETS, st.text(max_size=8)), max_size=12).map("".join)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=40).map("".join))
def test_hostile_link_values_never_raise(value: str) -> None:
    for link in parse_links(value, base=BASE):
        assert isinstance(link.target, str) and all(r == r.lower() for r in link.rels)
    found = next_link(value, base=BASE)
    assert found is None or isinstance(found, str)


def _action(pagination: Pagination | None = None, *params: str) -> Action:
    from appctl.contract.models import Field, Location

    fields = [Field(name=p, location=Location.QUERY, schema={"type": "string"}) for p in params]
    transport = HttpTransport(method="GET", path="/v1/items")
    return Action(
        name="list_items",
        verb=Verb.LIST,
        safety=Safety.READ_ONLY,
        transport=transport,
        parameters=fields,
        pagination=pagination,
    )


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["next", "nextPageToken", "links", "has_more", "data", "cursor", "@odata.nextLink"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.one_of(KEYS, st.text(max_size=6)), JSONISH, max_size=5),
    st.dictionaries(
        st.sampled_from(["link", "next-page", "x-next-page", "set-cookie"]),
        st.one_of(st.text(max_size=60), LINKISH, TARGETS.map(lambda t: t[1 : t.index(">")])),
    ),
)
def test_next_detection_never_raises_and_never_leaves_the_origin(
    data: dict[str, Any], headers: dict[str, str]
) -> None:
    paging = Pagination(style="cursor", params=["cursor", "starting_after"])
    found = find_next(
        _action(paging, "cursor", "starting_after"), url=BASE, headers=headers, data=data
    )
    if found.state and "url" in found.state:
        parts = urlsplit(found.state["url"])
        assert (parts.scheme, parts.netloc.lower()) == ("https", "api.example.com"), found
    if found.state and "param" in found.state:
        assert found.state["param"] in ("cursor", "starting_after")
    assert "set-cookie" not in (kept_headers(headers) or {})


def test_next_of_each_kind() -> None:
    plain = _action(Pagination(style="cursor", params=["cursor"]), "cursor")
    body = {"data": [{"id": 1}], "next": "/v1/items?page=2"}
    assert find_next(plain, url=BASE, headers={}, data=body).state == {
        "url": "https://api.example.com/v1/items?page=2"
    }
    token = {"data": [1], "meta": {"next_cursor": "abc"}}
    assert find_next(plain, url=BASE, headers={}, data=token).state == {
        "param": "cursor",
        "value": "abc",
    }
    assert find_next(plain, url=BASE, headers={}, data={"data": [], "next": None}).state is None
    same = find_next(plain, url=BASE, headers={"link": f"<{BASE}>; rel=next"}, data=[])
    assert same.state is None and not same.problem  # a next page that is this one: no loop
    kinto = {"next-page": "https://api.example.com/v1/items?_token=xyz"}
    assert find_next(plain, url=BASE, headers=kinto, data={"data": []}).state == {
        "url": "https://api.example.com/v1/items?_token=xyz"
    }
    tokened = {"items": [1], "nextPageToken": "t"}
    paged = _action(Pagination(style="page", params=["page"]), "page")
    found = find_next(paged, url=BASE, headers={}, data=tokened)
    assert found.state is None and "no argument" in found.problem
    lone = find_next(_action(None), url=BASE, headers={}, data=tokened)
    assert lone.state is None and not lone.problem  # a tool that does not page: no noise


def test_kept_headers_leave_credentials_and_cookies_out() -> None:
    headers = {
        "set-cookie": "a=b",
        "x-api-key": "secret",
        "authorization": "Bearer x",
        "x-auth-token": "t",
        "ratelimit": "limit=10, remaining=9, reset=3",
        "ratelimit-policy": "10;w=60",
        "x-ratelimit-reset": "12",
        "retry-after": "3",
        "location": "/jobs/1",
        "total-records": "40",
        "next-page": "https://x/",
        "content-type": "application/json",
        "server": "waitress",
    }
    assert set(kept_headers(headers) or {}) == {
        "ratelimit",
        "ratelimit-policy",
        "x-ratelimit-reset",
        "retry-after",
        "location",
        "total-records",
        "next-page",
    }
