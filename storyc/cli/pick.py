"""`storyc pick FILE SHOT TAKE`: record which take of a shot the film uses (in the lock file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.cli.options import AllowPathOption
from storyc.cli.shared import compile_or_exit
from storyc.errors import StorycError
from storyc.terminal import plain


def register(app: typer.Typer) -> None:
    @app.command()
    def pick(
        file: Annotated[Path, typer.Argument(help="The .story file.")],
        shot: Annotated[str, typer.Argument(help="The shot: its label or its number (1, 2, ...).")],
        take: Annotated[int, typer.Argument(help="The take to use (1 is the first).")],
        allow_path: AllowPathOption = None,
    ) -> None:
        """Use take TAKE of SHOT in the film: written to FILE.lock (JSON, commit it)."""
        from storyc.plan.takes import shot_key, take_count, write_pick

        compilation = compile_or_exit(file, None, allow_paths=allow_path)
        story, plan = compilation.story, compilation.plan
        assert story is not None and plan is not None
        number = shot_key(story, shot)
        clip = next(c for c in plan.clips if any(s.index == number for s in c.shots))
        count = take_count(story, clip)
        if not 1 <= take <= count:
            raise StorycError(
                f"shot {shot} has {count} take{'s' if count != 1 else ''}, so there is no take {take}",
                hint="ask for more with `takes N` on the shot or `takes: N` in the header",
            )
        path = write_pick(file, number, take)
        Console(stderr=True).print(plain(f"shot {shot}: take {take} (recorded in {path})"))
