"""Every take of a story's clips, rendered before the film's own clips (`render`, `build`).

`takes: N` (or `takes N` on a shot) asks for N variants of a clip, so `render` and `build`
render them all: every take of every clip goes to `DIR/takes/clips/NN-<id>.mp4` in one run,
so the cost shown before paying and the consent count every take. The film's clips (the take
picked for each clip with `storyc pick`, or take 1) are then laid out in `DIR/clips/` as
always, straight from the cache. A story without takes renders exactly as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from storyc.errors import StorycError
from storyc.terminal import labelled

if TYPE_CHECKING:
    from storyc.frontend import Compilation
    from storyc.providers.engine import RenderReport

TAKES_DIR = "takes"


def render_every_take(
    file: Path, compilation: Compilation, out_dir: Path, console: Console, **options: Any
) -> RenderReport | None:
    """Render every take of every clip to `out_dir/takes/` when a clip has more than one;
    None (nothing done) otherwise. `options` are `render_in_terminal`'s."""
    from storyc.cli.progress_view import render_in_terminal
    from storyc.frontend import compile_file
    from storyc.plan.takes import every_take, take_counts

    plan = compilation.plan
    assert plan is not None
    # The takes are derived from the plan as compiled, before the writer's picks.
    unpicked = compile_file(
        file,
        provider=plan.story.provider,
        policy=compilation.policy,
        picks=False,
        first_frames=compilation.first_frames,
    )
    if unpicked.plan is None or unpicked.story is None:
        return None
    clips = every_take(unpicked.story, unpicked.plan)
    if not clips:
        return None
    counts = take_counts(unpicked.story, unpicked.plan)
    with_takes = sorted(i for i, n in counts.items() if n > 1)
    picked = {c.index: c.take for c in plan.clips}
    chosen = ", ".join(f"clip {i:02d}: take {picked.get(i, 1)}/{counts[i]}" for i in with_takes)
    console.print(
        labelled(
            "takes:",
            "cyan",
            f"rendering all {len(clips)} takes of {len(counts)} clips into "
            f"{out_dir / TAKES_DIR}; the film uses {chosen} (`storyc pick FILE SHOT TAKE` "
            "changes it; take 1 unless picked)",
        )
    )
    takes_plan = plan.model_copy(
        update={"clips": tuple(clips), "cost_usd": round(sum(c.cost_usd for c in clips), 4)}
    )
    report = render_in_terminal(takes_plan, out_dir / TAKES_DIR, console=console, **options)
    if not report.ok:
        count = len(report.failures)
        raise StorycError(
            f"{count} take{'s' if count != 1 else ''} failed; the others are in "
            f"{out_dir / TAKES_DIR / 'clips'}",
            hint=report.next_step,
        )
    return report
