"""`storyc pick FILE SHOT TAKE`: record which take of a clip the film uses (in the lock file).

Takes belong to a clip; SHOT names any shot of it (label or number, as `storyc plan` shows
them), and a new pick replaces the one made through another shot of the same clip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.cli.options import AllowPathOption
from storyc.cli.shared import compile_or_exit
from storyc.terminal import plain


def register(app: typer.Typer) -> None:
    @app.command()
    def pick(
        file: Annotated[Path, typer.Argument(help="The .story file.")],
        shot: Annotated[str, typer.Argument(help="The shot: its label or its number (1, 2, ...).")],
        take: Annotated[int, typer.Argument(help="The take to use (1 is the first).")],
        allow_path: AllowPathOption = None,
    ) -> None:
        """Use take TAKE of the clip holding SHOT in the film: written to FILE.lock (JSON,
        commit it). Takes belong to a clip: naming any of its shots picks for the clip."""
        from storyc.frontend import compile_file
        from storyc.plan.takes import pick_take, shot_key
        from storyc.sandbox import policy_for

        # Without the picks: a lock with two picks in one clip must not stop the pick
        # that settles it.
        compilation = compile_file(file, policy=policy_for(file, allow_path or ()), picks=False)
        if compilation.has_errors or compilation.plan is None:
            compilation = compile_or_exit(file, None, allow_paths=allow_path)
        story, plan = compilation.story, compilation.plan
        assert story is not None and plan is not None
        picked = pick_take(file, story, plan, shot_key(story, shot), take)
        Console(stderr=True).print(plain(f"{picked.describe()} (recorded in {picked.path})"))
