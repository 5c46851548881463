"""Rule S116: a cameo's `side:`, `back:` and `outfit:` lines (its further reference images,
`storyc.language.cameo_views`) must each name one image file, once; its `voice-sample:` line
one audio file, once."""

from __future__ import annotations

from collections.abc import Iterator

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic
from storyc.language.cameo_views import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    VOICE_SAMPLE_KEY,
    views_as_written,
    voice_sample_path,
    voice_samples_as_written,
)
from storyc.language.model import Story


def check_cameo_views(story: Story, file: str) -> Iterator[Diagnostic]:
    for cameo in story.cameos:
        seen: set[str] = set()
        for view in views_as_written(cameo):
            if view.key in seen:
                yield R.S116.diagnostic(
                    f"cameo `{cameo.name}` gives `{view.key}:` twice; only the first is sent",
                    view.span,
                    file,
                    help=f"keep one `{view.key}:` line (more views: `side:`, `back:`, `outfit:`)",
                )
                continue
            seen.add(view.key)
            if view.path is None:
                yield R.S116.diagnostic(
                    f"`{view.key}:` of cameo `{cameo.name}` must name one image file in double "
                    f"quotes ({', '.join(IMAGE_SUFFIXES)}); it is `{view.text.strip()}`",
                    view.span,
                    file,
                    help=f'write it as `{view.key}: "refs/{cameo.name}-{view.key}.png"`',
                )
            elif not cameo.path:
                yield R.S116.diagnostic(
                    f"cameo `{cameo.name}` has a `{view.key}:` image but no file of its own "
                    "(its front view)",
                    view.span,
                    file,
                    help=f'give the cameo its front image: `cameo {cameo.name}: "refs/'
                    f'{cameo.name}.png"`',
                )
    yield from check_voice_samples(story, file)


def check_voice_samples(story: Story, file: str) -> Iterator[Diagnostic]:
    """S116 for a cameo's `voice-sample:` line: one quoted audio file, once, on a cameo
    that has its own file (the planner sends references of such cameos only)."""
    for cameo in story.cameos:
        for number, line in enumerate(voice_samples_as_written(cameo)):
            if number > 0:
                yield R.S116.diagnostic(
                    f"cameo `{cameo.name}` gives `{VOICE_SAMPLE_KEY}:` twice; only the first "
                    "is sent",
                    line.span,
                    file,
                    help=f"keep one `{VOICE_SAMPLE_KEY}:` line",
                )
            elif voice_sample_path(cameo) is None:
                yield R.S116.diagnostic(
                    f"`{VOICE_SAMPLE_KEY}:` of cameo `{cameo.name}` must name one audio file in "
                    f"double quotes ({', '.join(AUDIO_SUFFIXES)}); it is `{line.text.strip()}`",
                    line.span,
                    file,
                    help=f'write it as `{VOICE_SAMPLE_KEY}: "refs/{cameo.name}.wav"`; describe '
                    "the voice in words with `voice:`",
                )
            elif not cameo.path:
                yield R.S116.diagnostic(
                    f"cameo `{cameo.name}` has a `{VOICE_SAMPLE_KEY}:` but no file of its own "
                    "(its front view)",
                    line.span,
                    file,
                    help=f'give the cameo its front image: `cameo {cameo.name}: "refs/'
                    f'{cameo.name}.png"`',
                )
