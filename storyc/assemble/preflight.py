"""Look at every clip file before assembling: is it there, is it whole, what is it.

A missing or damaged clip stops the build with the clip's shot `file:line`, before anything
is written. The facts gathered here decide which clips can be stream-copied: ffmpeg's concat
demuxer writes a silently broken film from clips that differ in size, frame rate, parameter
sets or audio format, so only clips identical in all of those are copied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyc.assemble.mp4 import AudioTrack, Mp4Error, Mp4Facts, NotMp4Error, read_mp4
from storyc.assemble.timeline import Placement
from storyc.errors import StorycError
from storyc.plan.schema import Clip
from storyc.probe import ProbeError, probe


class ClipFileError(StorycError):
    """A clip file is missing or damaged; the message names the shot it belongs to."""


@dataclass(frozen=True)
class SourceFacts:
    """What assembly needs to know about one clip file."""

    path: Path
    width: int
    height: int
    fps: Fraction | None
    frames: int
    audio: tuple[int, int] | None
    """(sample rate, channels), None when the file has no sound."""
    mp4: Mp4Facts | None
    """The in-process MP4 facts; None for files that are not MP4 (never stream-copied)."""

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def where(clip: Clip) -> str:
    """`cafe.story:17` for the clip's first shot, for messages."""
    if not clip.shots:
        return f"clip {clip.index}"
    shot = clip.shots[0]
    return f"{shot.file}:{shot.line}"


def inspect_source(clip: Clip, path: Path) -> SourceFacts:
    """The facts of `path`, the rendered file of `clip`; raise `ClipFileError` if unusable."""
    label = f"clip {clip.index} ({where(clip)})"
    if not path.is_file():
        raise ClipFileError(
            f"{label} has no rendered file: {path} is missing",
            hint="run `storyc build` again to render it",
        )
    try:
        facts = read_mp4(path)
    except NotMp4Error:
        return _inspect_with_ffmpeg(label, path)
    except Mp4Error as exc:
        raise _damaged(label, path, str(exc)) from None
    video = facts.video
    if video is None or video.sample_count == 0:
        raise _damaged(label, path, "it has no video")
    audio = facts.audio
    return SourceFacts(
        path=path,
        width=video.width,
        height=video.height,
        fps=video.fps,
        frames=video.sample_count,
        audio=(audio.sample_rate, audio.channels) if audio and audio.sample_count else None,
        mp4=facts,
    )


def _inspect_with_ffmpeg(label: str, path: Path) -> SourceFacts:
    try:
        info = probe(path)
    except ProbeError as exc:
        raise _damaged(label, path, exc.message) from None
    has_audio = info.audio_sample_rate is not None
    return SourceFacts(
        path=path,
        width=info.width,
        height=info.height,
        fps=Fraction(info.fps).limit_denominator(1001) if info.fps else None,
        frames=info.video_frames,
        audio=(info.audio_sample_rate or 48000, info.audio_channels or 2) if has_audio else None,
        mp4=None,
    )


def _damaged(label: str, path: Path, reason: str) -> ClipFileError:
    return ClipFileError(
        f"{label} is damaged: {path} cannot be read ({reason})",
        hint=f"delete {path} and run `storyc build` again to render it anew",
    )


def film_fps(requested: int | None, sources: list[SourceFacts]) -> Fraction:
    """The story's fps if it names one, else the frame rate most of the film's clips have."""
    if requested:
        return Fraction(requested)
    votes: Counter[Fraction] = Counter()
    for facts in sources:
        if facts.fps:
            votes[facts.fps] += Fraction(facts.frames) / facts.fps
    return votes.most_common(1)[0][0] if votes else Fraction(24)


def copy_key(facts: SourceFacts) -> tuple[object, ...] | None:
    """What must be identical for two clips' video to be joined by stream copy."""
    mp4 = facts.mp4
    if mp4 is None or mp4.video is None:
        return None
    video = mp4.video
    if not video.codec.startswith("avc") or not video.decoder_config or video.fps is None:
        return None
    if not _presents_every_frame(mp4) or mp4.track_kinds[:1] != ("video",):
        return None  # the concat demuxer matches streams by number: video must be first
    return (
        video.codec,
        video.width,
        video.height,
        video.timescale,
        video.frame_delta,
        video.decoder_config,
    )


def _presents_every_frame(mp4: Mp4Facts) -> bool:
    """True when the edit list shows the whole track from its start (or there is none)."""
    video = mp4.video
    assert video is not None
    edits = video.edits
    if not edits:
        return True
    if len(edits) != 1 or edits[0].media_time < 0 or not video.frame_delta:
        return False
    shown = edits[0].segment_duration * video.timescale / max(1, mp4.movie_timescale)
    return shown + video.frame_delta / 2 >= video.media_duration - edits[0].media_time


def copyable(
    placement: Placement,
    facts: SourceFacts,
    reference: tuple[object, ...] | None,
    film_size: tuple[int, int],
    fps: Fraction,
) -> bool:
    """True when the film can use this clip's video packets exactly as they are."""
    return (
        reference is not None
        and copy_key(facts) == reference
        and facts.size == film_size
        and facts.fps == fps
        and facts.frames == placement.frames
        and placement.joined_by_cuts
    )


def reference_key(
    sources: list[SourceFacts], film_size: tuple[int, int], fps: Fraction
) -> tuple[object, ...] | None:
    """The copy key shared by most of the film's frames among clips of the film's format."""
    votes: Counter[tuple[object, ...]] = Counter()
    for facts in sources:
        key = copy_key(facts)
        if key is not None and facts.size == film_size and facts.fps == fps:
            votes[key] += facts.frames
    return votes.most_common(1)[0][0] if votes else None


def audio_copyable(sources: list[SourceFacts], fps: Fraction) -> bool:
    """True when every clip's AAC can be joined by stream copy (same config, full length)."""
    tracks: list[AudioTrack] = []
    for facts in sources:
        if facts.mp4 is None or facts.mp4.audio is None:
            return False
        if facts.mp4.track_kinds != ("video", "audio"):
            return False
        tracks.append(facts.mp4.audio)
    first = tracks[0]
    for facts, track in zip(sources, tracks, strict=True):
        if track.codec != "mp4a" or (track.decoder_config, track.timescale) != (
            first.decoder_config,
            first.timescale,
        ):
            return False
        video_samples = facts.frames * track.sample_rate / fps
        if abs(track.duration_samples - video_samples) > 1024:
            return False
    return True
