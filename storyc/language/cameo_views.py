"""A cameo's further reference images: the same subject seen from the side, from the back,
or in its outfit, for models that take several images of one subject (Kling's elements, Veo's
and Seedance's reference images, Runway's `references`).

Written in the cameo's body as `key: "file"` lines, the cameo's own file being its front:

    cameo mara: "refs/mara.png"
        look: barista in her 30s
        side: "refs/mara-side.png"
        outfit: "refs/mara-apron.png"

A cameo may also give a recording of its voice, for models that take audio references
(Seedance 2's `audio_urls` on fal, `referenceAudio` on Runway):

        voice-sample: "refs/mara.wav"

Pure: the checker (`storyc.check.cameo_views`, rule S116) reports a bad value; the planner
sends the good ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from storyc.language.model import Cameo, Span

VIEW_KEYS: tuple[str, ...] = ("side", "back", "outfit")
"""The keys that name a further image of a cameo, in the order they are sent."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
"""What a view's file name may end with: the reference images the providers take."""


@dataclass(frozen=True)
class CameoView:
    """One `side:`/`back:`/`outfit:` (or `voice-sample:`) line of a cameo as written."""

    key: str
    text: str
    span: Span
    """The value's span, where a problem with it points."""

    @property
    def path(self) -> str | None:
        """The file a view names: one double-quoted image path; None when it is not one."""
        return _quoted_path(self.text, IMAGE_SUFFIXES)


def views_as_written(cameo: Cameo) -> tuple[CameoView, ...]:
    """Every view line of the cameo, in the order written (repeats and bad values too)."""
    return tuple(
        CameoView(prop.key, prop.text, prop.text_span)
        for prop in cameo.properties
        if prop.key in VIEW_KEYS
    )


def view_paths(cameo: Cameo) -> tuple[str, ...]:
    """The files of the cameo's usable views, as written: the first good line of each key,
    in `VIEW_KEYS` order (side, back, outfit), none that repeats the cameo's own file."""
    found: dict[str, str] = {}
    for view in views_as_written(cameo):
        path = view.path
        if path is not None and view.key not in found:
            found[view.key] = path
    paths = [found[key] for key in VIEW_KEYS if key in found]
    return tuple(dict.fromkeys(p for p in paths if p != cameo.path))


# A cameo's voice sample ----------------------------------------------------------------

VOICE_SAMPLE_KEY = "voice-sample"
"""The key that names a recording of the cameo's voice. (`voice:` stays the words that
describe it: both may be given, and the words are sent where the sample is not.)"""

AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".flac")
"""What a voice sample's file name may end with (its content is checked by ffmpeg)."""


def voice_samples_as_written(cameo: Cameo) -> tuple[CameoView, ...]:
    """Every `voice-sample:` line of the cameo, in the order written (repeats too)."""
    return tuple(
        CameoView(prop.key, prop.text, prop.text_span)
        for prop in cameo.properties
        if prop.key == VOICE_SAMPLE_KEY
    )


def voice_sample_path(cameo: Cameo) -> str | None:
    """The file of the cameo's voice sample as written: its first `voice-sample:` line when
    that names one audio file in double quotes, else None (S116 says why)."""
    lines = voice_samples_as_written(cameo)
    return _quoted_path(lines[0].text, AUDIO_SUFFIXES) if lines else None


def _quoted_path(text: str, suffixes: tuple[str, ...]) -> str | None:
    """The path inside one pair of double quotes, when it ends with one of `suffixes`."""
    text = text.strip()
    if len(text) < 3 or text[0] != '"' or text[-1] != '"' or '"' in text[1:-1]:
        return None
    path = text[1:-1].strip()
    if not path or PurePosixPath(path).suffix.lower() not in suffixes:
        return None
    return path
