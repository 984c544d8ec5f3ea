"""Provider profiles: resolution order, env: keys only, and ``appctl init`` writing them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from appctl.agent.profiles import NO_KEY, resolve
from appctl.config import ProviderProfile, load_config
from appctl.errors import UsageError
from tests import runner

PROFILES = {
    "claude": ProviderProfile(kind="anthropic", model="m1", api_key="env:MY_CLAUDE_KEY"),
    "local": ProviderProfile(kind="openai", model="qwen", base_url="http://127.0.0.1:9/v1"),
}


def test_flag_then_env_then_default_then_only_profile() -> None:
    env = {"MY_CLAUDE_KEY": "k1", "APPCTL_PROVIDER": "local"}
    pick = resolve(PROFILES, "claude", name="claude", model=None, base_url=None, environ=env)
    assert pick.name == "claude" and pick.api_key == "k1" and pick.key_variable == "MY_CLAUDE_KEY"
    pick = resolve(PROFILES, "claude", name=None, model=None, base_url=None, environ=env)
    assert pick.name == "local" and pick.api_key == NO_KEY  # a local server needs no key
    env.pop("APPCTL_PROVIDER")
    pick = resolve(PROFILES, "claude", name=None, model="m2", base_url=None, environ=env)
    assert pick.name == "claude" and pick.profile.model == "m2"
    only = {"local": PROFILES["local"]}
    assert resolve(only, None, name=None, model=None, base_url=None, environ={}).name == "local"


def test_a_kind_name_works_without_a_profile_and_reads_the_standard_key() -> None:
    pick = resolve(
        {}, None, name="gemini", model=None, base_url=None, environ={"GOOGLE_API_KEY": "g"}
    )
    assert pick.profile.kind == "gemini" and pick.api_key == "g"
    pick = resolve(
        {}, None, name=None, model=None, base_url=None, environ={"ANTHROPIC_API_KEY": "a"}
    )
    assert pick.profile.kind == "anthropic"


def test_missing_key_variable_names_it() -> None:
    with pytest.raises(UsageError) as info:
        resolve(PROFILES, None, name="claude", model=None, base_url=None, environ={})
    assert "MY_CLAUDE_KEY" in str(info.value) and "MY_CLAUDE_KEY" in info.value.suggestion


def test_nothing_configured_says_how_to_configure() -> None:
    with pytest.raises(UsageError) as info:
        resolve({}, None, name=None, model=None, base_url=None, environ={})
    assert "appctl init" in info.value.suggestion


def test_unknown_profile_suggests_the_closest() -> None:
    with pytest.raises(UsageError) as info:
        resolve(PROFILES, None, name="claud", model=None, base_url=None, environ={})
    assert "Did you mean 'claude'" in str(info.value)


def test_a_literal_key_in_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "providers:\n  x: {kind: openai, model: m, api_key: sk-live-123}\n"
    )
    with pytest.raises(UsageError) as info:
        load_config(tmp_path)
    assert "env:NAME" in str(info.value) and "sk-live-123" not in str(info.value)


def _init(cwd: Path, *args: str, code: int = 0) -> runner.Invoked:
    return runner.invoke("init", *args, cwd=cwd, code=code)


def test_init_from_flags_appends_and_keeps_comments(tmp_path: Path) -> None:
    app_dir = tmp_path / ".appctl"
    app_dir.mkdir()
    (app_dir / "config.yaml").write_text(
        "# our policy\npolicy:\n  - {match: {name: 'delete_*'}, action: deny}\n"
    )
    _init(
        tmp_path,
        "--kind",
        "openai",
        "--name",
        "local",
        "--model",
        "qwen2.5",
        "--provider-url",
        "http://127.0.0.1:11434/v1",
    )
    text = (app_dir / "config.yaml").read_text()
    assert text.startswith("# our policy\n")
    config = load_config(app_dir)
    assert config.default_provider == "local"
    assert config.providers["local"].base_url == "http://127.0.0.1:11434/v1"
    assert config.policy[0].action == "deny"
    # a second profile: the file is rewritten, the first profile stays, the default moves
    _init(tmp_path, "--kind", "anthropic", "--api-key-env", "TEAM_CLAUDE_KEY")
    config = load_config(app_dir)
    assert (
        set(config.providers) == {"local", "anthropic"} and config.default_provider == "anthropic"
    )
    assert config.providers["anthropic"].api_key == "env:TEAM_CLAUDE_KEY"
    assert config.policy[0].action == "deny"


def test_init_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    proc = _init(tmp_path, code=2)
    assert "--kind is required" in proc.stderr
    proc = _init(tmp_path, "--kind", "openai", "--api-key-env", "sk-abc123", code=2)
    assert "NAME of an environment variable" in proc.stderr
    assert not (tmp_path / ".appctl" / "config.yaml").exists()
    _init(tmp_path, "--kind", "gemini")
    proc = _init(tmp_path, "--kind", "gemini", code=2)
    assert "--force" in proc.stderr
    _init(tmp_path, "--kind", "gemini", "--model", "gemini-2.5-pro", "--force")
    data = yaml.safe_load((tmp_path / ".appctl" / "config.yaml").read_text())
    assert data["providers"]["gemini"]["model"] == "gemini-2.5-pro"
