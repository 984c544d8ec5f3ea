"""The contract pages and "try a tool" over the real app, against the pet store."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import TOKEN
from tests.serve.console.conftest import Make, csrf_of, once_of, open_session, result_of

LABEL_FOR = re.compile(r'<label for="([^"]+)"')
INPUT_ID = re.compile(r'<(?:input|select|textarea) id="([^"]+)"')


def test_overview_lists_sources_and_tools_with_safety(make_client: Make) -> None:
    page = make_client().get("/ui/")
    assert page.status_code == 200
    assert "Fixture Pets" in page.text
    assert re.search(r"delete_pet</a>\s*<span class=\"safety safety-destructive\">", page.text)
    assert re.search(r"list_pets</a>\s*<span class=\"safety safety-read_only\">", page.text)
    assert 'id="tool-search"' in page.text
    assert "5 of 5 tools" in page.text


def test_search_narrows_the_list(make_client: Make) -> None:
    page = make_client().get("/ui/", params={"q": "declared"})
    assert "1 of 5 tools" in page.text
    assert "ghost_route" in page.text and "create_pet" not in page.text


def test_tool_page_has_schema_guide_and_a_labelled_form(make_client: Make) -> None:
    page = make_client().get("/ui/tools/list_pets")
    assert page.status_code == 200
    assert 'id="input-schema"' in page.text and "list_pets(" in page.text
    assert sorted(LABEL_FOR.findall(page.text)) == sorted(INPUT_ID.findall(page.text))
    assert 'id="arg-limit" name="arg:limit" value="" type="number" step="1"' in page.text
    assert '<textarea id="arg-tags"' in page.text  # an array: JSON
    assert ">Dry run</button>" in page.text and ">Run</button>" in page.text


def test_unknown_tool_or_page_is_a_404_page(make_client: Make) -> None:
    client = make_client()
    page = client.get("/ui/tools/no_such_tool")
    assert page.status_code == 404 and "no tool named" in page.text
    page = client.get("/ui/nope")
    assert page.status_code == 404 and "no console page /ui/nope" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_dry_run_shows_the_request_and_sends_nothing(make_client: Make, pets: Any) -> None:
    client = make_client()
    form = client.get("/ui/tools/create_pet")
    before = len(pets.seen)
    page = client.post(
        "/ui/tools/create_pet/try",
        data={"csrf": csrf_of(form.text), "arg:name": "Rex", "mode": "dry"},
    )
    assert page.status_code == 200, page.text
    result = result_of(page.text)
    assert result["request"]["method"] == "POST"
    assert json.loads(result["request"]["body"]) == {"name": "Rex"}
    assert TOKEN not in page.text  # the credential is redacted in the shown request
    assert len(pets.seen) == before


def test_run_calls_through_the_session_as_the_console_user(make_client: Make, pets: Any) -> None:
    client = make_client()
    form = client.get("/ui/tools/create_pet")
    page = client.post(
        "/ui/tools/create_pet/try",
        data={
            "csrf": csrf_of(form.text),
            "once": once_of(form.text),
            "arg:name": "Rex",
            "mode": "run",
        },
    )
    assert page.status_code == 200, page.text
    assert result_of(page.text)["ok"] is True
    assert pets.seen[-1][:2] == ("POST", "/api/pets")


def test_a_write_form_runs_once(make_client: Make, pets: Any) -> None:
    client = make_client()
    form = client.get("/ui/tools/create_pet")
    data = {"csrf": csrf_of(form.text), "once": once_of(form.text), "arg:name": "Rex"}
    assert client.post("/ui/tools/create_pet/try", data={**data, "mode": "run"}).status_code == 200
    sent = len(pets.seen)
    again = client.post("/ui/tools/create_pet/try", data={**data, "mode": "run"})  # a reload
    assert again.status_code == 409 and "sent already" in again.text
    missing = client.post("/ui/tools/create_pet/try", data={**data, "once": "", "mode": "run"})
    assert missing.status_code == 409
    assert len(pets.seen) == sent
    fresh = client.post(
        "/ui/tools/create_pet/try", data={**data, "once": once_of(again.text), "mode": "run"}
    )
    assert fresh.status_code == 200 and len(pets.seen) == sent + 1


def test_destructive_run_needs_the_name_typed(make_client: Make, pets: Any) -> None:
    client = make_client()
    page = client.get("/ui/tools/delete_pet")
    data = {"csrf": csrf_of(page.text), "once": once_of(page.text), "arg:petId": "1", "mode": "run"}
    before = len(pets.seen)
    refused = client.post("/ui/tools/delete_pet/try", data={**data, "typed": "delete"})
    assert refused.status_code == 403 and "type its name" in refused.text
    assert len(pets.seen) == before
    ran = client.post("/ui/tools/delete_pet/try", data={**data, "typed": "delete_pet"})
    assert ran.status_code == 200
    assert pets.seen[-1][:2] == ("DELETE", "/api/pets/1")


def test_a_policy_deny_still_refuses_a_console_run(make_client: Make, pets: Any) -> None:
    client = make_client(config="policy: [{match: {name: create_pet}, action: deny}]\n")
    form = client.get("/ui/tools/create_pet")
    before = len(pets.seen)
    page = client.post(
        "/ui/tools/create_pet/try",
        data={
            "csrf": csrf_of(form.text),
            "once": once_of(form.text),
            "arg:name": "Rex",
            "mode": "run",
        },
    )
    assert result_of(page.text)["ok"] is False
    assert len(pets.seen) == before


def test_bad_form_values_are_named(make_client: Make) -> None:
    client = make_client()
    csrf = csrf_of(client.get("/ui/tools/list_pets").text)
    page = client.post(
        "/ui/tools/list_pets/try",
        data={"csrf": csrf, "arg:limit": "ten", "arg:tags": "[1,", "mode": "dry"},
    )
    assert page.status_code == 400
    assert "limit: &#39;ten&#39; is not a whole number" in page.text
    assert "tags: not valid JSON" in page.text
    assert 'value="ten"' in page.text  # what was typed is kept


def test_console_calls_are_recorded(make_client: Make, project: Any) -> None:
    client = make_client()
    csrf = csrf_of(client.get("/ui/tools/list_pets").text)
    client.post("/ui/tools/list_pets/try", data={"csrf": csrf, "arg:limit": "2", "mode": "run"})
    history = open_session(project).history
    assert history is not None
    assert [(e.tool, e.outcome) for e in history.entries(last=5)] == [("list_pets", "ok")]
