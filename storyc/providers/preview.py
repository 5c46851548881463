"""The offline `preview` renderer: an animatic of each clip, free, with no key and no network.

Each shot is shown from the best picture it has (its keyframe, the clip's `from` first
frame, a cameo still; see `storyc.providers.animatic.shot_picture`), cropped to the clip's
size with a caption strip (shot, timecode, action, the dialogue as a subtitle); a shot with no
picture gets a card drawn with Pillow (scene, shot, where it sits in the film, camera, light,
action, dialogue). The `camera:` text picks the motion over the still (push in, pull out,
pan, tilt, crane, orbit, handheld, static: `animatic.camera_move`), and the sound is the
dialogue spoken by espeak-ng when it is installed, else one soft blip per word, over quiet
placeholders for the sound cues (`animatic.clip_audio`). Takes after the first get a colour
grade and framing of their own, so they visibly differ. One ffmpeg run turns the stills into
the clip, H.264 yuv420p at 24 fps with AAC sound and `+faststart`.

The clip has the plan's real size (`clip.size`) and render length (`clip.render_ms`,
exactly `render_ms * 24 / 1000` frames): the assembler trims and joins it exactly like a clip
from a paid provider. Python never touches a video frame, so a 12 s 720p clip takes about a
second.
"""

from __future__ import annotations

import asyncio
import colorsys
import io
import math
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from storyc.plan.capabilities import parse_size
from storyc.plan.schema import Clip, PlannedShot
from storyc.probe import ffmpeg_exe
from storyc.providers.animatic import (
    SAMPLE_RATE,
    Move,
    camera_move,
    clip_audio,
    is_video,
    shot_picture,
    video_still,
)
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import JobRejected
from storyc.units import ms_to_frames, seconds_text, timecode

FPS = 24
CARD_MOVE = 0.5
"""Text cards move half as much as pictures (a pan must not push their text out)."""
ENCODE_PRESET = "ultrafast"


@dataclass(frozen=True)
class Segment:
    """One shot's stretch of the clip, in whole frames."""

    shot: PlannedShot | None
    frames: int


def frame_count(ms: int) -> int:
    """Frames at 24 fps covering `ms` milliseconds (rounded to the nearest frame)."""
    return ms_to_frames(ms, FPS)


def segments(clip: Clip) -> list[Segment]:
    """Split the clip's render length into one segment per shot, in whole frames.

    Boundaries are rounded from the shots' ms times, so the segments always add up to
    exactly `frame_count(clip.render_ms)`. The slack after the last shot (rendered, then
    trimmed by the assembler) shows the last shot's card.
    """
    total = frame_count(clip.render_ms)
    if not clip.shots:
        return [Segment(None, total)]
    cuts = [min(frame_count(shot.start), total) for shot in clip.shots[1:]]
    bounds = [0, *cuts, total]
    result = []
    for shot, start, end in zip(clip.shots, bounds, bounds[1:], strict=False):
        if end > start:
            result.append(Segment(shot, end - start))
    if not result:
        result.append(Segment(clip.shots[-1], total))
    return result


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = ("DejaVuSans-Bold.ttf",) if bold else ("DejaVuSans.ttf",)
    for name in (*names, "DejaVuSans.ttf", "Arial.ttf", "LiberationSans-Regular.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _scene_colour(scene_index: int) -> tuple[int, int, int]:
    # A dark, distinct background per scene so scene changes read at a glance.
    hue = (scene_index * 0.17 + 0.58) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.45, 0.22)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_card(clip: Clip, shot: PlannedShot | None, width: int, height: int) -> Image.Image:
    """The still card for one shot of the clip, at the clip's size."""
    image = Image.new("RGB", (width, height), _scene_colour(clip.scene_index))
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 720
    # Margins wider than a card's move eats at the edges (see `CARD_MOVE`).
    mx, my = round(width * 0.07), round(height * 0.07)
    small, body, title = (round(n * unit) for n in (22, 28, 46))
    muted, light, accent = (170, 176, 186), (236, 238, 242), (255, 204, 102)
    chars = max(20, int((width - 2 * mx) / (body * 0.56)))

    scene = f"SCENE {clip.scene_index} · {clip.scene}"
    draw.text((mx, my), scene, font=_font(small, bold=True), fill=muted)
    badge = f"clip {clip.index:02d} · preview of {clip.model}"
    if clip.take > 1:
        badge += f" · take {clip.take}"
    badge_w = draw.textlength(badge, font=_font(small))
    fits_beside = badge_w + draw.textlength(scene, font=_font(small)) < width - 3 * mx
    badge_y = my if fits_beside else my + round(small * 1.4)
    draw.text((width - mx - badge_w, badge_y), badge, font=_font(small), fill=muted)

    y = my + round(small * 3.0)
    if shot is None:
        draw.text((mx, y), "(no shots)", font=_font(title, bold=True), fill=light)
        return image
    label = f"Shot {shot.index}" + (f" · {shot.label}" if shot.label else "")
    draw.text((mx, y), label, font=_font(title, bold=True), fill=light)
    y += round(title * 1.35)
    length = seconds_text(shot.end - shot.start)
    film = f"film {timecode(shot.film_start)} – {timecode(shot.film_end)}  ({length} s)"
    draw.text((mx, y), film, font=_font(body), fill=accent)
    y += round(body * 1.3)
    draw.text((mx, y), f"{Path(shot.file).name}:{shot.line}", font=_font(small), fill=muted)
    y += round(small * 2.0)

    bottom = height - my - (round(body * 3.2) if shot.dialogue else 0)
    fields = (("camera", shot.camera, 2), ("light", shot.light, 2), ("action", shot.action, 8))
    for heading, text, most in fields:
        if not text:
            continue
        head = f"{heading}: "
        indent = draw.textlength(head, font=_font(body, bold=True))
        lines = textwrap.wrap(text, chars - len(head)) or [""]
        room = max(0, min(most, (bottom - y) // round(body * 1.35)))
        if len(lines) > room:
            lines = lines[:room]
            if lines:
                lines[-1] = lines[-1].rstrip(".,;: ") + " …"
        for n, line in enumerate(lines):
            if n == 0:
                draw.text((mx, y), head, font=_font(body, bold=True), fill=muted)
            draw.text((mx + indent, y), line, font=_font(body), fill=light)
            y += round(body * 1.35)
        y += round(body * 0.3)

    if shot.dialogue:
        _draw_subtitle(draw, shot, width, height, my, body, chars)
    return image


def _draw_subtitle(
    draw: ImageDraw.ImageDraw,
    shot: PlannedShot,
    width: int,
    height: int,
    margin: int,
    size: int,
    chars: int,
) -> None:
    lines: list[str] = []
    for cue in shot.dialogue:
        speaker = cue.speaker.upper() + (f" ({cue.delivery})" if cue.delivery else "")
        lines += textwrap.wrap(f"{speaker}: {cue.text}", chars)
    lines = lines[-2:]
    font = _font(size)
    step = round(size * 1.3)
    y = height - margin - step * len(lines)
    for line in lines:
        line_w = draw.textlength(line, font=font)
        x = (width - line_w) / 2
        pad = round(size * 0.3)
        draw.rectangle(
            (x - pad, y - pad // 2, x + line_w + pad, y + step - pad // 2), fill=(0, 0, 0)
        )
        draw.text((x, y), line, font=font, fill=(255, 255, 255))
        y += step


def ffmpeg_command(
    stills: Sequence[Path],
    parts: Sequence[Segment],
    width: int,
    height: int,
    output: Path,
    *,
    moves: Sequence[Move] | None = None,
    captions: Sequence[Path | None] | None = None,
    audio: Path | None = None,
    strengths: Sequence[float] | None = None,
) -> list[str]:
    """The single ffmpeg run that moves each still (`moves`: the shot's camera move, default
    a slow push-in), lays its caption strip over it (a still RGBA picture, not moving), adds
    the clip's sound (`audio`, a WAV; silence without one) and encodes the clip."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for still in stills:
        cmd += ["-i", str(still)]
    overlays = list(captions or [None] * len(parts))
    caption_input: dict[int, int] = {}
    for n, caption in enumerate(overlays):
        if caption is not None:
            caption_input[n] = len(stills) + len(caption_input)
            cmd += ["-i", str(caption)]
    audio_input = len(stills) + len(caption_input)
    if audio is not None:
        cmd += ["-i", str(audio)]
    else:
        cmd += ["-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
    graph: list[str] = []
    concat_inputs = ""
    for n, part in enumerate(parts):
        move = moves[n] if moves else Move("default")
        strength = strengths[n] if strengths else 1.0
        z, x, y = move.zoompan(part.frames, strength)
        # zoompan emits `d` frames from the one still.
        label = f"m{n}" if n in caption_input else f"v{n}"
        graph.append(
            f"[{n}:v]scale={width}:{height},setsar=1,"
            f"zoompan=z='{z}':d={part.frames}:s={width}x{height}:fps={FPS}"
            f":x='{x}':y='{y}',trim=end_frame={part.frames},"
            f"setpts=PTS-STARTPTS[{label}]"
        )
        if n in caption_input:
            graph.append(f"[m{n}][{caption_input[n]}:v]overlay=0:0:format=auto[v{n}]")
        concat_inputs += f"[v{n}]"
    graph.append(f"{concat_inputs}concat=n={len(parts)}:v=1:a=0[vc];[vc]format=yuv420p[v]")
    total = sum(part.frames for part in parts)
    cmd += ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", f"{audio_input}:a"]
    cmd += ["-frames:v", str(total), "-r", str(FPS)]
    cmd += ["-c:v", "libx264", "-preset", ENCODE_PRESET, "-tune", "stillimage", "-crf", "28"]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", str(SAMPLE_RATE), "-ac", "2"]
    cmd += ["-b:a", "96k"]
    cmd += ["-t", f"{total / FPS:.6f}", "-movflags", "+faststart", "-f", "mp4", str(output)]
    return cmd


async def render_clip(clip: Clip, output: Path) -> None:
    """Write the animatic of `clip` to `output` (an .mp4 path; the caller moves it into place)."""
    size = parse_size(clip.size)
    if size is None or size[0] % 2 or size[1] % 2:
        raise JobRejected("preview", f"cannot render size {clip.size!r} (need even WxH)", clip.stem)
    width, height = size
    parts = segments(clip)
    with tempfile.TemporaryDirectory(prefix="storyc-preview-") as tmp:
        folder = Path(tmp)
        frames = await asyncio.to_thread(_write_frames, clip, parts, width, height, folder)
        audio = folder / "sound.wav"
        await asyncio.to_thread(_write_sound, clip, parts, audio)
        cmd = ffmpeg_command(
            frames.stills,
            parts,
            width,
            height,
            output,
            moves=[camera_move(part.shot.camera if part.shot else None) for part in parts],
            captions=frames.captions,
            audio=audio,
            strengths=[1.0 if c is not None else CARD_MOVE for c in frames.captions],
        )
        process = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, stderr = await process.communicate()
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
    if process.returncode != 0:
        detail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["ffmpeg failed"]
        raise JobRejected(
            "preview", f"ffmpeg could not encode the animatic: {detail[0]}", clip.stem
        )


@dataclass(frozen=True)
class Frames:
    stills: list[Path]
    """One picture per segment (the shot's picture fitted to the clip, or its card)."""
    captions: list[Path | None]
    """The caption strip laid over a picture (None over a card: it carries its text)."""


def _write_frames(
    clip: Clip, parts: Sequence[Segment], width: int, height: int, folder: Path
) -> Frames:
    stills: list[Path] = []
    captions: list[Path | None] = []
    for n, part in enumerate(parts):
        path = folder / f"still-{n:02d}.png"
        picture = _picture(clip, part.shot, width, height)
        caption = None
        if picture is None:
            picture = draw_card(clip, part.shot, width, height)
        else:
            caption = folder / f"caption-{n:02d}.png"
            draw_caption(clip, part.shot, width, height).save(caption, compress_level=1)
        # compress_level=1: these PNGs live for a second; speed beats size.
        _take_grade(picture, clip.take).save(path, compress_level=1)
        stills.append(path)
        captions.append(caption)
    return Frames(stills, captions)


def _write_sound(clip: Clip, parts: Sequence[Segment], path: Path) -> None:
    spans, at = [], 0
    for part in parts:
        spans.append((part.shot, at / FPS, (at + part.frames) / FPS))
        at += part.frames
    path.write_bytes(clip_audio(clip, spans, at / FPS))


def _picture(clip: Clip, shot: PlannedShot | None, width: int, height: int) -> Image.Image | None:
    """The shot's best picture (see `animatic.shot_picture`) cropped to fill the clip's size;
    the take moves the crop a little, so takes are framed differently."""
    source = shot_picture(clip, shot)
    if source is None:
        return None
    try:
        if is_video(source):
            data = video_still(source, ffmpeg_exe())
            if data is None:
                return None
            image = Image.open(io.BytesIO(data))
        else:
            image = Image.open(source)
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    shift = 0.0 if clip.take == 1 else 0.15 * math.sin(clip.take * 2.1)
    return ImageOps.fit(
        image, (width, height), Image.Resampling.BILINEAR, centering=(0.5 + shift, 0.5)
    )


def _take_grade(image: Image.Image, take: int) -> Image.Image:
    """Take 1 as it is; other takes with a light colour grade of their own."""
    if take <= 1:
        return image
    hue = (take * 0.29) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.6, 0.9)
    tint = Image.new("RGB", image.size, (int(r * 255), int(g * 255), int(b * 255)))
    return Image.blend(image, tint, 0.14)


def draw_caption(clip: Clip, shot: PlannedShot | None, width: int, height: int) -> Image.Image:
    """The strip laid over a picture: shot, timecode and action at the bottom, the dialogue
    as a subtitle above it (RGBA, transparent elsewhere)."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 720
    small, body = round(22 * unit), round(26 * unit)
    mx = round(width * 0.04)
    chars = max(20, int((width - 2 * mx) / (body * 0.56)))
    band = round(body * 3.4)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 170))
    y = height - band + round(body * 0.35)
    if shot is not None:
        label = f"Shot {shot.index}" + (f" · {shot.label}" if shot.label else "")
        film = f"{timecode(shot.film_start)} – {timecode(shot.film_end)}"
        take = f" · take {clip.take}" if clip.take > 1 else ""
        heading = f"{label}  {film}{take}"
        draw.text((mx, y), heading, font=_font(small, bold=True), fill=(255, 204, 102))
        y += round(small * 1.4)
        action = textwrap.wrap(shot.action or "", chars)[:1]
        if action:
            more = " …" if len(textwrap.wrap(shot.action or "", chars)) > 1 else ""
            draw.text((mx, y), action[0] + more, font=_font(body), fill=(236, 238, 242))
        if shot.dialogue:
            _draw_subtitle(draw, shot, width, height - band, round(body * 0.6), body, chars)
    return image


class PreviewRenderer:
    """The default renderer: free, offline, deterministic; implements `Renderer`.

    `submit` only hands out a local job id (nothing is queued anywhere), `status` is always
    completed, and `download` draws and encodes the animatic straight to the destination.
    """

    name = "preview"
    paid = False
    reconciles = False

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        sending()
        return Submitted(job_id=f"preview-{clip.id}")

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        # Nothing is queued anywhere: a preview "job" is found by drawing it again.
        return Submitted(job_id=f"preview-{clip.id}")

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        return JobStatus(state="completed", progress=100.0)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        await render_clip(clip, destination)

    async def aclose(self) -> None:
        return None
