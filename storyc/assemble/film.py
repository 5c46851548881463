"""`assemble_film`: clips + plan -> one MP4 (H.264 + AAC, faststart), by the cheapest clean path.

- lossless: every clip already has the film's exact format and length and every join is a
  cut, so the concat demuxer stream-copies all video packets (bit-exact); the sound's AAC
  packets are copied too, but for a few re-encoded around each cut (`splice`: 5 ms ramps at
  the cuts, every clip's sound within half a packet of its picture), or, where they cannot
  be spliced cleanly, mixed sample-exactly and encoded once.
- partial copy: the clips that need work (trimmed, in a transition, another size or fps) are
  re-encoded as pieces with parameter sets proven identical to the copied clips', and the
  film is joined by stream copy; the sound is mixed.
- moviepy: nothing can be copied cleanly, so moviepy composes and re-encodes the picture.

Whatever the path, the film is written inside a scratch folder next to `out`, checked (frame
count, sound), then moved over `out` in one step: a failed build leaves the last good film.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from storyc.assemble.composite import compose_video
from storyc.assemble.ffmpeg import concat_list, run_ffmpeg
from storyc.assemble.mp4 import Mp4Error, read_mp4
from storyc.assemble.pieces import encode_piece
from storyc.assemble.preflight import (
    SourceFacts,
    audio_copyable,
    copyable,
    film_fps,
    inspect_source,
    reference_key,
)
from storyc.assemble.progress import ProgressCallback, no_progress
from storyc.assemble.soundtrack import (
    AudioFormat,
    decode_clip_audio,
    film_audio_format,
    mix_soundtrack,
    pcm_chunks,
)
from storyc.assemble.splice import PACKET, ClipSound, SplicedSound, splice_soundtrack
from storyc.assemble.timeline import CUT_AUDIO_FADE_MS, Placement, Timeline, build_timeline
from storyc.assemble.x264 import matching_encoder
from storyc.errors import StorycError
from storyc.plan.schema import ClipPlan
from storyc.units import frames_to_seconds, ms_to_samples

if TYPE_CHECKING:
    import numpy as np  # only where sound is mixed (`soundtrack`), never on the copy path

AssemblyPath = Literal["lossless", "partial copy", "moviepy"]
SoundPath = Literal["copied", "spliced", "mixed"]
"""copied: every packet of the clips' sound kept; spliced: kept but for a few packets
re-encoded at each cut (`splice`); mixed: the whole track mixed and encoded once."""


@dataclass(frozen=True)
class AssemblyReport:
    """How the film was made; `describe()` is the sentence the CLI prints."""

    output: Path
    path: AssemblyPath
    seconds: float
    timeline: Timeline
    copied: tuple[int, ...]
    """Clip numbers whose video packets were copied unchanged."""
    reencoded: tuple[int, ...]
    audio: SoundPath
    reason: str = ""
    """Why the film was not (entirely) stream-copied."""
    notes: tuple[str, ...] = field(default=())
    source_frames: tuple[int, ...] = field(default=())
    """Each clip file's length in film frames (for the edit list's media ranges)."""

    @property
    def frames(self) -> int:
        return self.timeline.frames

    @property
    def duration_ms(self) -> int:
        return self.timeline.duration_ms

    def describe(self) -> str:
        sound = {
            "copied": "sound copied",
            "spliced": "sound copied but for a few packets at each cut",
            "mixed": "sound mixed and encoded once",
        }[self.audio]
        if self.path == "lossless":
            count = len(self.copied)
            clips = "the clip" if count == 1 else f"all {count} clips"
            how = f"lossless: {clips} stream-copied (video bit-exact)"
        elif self.path == "partial copy":
            how = (
                f"partial copy: {_numbers(self.copied)} stream-copied, "
                f"{_numbers(self.reencoded)} re-encoded ({self.reason})"
            )
        else:
            how = f"moviepy: the whole film re-encoded ({self.reason})"
        return f"{how}; {sound}; {self.seconds:.2f} s"


class _CannotCopy(Exception):
    """The partial path found it cannot be clean; the moviepy path takes over."""


def assemble_film(
    plan: ClipPlan,
    clips: list[Path],
    out: Path,
    *,
    progress: ProgressCallback = no_progress,
) -> AssemblyReport:
    """Join the rendered `clips` (one per `plan.clips`, in order) into the film `out`."""
    started = time.perf_counter()
    if len(clips) != len(plan.clips):
        raise StorycError(
            f"the plan has {len(plan.clips)} clips but {len(clips)} clip files were given"
        )
    sources = [
        inspect_source(clip, Path(path)) for clip, path in zip(plan.clips, clips, strict=True)
    ]
    fps = film_fps(plan.story.fps, sources)
    timeline = build_timeline(plan, [facts.path for facts in sources], fps)
    film_size = (timeline.width, timeline.height)
    reference = reference_key(sources, film_size, fps)
    copy_flags = [
        copyable(placement, facts, reference, film_size, fps)
        for placement, facts in zip(timeline.placements, sources, strict=True)
    ]
    notes = tuple(_notes(timeline, sources))
    audio_format = film_audio_format([facts.audio for facts in sources])

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".storyc-assemble-", dir=out.parent) as scratch_dir:
        scratch = Path(scratch_dir)
        result = scratch / "film.mp4"
        path: AssemblyPath
        reason = ""
        if all(copy_flags):
            path = "lossless"
            audio = _lossless(timeline, sources, audio_format, scratch, result, progress)
        else:
            path = "partial copy"
            reasons = _clip_reasons(timeline, sources, copy_flags, reference)
            reason = "; ".join(f"clip {n}: {why}" for n, why in reasons.items())
            try:
                if not any(copy_flags):
                    raise _CannotCopy(_why_reencoded(reasons))
                _partial(timeline, sources, copy_flags, audio_format, scratch, result, progress)
            except _CannotCopy as exc:
                path, reason, copy_flags = "moviepy", str(exc), [False] * len(sources)
                _moviepy(timeline, sources, audio_format, scratch, result, progress)
            audio = "mixed"
        _verify(result, timeline)
        os.replace(result, out)
    numbers = [placement.clip.index for placement in timeline.placements]
    return AssemblyReport(
        output=out,
        path=path,
        seconds=time.perf_counter() - started,
        timeline=timeline,
        copied=tuple(n for n, flag in zip(numbers, copy_flags, strict=True) if flag),
        reencoded=tuple(n for n, flag in zip(numbers, copy_flags, strict=True) if not flag),
        audio=audio,
        reason=reason,
        notes=notes,
        source_frames=tuple(_frames_at(facts, fps) for facts in sources),
    )


def _lossless(
    timeline: Timeline,
    sources: list[SourceFacts],
    audio_format: AudioFormat,
    scratch: Path,
    result: Path,
    progress: ProgressCallback,
) -> SoundPath:
    listing = _write_concat(scratch, [(facts.path, facts.frames) for facts in sources], timeline)
    video_in = ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", str(listing)]
    if audio_copyable(sources, timeline.fps):
        spliced = _splice(timeline, sources, audio_format, scratch)
        if spliced is not None:
            progress("joining the clips (stream copy)", 0, 1)
            run_ffmpeg(
                [
                    *video_in,
                    *("-i", str(spliced.adts), "-map", "0:v:0", "-map", "1:a:0"),
                    *("-c", "copy", "-copyts", "-bsf:a", _film_sound_times(spliced)),
                    *("-movflags", "+faststart", str(result)),
                ],
                what="joining the clips by stream copy",
            )
            progress("joining the clips (stream copy)", 1, 1)
            return "spliced" if spliced.stretches else "copied"
    # Clips whose sound cannot be spliced cleanly (no sound in some, another codec, unusual
    # AAC): the whole track is mixed sample-exactly and encoded once.
    has_audio = [facts.audio is not None for facts in sources]
    clips_audio = decode_clip_audio(timeline, has_audio, audio_format)
    soundtrack = mix_soundtrack(timeline, clips_audio, audio_format)
    _mux(video_in, soundtrack, audio_format, timeline, result, progress, "joining the clips")
    return "mixed"


def _splice(
    timeline: Timeline, sources: list[SourceFacts], audio_format: AudioFormat, scratch: Path
) -> SplicedSound | None:
    """The film's sound spliced from the clips' own AAC packets (`splice`), or None."""
    files = [(facts.path, facts.mp4.audio) for facts in sources if facts.mp4 and facts.mp4.audio]
    if len(files) != len(sources) or audio_format.rate != files[0][1].sample_rate:
        return None
    rate = audio_format.rate
    clips = [
        ClipSound(
            start=timeline.sample(placement.start, rate),
            priming=track.priming,
            length=track.duration_samples,
            packets=track.sample_count,
        )
        for placement, (_, track) in zip(timeline.placements, files, strict=True)
    ]
    total = timeline.sample(timeline.frames, rate)
    ramp = ms_to_samples(CUT_AUDIO_FADE_MS, rate)
    return splice_soundtrack(clips, files, total, ramp, scratch / "sound.aac")


def _film_sound_times(sound: SplicedSound) -> str:
    """The ADTS packets' times as the film needs them: the first (priming) packet one packet
    before zero, so the muxer writes the edit list that hides it, and the last packet only
    as long as the film, so the sound ends with the picture."""
    tail = sound.total - (sound.packets - 2) * PACKET
    in_units = f"/({sound.rate}*TB)"  # samples -> the stream's time base
    return (
        f"setts=pts=PTS-{PACKET}{in_units}:dts=DTS-{PACKET}{in_units}"
        f":duration=if(eq(N\\,{sound.packets - 1})\\,{tail}{in_units}\\,DURATION)"
    )


def _partial(
    timeline: Timeline,
    sources: list[SourceFacts],
    copy_flags: list[bool],
    audio_format: AudioFormat,
    scratch: Path,
    result: Path,
    progress: ProgressCallback,
) -> None:
    reference = next(f for f, flag in zip(sources, copy_flags, strict=True) if flag)
    assert reference.mp4 is not None and reference.mp4.video is not None
    encoder, why = matching_encoder(reference.mp4)
    if encoder is None:
        raise _CannotCopy(f"only part of the film could be stream-copied, but {why}")
    has_audio = [facts.audio is not None for facts in sources]
    entries: list[tuple[Path, int]] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        decoding = pool.submit(decode_clip_audio, timeline, has_audio, audio_format)
        for run in _runs(timeline, copy_flags):
            first = run[0].position
            if copy_flags[first]:
                entries.append((sources[first].path, sources[first].frames))
                continue
            piece = scratch / f"piece-{first + 1:02d}.mp4"
            facts = [sources[p.position] for p in run]
            encode_piece(
                timeline,
                run,
                [f.fps for f in facts],
                [f.frames for f in facts],
                [f.size for f in facts],
                encoder,
                reference.mp4.video.timescale,
                piece,
                progress=progress,
                stage=f"re-encoding clips {run[0].clip.index}-{run[-1].clip.index}",
            )
            frames = run[-1].end - run[0].start
            made = read_mp4(piece).video
            if made is None or made.decoder_config != reference.mp4.video.decoder_config:
                raise _CannotCopy("a re-encoded piece came out with other H.264 parameter sets")
            if made.sample_count != frames:
                raise _CannotCopy(f"a re-encoded piece has {made.sample_count}/{frames} frames")
            entries.append((piece, frames))
        clips_audio = decoding.result()
    listing = _write_concat(scratch, entries, timeline)
    soundtrack = mix_soundtrack(timeline, clips_audio, audio_format)
    video_in = ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", str(listing)]
    _mux(video_in, soundtrack, audio_format, timeline, result, progress, "joining the pieces")


def _moviepy(
    timeline: Timeline,
    sources: list[SourceFacts],
    audio_format: AudioFormat,
    scratch: Path,
    result: Path,
    progress: ProgressCallback,
) -> None:
    picture = scratch / "picture.mp4"
    has_audio = [facts.audio is not None for facts in sources]
    with ThreadPoolExecutor(max_workers=1) as pool:
        decoding = pool.submit(decode_clip_audio, timeline, has_audio, audio_format)
        compose_video(timeline, sources, picture, progress=progress, stage="encoding the film")
        clips_audio = decoding.result()
    soundtrack = mix_soundtrack(timeline, clips_audio, audio_format)
    _mux(["-i", str(picture)], soundtrack, audio_format, timeline, result, progress, "adding sound")


def _runs(timeline: Timeline, copy_flags: list[bool]) -> list[list[Placement]]:
    """Copied clips one by one; consecutive clips that need re-encoding grouped together."""
    runs: list[list[Placement]] = []
    for placement in timeline.placements:
        flag = copy_flags[placement.position]
        if runs and not flag and not copy_flags[runs[-1][-1].position]:
            runs[-1].append(placement)
        else:
            runs.append([placement])
    return runs


def _write_concat(scratch: Path, entries: list[tuple[Path, int]], timeline: Timeline) -> Path:
    listing = scratch / "clips.ffconcat"
    text = concat_list(
        [(path, float(frames_to_seconds(frames, timeline.fps))) for path, frames in entries]
    )
    listing.write_text(text, encoding="utf-8")
    return listing


def _mux(
    video_in: list[str],
    soundtrack: np.ndarray,
    audio_format: AudioFormat,
    timeline: Timeline,
    result: Path,
    progress: ProgressCallback,
    stage: str,
) -> None:
    """Copy the video stream from `video_in`, encode `soundtrack` as AAC, faststart."""
    bitrate = "96k" if audio_format.channels == 1 else "160k"
    pcm_in = ["-f", "f32le", "-ar", str(audio_format.rate), "-ac", str(audio_format.channels)]
    run_ffmpeg(
        [
            *video_in,
            *pcm_in,
            *("-i", "pipe:0", "-map", "0:v:0", "-map", "1:a:0"),
            *("-c:v", "copy", "-c:a", "aac", "-b:a", bitrate, "-copyts"),
            *("-movflags", "+faststart", str(result)),
        ],
        what="writing the film",
        stdin_chunks=pcm_chunks(soundtrack),
        progress=progress,
        stage=stage,
        total_us=round(timeline.frames / timeline.fps * 1_000_000),
    )


def _verify(result: Path, timeline: Timeline) -> None:
    """Refuse to replace the last good film with one that is not what the plan says."""
    try:
        facts = read_mp4(result)
    except Mp4Error as exc:
        raise StorycError(
            f"the assembled film is unreadable ({exc}); nothing was replaced"
        ) from exc
    frames = facts.video.sample_count if facts.video else 0
    if frames != timeline.frames:
        raise StorycError(
            f"the assembled film has {frames} frames instead of {timeline.frames}; "
            "the previous film was kept"
        )
    if facts.audio is None or facts.audio.sample_count == 0:
        raise StorycError("the assembled film has no sound track; the previous film was kept")


def _frames_at(facts: SourceFacts, fps: Fraction) -> int:
    """The file's length counted in frames at the film's rate."""
    if facts.fps and facts.fps != fps:
        return int(facts.frames * fps / facts.fps)
    return facts.frames


def _notes(timeline: Timeline, sources: list[SourceFacts]) -> list[str]:
    notes = []
    for placement, facts in zip(timeline.placements, sources, strict=True):
        available = _frames_at(facts, timeline.fps)
        if available < placement.frames:
            short_ms = timeline.frame_ms(placement.frames - available)
            notes.append(
                f"clip {placement.clip.index} is {short_ms} ms shorter than planned; "
                "its last frame is held"
            )
    return notes


def _clip_reasons(
    timeline: Timeline,
    sources: list[SourceFacts],
    copy_flags: list[bool],
    reference: tuple[object, ...] | None,
) -> dict[int, str]:
    """Why each clip that is not copied has to be re-encoded, by clip number."""
    reasons: dict[int, str] = {}
    film_size = (timeline.width, timeline.height)
    for placement, facts in zip(timeline.placements, sources, strict=True):
        if copy_flags[placement.position]:
            continue
        if facts.size != film_size:
            why = f"{facts.width}x{facts.height}, letterboxed into {film_size[0]}x{film_size[1]}"
        elif facts.fps != timeline.fps:
            why = f"{float(facts.fps or 0):g} fps, converted to {float(timeline.fps):g}"
        elif placement.crossfade_in or placement.crossfade_out:
            why = "in a crossfade"
        elif placement.fade_in or placement.fade_out:
            why = "fades through black"
        elif facts.frames > placement.frames:
            why = f"trimmed to {placement.clip.duration} ms"
        elif facts.frames < placement.frames:
            why = "shorter than planned"
        elif reference is None or facts.mp4 is None:
            why = "not H.264 in MP4"
        else:
            why = "encoded differently from the other clips"
        reasons[placement.clip.index] = why
    return reasons


def _why_reencoded(reasons: dict[int, str]) -> str:
    """The moviepy path's reason: what kept the clips from being copied (the first few)."""
    shown = [f"clip {number}: {why}" for number, why in list(reasons.items())[:3]]
    more = ", ..." if len(reasons) > 3 else ""
    return f"no clip could be stream-copied; {'; '.join(shown)}{more}"


def _numbers(numbers: tuple[int, ...]) -> str:
    """`clip 2` or `clips 1, 3`."""
    return ("clip " if len(numbers) == 1 else "clips ") + ", ".join(str(n) for n in numbers)
