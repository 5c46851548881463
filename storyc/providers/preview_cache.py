"""Where the free preview's clips are cached, apart from how they are drawn.

A build whose preview clips are all cached (a film removed, a story edited without changing
its plan) looks them up here without importing the drawing and sound code
(`storyc.providers.preview`, which brings in PIL and numpy).
"""

from __future__ import annotations

from storyc.providers.cache import ClipCache

DRAWING_VERSION = 2
"""How the preview draws and sounds, as a number: part of the key its clips are cached under
(`PreviewCache`). A clip's id says what the story asks for, not how the preview draws it, so
without this an upgraded storyc would keep showing old drawings until `--force`. Bump it
whenever `storyc.providers.preview` or `storyc.providers.animatic` changes what a preview
clip looks or sounds like; paid clips are cached by their id alone and are never redrawn."""


class PreviewCache(ClipCache):
    """The preview's clips: `<id>.draw<N>.mp4`, so a new `DRAWING_VERSION` misses the
    drawings of the old one (left behind, like any clip no plan names any more)."""

    suffix = f".draw{DRAWING_VERSION}.mp4"
