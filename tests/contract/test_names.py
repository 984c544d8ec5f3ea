import pytest

from appctl.contract.names import (
    ARG_NAME_RE,
    TOOL_NAME_RE,
    ToolName,
    arg_name,
    dedupe,
    snake_case,
    tool_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("listPets", "list_pets"),
        ("repos/get-content", "repos_get_content"),
        ("getHTTPResponse", "get_http_response"),
        ("get /pets/{petId}", "get_pets_pet_id"),
        ("  __weird__ name!! ", "weird_name"),
    ],
)
def test_snake_case(text: str, expected: str) -> None:
    assert snake_case(text) == expected


def test_tool_name_is_valid_for_every_provider() -> None:
    long = "x" * 50 + "VeryLongOperationIdentifierThatGoesOnAndOn" * 3
    for text in ("1stThing", "", "日本語", long, "a-b.c"):
        name = tool_name(text)
        assert TOOL_NAME_RE.match(name), name
    assert tool_name("1stThing") == "op_1st_thing"


def test_long_names_stay_distinct_after_cutting() -> None:
    a = tool_name("a" * 70 + "One")
    b = tool_name("a" * 70 + "Two")
    assert len(a) == len(b) == 64
    assert a != b


def test_toolname_type_refuses_invalid() -> None:
    with pytest.raises(ValueError, match="invalid tool name"):
        ToolName("has space")
    assert ToolName("ok_name") == "ok_name"


def test_arg_name_keeps_valid_and_fixes_invalid() -> None:
    assert arg_name("X-Request-Id") == "X-Request-Id"
    assert arg_name("page[size]") == "page_size"
    assert arg_name("$top") == "top"
    assert ARG_NAME_RE.match(arg_name("9lives"))


def test_dedupe_is_stable_and_unique() -> None:
    taken = {"list_pets"}
    first = dedupe("list_pets", taken, key="get /a")
    assert first != "list_pets"
    assert first == dedupe("list_pets", {"list_pets"}, key="get /a")
    assert dedupe("free", taken, key="k") == "free"
