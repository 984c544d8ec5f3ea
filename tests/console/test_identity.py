"""The console with issue 21's callers (``inbound.tokens``): a person signs in with a named
token, gets the approver role from a group (``console.approvers: ["group:ops"]``), sees
which caller asked, and the decision is recorded under the person's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.console.conftest import browsing, project_for, serving, sign_in
from tests.console.test_approvals import ANSWER, decide, pending_card, waiting

NAMED = """\
inbound:
  tokens:
    ci-bot: {token: env:CI_TOKEN, groups: [ci]}
    alice: {token: env:ALICE_TOKEN, groups: [ops]}
    bob: {token: env:BOB_TOKEN, groups: [dev]}
policy:
  - {match: {safety: mutating}, approval: {timeout: 120}}
console:
  approvers: ["group:ops"]
"""
TOKENS = {"CI_TOKEN": "ci-token-4711", "ALICE_TOKEN": "alice-token-0815", "BOB_TOKEN": "bob-1"}


def test_a_named_caller_asks_and_a_person_of_the_approving_group_decides(
    chromium: Any, tmp_path: Path, pets: Any
) -> None:
    project = project_for(tmp_path, pets, NAMED)
    with serving(project, pets, env=TOKENS) as console:
        headers = {"Authorization": f"Bearer {TOKENS['CI_TOKEN']}"}

        def call() -> httpx.Response:
            body = {"arguments": {"name": "Tom"}}
            return httpx.post(
                f"{console.url}/tools/create_pet/call", json=body, headers=headers, timeout=150
            )

        answer = waiting(call)
        with browsing(chromium, console.url) as browser:
            sign_in(browser, token=TOKENS["BOB_TOKEN"])  # not in ops: a viewer
            assert "viewer" in browser.wait_for("bob")
            card = pending_card(browser, "create_pet")
            assert "Asked by ci-bot" in card.text and "Approve" not in card.text
            browser.button("Sign out").click()

            sign_in(browser, token=TOKENS["ALICE_TOKEN"])
            assert "approver" in browser.wait_for("alice")
            decide(browser, "create_pet", "Approve")
            created = answer.result(timeout=ANSWER)
            assert created.status_code == 200, created.text
            text = browser.wait_for("approved")
            assert "create_pet for ci-bot by alice" in text, text
            browser.shot("approved-by-alice")
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]
