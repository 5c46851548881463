"""The command table and the renderer registry have no fallbacks: a missing module or class is
a bug to see, not something to skip (issue 10, item 6)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from storyc.errors import UsageError
from storyc.providers import registry

# the module, not the Typer app that `storyc.cli` exports under the same name
cli_app = importlib.import_module("storyc.cli.app")
CLI = Path(cli_app.__file__).resolve().parent


def test_every_command_module_is_registered() -> None:
    defining = sorted(
        f"storyc.cli.{path.stem}"
        for path in CLI.glob("*.py")
        if "\ndef register(" in path.read_text(encoding="utf-8")
    )
    assert sorted(cli_app.COMMAND_MODULES) == defining


def test_a_missing_command_module_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_app, "COMMAND_MODULES", ("storyc.cli.no_such_command",))
    with pytest.raises(ModuleNotFoundError, match="no_such_command"):
        cli_app._register_commands()


@pytest.mark.parametrize("name", registry.renderer_names())
def test_every_registered_renderer_is_its_named_class(name: str) -> None:
    module_name, _, class_name = registry.RENDERERS[name].partition(":")
    cls = registry.renderer_class(name)
    assert cls is getattr(importlib.import_module(module_name), class_name)
    assert cls.name == name


def test_a_missing_renderer_module_or_class_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry.RENDERERS, "ghost", "storyc.providers.ghost:GhostRenderer")
    with pytest.raises(ModuleNotFoundError, match="ghost"):
        registry.renderer_class("ghost")
    # a renamed class is not searched for under another name
    monkeypatch.setitem(registry.RENDERERS, "ghost", "storyc.providers.preview:GhostRenderer")
    with pytest.raises(AttributeError, match="GhostRenderer"):
        registry.renderer_class("ghost")


def test_an_unknown_provider_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown provider `pika`; storyc renders with: "):
        registry.renderer_class("pika")
