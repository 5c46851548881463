"""`--help` in the writer's words: `FILE...`, `DIR`, `N`, never typer's `<list[Path]>`,
`<bool>`, `<str>` or `{files}`.

Typer prints each parameter's Python type in the help. The app and its commands use the
classes below (`StorycGroup`, `StorycCommand`), whose parameters show instead:

- a flag: nothing after its name (`--force`, `--help`);
- an option: its `metavar` (`--out DIR`), else a word for its type (`TEXT`, `N`, `NUMBER`,
  `PATH`), or its choices (`full|concise|json`);
- an argument: its `metavar` or its name in capitals, `...` when it repeats, `[ ]` when it
  may be left out (`FILE...`, `[DIR]`, `[CODE]`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_TYPE_WORDS: dict[type, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


def _type_word(param: TyperArgument | TyperOption, ctx: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and getattr(descriptor, "is_choice", False):
        return TyperOption.display_type(param, ctx).strip("<>")  # type: ignore[arg-type]
    annotation = getattr(descriptor, "annotation", None)
    if descriptor is not None and getattr(descriptor, "is_list", False):
        args = getattr(annotation, "__args__", ())
        annotation = args[0] if args else None
    return _TYPE_WORDS.get(annotation, "VALUE")  # type: ignore[arg-type]


class _PlainArgument(TyperArgument):
    def _plain_name(self) -> str:
        name = self.metavar or (self.name or "value").upper()
        return f"{name}..." if self.nargs != 1 else name

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self._plain_name()

    @property
    def display_name_raw(self) -> str:
        # The rich help's name column; it adds `...` itself to a repeated one without metavar.
        return self._plain_name() if self.metavar else (self.name or "value").upper()

    def _usage_display_name(self) -> str:
        return self._plain_name() if self.required else f"[{self._plain_name()}]"


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or _type_word(self, ctx)


def _plain(param: Any) -> Any:
    # The parameters are typer's own objects; only how they are shown changes.
    if type(param) is TyperArgument:
        param.__class__ = _PlainArgument
    elif type(param) is TyperOption:
        param.__class__ = _PlainOption
    return param


class StorycCommand(TyperCommand):
    """A command whose help shows `FILE...` and `DIR`, not Python types."""

    def get_params(self, ctx: Any) -> list[Any]:
        return [_plain(param) for param in super().get_params(ctx)]


class StorycGroup(TyperGroup):
    """The `storyc` app: its own options shown plainly, and its commands `StorycCommand`s."""

    def get_params(self, ctx: Any) -> list[Any]:
        return [_plain(param) for param in super().get_params(ctx)]
