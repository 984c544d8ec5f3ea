"""``appctl init``: add an LLM provider profile to ``.appctl/config.yaml``.

On a terminal it asks for what the flags leave out; without one, the flags say it all
(--kind at least). The key is never written: only the name of the variable that holds it.
An existing config keeps its comments: a new ``providers:`` section is appended as text; a
file that already has one is rewritten (and says so).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext

KIND_CHOICES = ("openai", "azure", "anthropic", "gemini")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@click.command("init")
@click.option("--kind", type=click.Choice(KIND_CHOICES), help="The provider's API.")
@click.option("--name", "profile_name", help="Profile name (default: the kind).")
@click.option("--model", help="Model (or Azure deployment) name.")
@click.option("--provider-url", help="Base URL (OpenAI-compatible servers, Azure, proxies).")
@click.option("--api-key-env", metavar="VAR", help="Environment variable holding the key.")
@click.option("--api-version", help="Azure OpenAI API version.")
@click.option("--context-tokens", type=click.IntRange(min=2000), help="The model's context window.")
@click.option(
    "--default/--no-default", "make_default", default=True, help="Make it the default profile."
)
@click.option("--force", is_flag=True, help="Replace a profile of the same name.")
@click.pass_obj
def command(
    app: AppContext,
    kind: str | None,
    profile_name: str | None,
    model: str | None,
    provider_url: str | None,
    api_key_env: str | None,
    api_version: str | None,
    context_tokens: int | None,
    make_default: bool,
    force: bool,
) -> int:
    """Write an LLM provider profile (interactive on a terminal, else from the flags)."""
    from appctl.agent.profiles import DEFAULT_MODELS, KEY_VARIABLES
    from appctl.config import ProviderProfile
    from appctl.errors import UsageError

    interactive = sys.stdin.isatty()
    if kind is None:
        if not interactive:
            raise UsageError(
                "--kind is required without a terminal",
                suggestion="appctl init --kind openai|azure|anthropic|gemini [--model M] "
                "[--provider-url URL] [--api-key-env VAR]",
            )
        kind = click.prompt("Provider kind", type=click.Choice(KIND_CHOICES), default="openai")
    assert kind is not None
    if interactive and model is None:
        model = click.prompt("Model", default=DEFAULT_MODELS[kind])
    if interactive and provider_url is None and kind in ("openai", "azure"):
        hint = "Azure endpoint" if kind == "azure" else "Base URL (empty for OpenAI itself)"
        provider_url = click.prompt(hint, default="", show_default=False) or None
    if interactive and api_key_env is None:
        api_key_env = (
            click.prompt(
                "Variable holding the API key (empty for none)",
                default=KEY_VARIABLES[kind][0],
                show_default=True,
            )
            or None
        )
    name = profile_name or kind
    if not PROFILE_NAME.match(name):
        raise UsageError(
            f"profile name {name!r} is not valid", suggestion="Use letters, digits, _ . or -."
        )
    if api_key_env is not None and not VARIABLE.match(api_key_env):
        raise UsageError(
            "--api-key-env takes the NAME of an environment variable, not a key",
            suggestion="Export the key (export MY_KEY=...) and pass --api-key-env MY_KEY.",
        )
    if kind == "azure" and not provider_url:
        raise UsageError(
            "an Azure OpenAI profile needs --provider-url (https://NAME.openai.azure.com)",
            suggestion="Pass --provider-url and --model with your deployment's name.",
        )
    profile: dict[str, Any] = {"kind": kind, "model": model or DEFAULT_MODELS[kind]}
    if provider_url:
        profile["base_url"] = provider_url
    if api_key_env:
        profile["api_key"] = f"env:{api_key_env}"
    if api_version:
        profile["api_version"] = api_version
    if context_tokens:
        profile["context_tokens"] = context_tokens
    ProviderProfile.model_validate(profile)  # the same checks the loader makes
    path = app.app_dir / "config.yaml"
    write_profile(path, name, profile, make_default=make_default, force=force)
    output.info(f"wrote provider profile {name!r} ({kind}, {profile['model']}) → {path}")
    if api_key_env:
        output.info(f"the key is read from {api_key_env} when appctl runs; it is not stored")
    return output.EXIT_OK


def write_profile(
    path: Path, name: str, profile: dict[str, Any], *, make_default: bool, force: bool
) -> None:
    import yaml

    from appctl.config import load_config
    from appctl.contract.io import write_atomic
    from appctl.errors import UsageError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise UsageError(
            f"{path} is not valid YAML: {exc}", suggestion="Fix the file, then run init again."
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a mapping", suggestion="Fix the file first.")
    providers = data.get("providers") or {}
    if name in providers and not force:
        raise UsageError(
            f"{path} already has a provider profile named {name!r}",
            suggestion="Pass --force to replace it, or --name to add another.",
        )
    if "providers" not in data and "default_provider" not in data:
        # append as text: the user's comments and layout stay as they were
        block: dict[str, Any] = {"providers": {name: profile}}
        if make_default:
            block = {"default_provider": name, **block}
        addition = yaml.safe_dump(block, sort_keys=False, default_flow_style=False)
        sep = "" if not text or text.endswith("\n") else "\n"
        new_text = text + sep + ("\n" if text else "") + addition
    else:
        providers = dict(providers)
        providers[name] = profile
        data["providers"] = providers
        if make_default:
            data["default_provider"] = name
        new_text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
        if "#" in text:
            output.info(f"note: {path} was rewritten; its comments were not kept")
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = text
    write_atomic(path, new_text.encode("utf-8"))
    try:
        load_config(path.parent)
    except Exception:
        write_atomic(path, previous.encode("utf-8")) if previous else path.unlink()
        raise
