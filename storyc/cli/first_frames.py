"""`--from-keyframes` (and the header's `first-frame: keyframes`) for `render` and `build`:
compile, fit each shot's keyframe to the clip's size, and compile again with those frames as
the clips' first frames (see `storyc.plan.first_frames`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from storyc.errors import StorycError

if TYPE_CHECKING:  # imported when used: `storyc build` checks its stamp before compiling
    from storyc.frontend import Compilation

FromKeyframesOption = Annotated[
    bool,
    typer.Option(
        "--from-keyframes",
        help="Start each shot's clip from its keyframe (its `keyframe:` file, else the still "
        "`storyc keyframes` made in DIR/keyframes/), cropped to fill the clip's size; the "
        "header's `first-frame: keyframes` does the same.",
    ),
]


def compile_for_render(
    file: Path,
    provider: str | None,
    out_dir: Path,
    *,
    allow_paths: Sequence[Path] | None = None,
    from_keyframes: bool = False,
) -> Compilation:
    """`compile_or_exit`, then, when keyframes are first frames, the plan that sends them."""
    from storyc.cli.shared import OutputFormat, compile_or_exit, print_diagnostics
    from storyc.frontend import compile_file
    from storyc.plan.capabilities import load_table
    from storyc.plan.first_frames import fitted_first_frames, policy_with_frames, wants_keyframes
    from storyc.providers.cache import cache_dir_for

    compilation = compile_or_exit(file, provider, allow_paths=allow_paths)
    story, plan, policy = compilation.story, compilation.plan, compilation.policy
    assert story is not None and plan is not None and policy is not None
    if not wants_keyframes(story, from_keyframes):
        return compilation
    offering = load_table().offering(plan.story.provider, plan.story.model)
    if offering is None or not offering.first_frame:
        raise StorycError(
            f"{plan.story.model} on {plan.story.provider} takes no first-frame image, so "
            "keyframes cannot start its clips",
            hint="use a model that takes one (`storyc providers` shows them), or drop "
            "`--from-keyframes` / `first-frame: keyframes`",
        )
    cache_root = cache_dir_for(file)
    command = f"storyc keyframes {file}"
    if out_dir != Path("build") / file.stem:
        command += f" -o {out_dir}"
    fitted = fitted_first_frames(
        story, plan.story.size, out_dir, cache_root, policy, command=command
    )
    again = compile_file(
        file, provider=provider, policy=policy_with_frames(policy, cache_root), first_frames=fitted
    )
    if again.has_errors or again.plan is None:
        print_diagnostics([again], OutputFormat.full, Console(stderr=True, soft_wrap=True))
        raise StorycError(f"{file} with keyframes as first frames has errors; nothing was compiled")
    return again
