"""The redactor: every encoding of a long secret, and short ones only as credentials."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from appctl.contract.models import AuthScheme
from appctl.execute.redact import REDACTED, Redactor, Secret, scheme_secrets
from appctl.execute.result import ErrorCategory, ToolResult

LONG = 's3cr+t/ k=y\u00e9"\\'


@pytest.mark.parametrize(
    "form",
    [
        LONG,
        quote(LONG, safe=""),
        quote(LONG),
        quote_plus(LONG),
        quote_plus(LONG, safe="/").lower(),  # lower-case hex, "/" left as it is
        json.dumps(LONG)[1:-1],
        json.dumps(LONG, ensure_ascii=False)[1:-1],
        json.dumps(LONG).replace("/", "\\/")[1:-1],
    ],
)
def test_a_long_secret_is_hidden_in_every_encoding(form: str) -> None:
    hide = Redactor([Secret(LONG, "query", "key")])
    assert hide.text(f"before {form} after") == f"before {REDACTED} after"


def test_a_short_secret_is_hidden_only_where_it_stands_as_a_credential() -> None:
    hide = Redactor(
        [
            *scheme_secrets(
                AuthScheme(name="b", type="basic", credentials={}),
                {"username": "api", "password": "pw"},
            ),
            Secret("abc", "query", "api_key"),
            Secret("k1", "header", "X-API-Key"),
            Secret("t0k", "header", "Authorization", "Bearer"),
        ]
    )
    untouched = "a rapid api-first abc service; api_key=abcd; X-API-Key: k12"
    assert hide.text(untouched) == untouched
    assert hide.text("GET /x?a=1&api_key=abc&b=2") == "GET /x?a=1&api_key=***&b=2"
    assert hide.text("http://api:pw@host/") == "http://***:***@host/"
    assert hide.text('{"X-Api-Key": "k1", "Authorization": "Bearer t0k"}') == (
        '{"X-Api-Key": "***", "Authorization": "Bearer ***"}'
    )
    token = base64.b64encode(b"api:pw").decode()
    assert hide.text(f"Authorization: Basic {token}") == "Authorization: Basic ***"
    echoed = {"args": {"api_key": "abc"}, "headers": {"x-api-key": "k1"}, "note": "abc"}
    assert hide.value(echoed) == {
        "args": {"api_key": REDACTED},
        "headers": {"x-api-key": REDACTED},
        "note": "abc",
    }


def test_a_whole_envelope_is_redacted() -> None:
    hide = Redactor([Secret("long-secret-value", "header", "Authorization", "Bearer")])
    failed = ToolResult.failure(
        "t", ErrorCategory.AUTH, 'HTTP 401: {"got": "Bearer long-secret-value"}'
    ).model_copy(update={"data": ["long-secret-value"], "notes": ["x long-secret-value"]})
    shown = hide.result(failed).model_dump_json()
    assert "long-secret-value" not in shown and "Bearer ***" in shown


def test_arguments_under_secret_names_are_hidden() -> None:
    hidden = Redactor(()).value({"password": "p", "page_token": "", "q": "x"}, secret_names=True)
    assert hidden == {"password": REDACTED, "page_token": "", "q": "x"}


@pytest.mark.parametrize("form", [LONG, quote(LONG, safe=""), quote_plus(LONG)])
def test_values_are_searched_in_one_pass_and_still_hidden(form: str) -> None:
    """``value`` first looks for secrets in the value's JSON text (where quotes, backslashes
    and control characters are escaped again) and walks it only on a hit."""
    hide = Redactor([Secret(LONG, "query", "key"), Secret("abc", "query", "api_key")])
    deep = {"a": [{"b": f"x {form} y"}], "n": 1, "args": {"API_KEY": "abc"}}
    assert hide.value(deep) == {
        "a": [{"b": f"x {REDACTED} y"}],
        "n": 1,
        "args": {"API_KEY": REDACTED},
    }
    clean = {"a": ["nothing here", "abcd"], "api_key": "abcd"}
    assert hide.value(clean) is clean  # nothing to hide: the value itself, not a copy
