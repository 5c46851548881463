"""The offline `preview` renderer: an animatic of each clip, free, with no key and no network.

For every shot a card is drawn with Pillow (scene, shot label, where the shot sits in the
film, camera, light, action, and the shot's dialogue as a subtitle). One ffmpeg run then
turns the cards into the clip: `zoompan` makes a slow push-in on each card so the animatic
moves, a quiet sine tone per shot (a different pitch for each) makes a real AAC track, and
the segments are concatenated and encoded H.264 yuv420p at 24 fps with `+faststart`.

The clip has the plan's real size (`clip.size`) and render length (`clip.render_ms`,
exactly `render_ms * 24 / 1000` frames): the assembler trims and joins it exactly like a clip
from a paid provider. Python never touches a frame, so a 12 s 720p clip takes about a second.
"""

from __future__ import annotations

import asyncio
import colorsys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from storyc.plan.capabilities import parse_size
from storyc.plan.schema import Clip, PlannedShot
from storyc.probe import ffmpeg_exe
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import JobRejected
from storyc.units import ms_to_frames, seconds_text, timecode

FPS = 24
SAMPLE_RATE = 48_000
PUSH_IN = 0.06
"""How much a card is enlarged by the end of its shot (6 %): slow enough to read."""
TONE_VOLUME = 0.05
TONES_HZ: tuple[float, ...] = (220.0, 261.63, 293.66, 329.63, 392.0, 440.0)
"""One quiet tone per shot, stepping through a pentatonic-ish scale so cuts are audible."""
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
    # Margins wider than the push-in eats at the edges (PUSH_IN / 2 per side).
    mx, my = round(width * 0.07), round(height * 0.07)
    small, body, title = (round(n * unit) for n in (22, 28, 46))
    muted, light, accent = (170, 176, 186), (236, 238, 242), (255, 204, 102)
    chars = max(20, int((width - 2 * mx) / (body * 0.56)))

    scene = f"SCENE {clip.scene_index} · {clip.scene}"
    draw.text((mx, my), scene, font=_font(small, bold=True), fill=muted)
    badge = f"clip {clip.index:02d} · preview of {clip.model}"
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
    cards: Sequence[Path], parts: Sequence[Segment], width: int, height: int, output: Path
) -> list[str]:
    """The single ffmpeg run that animates the cards, adds the tones and encodes the clip."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for card in cards:
        cmd += ["-i", str(card)]
    graph: list[str] = []
    concat_inputs = ""
    for n, part in enumerate(parts):
        step = PUSH_IN / max(part.frames - 1, 1)
        # zoompan emits `d` frames from the one still; x/y keep the zoom centred.
        graph.append(
            f"[{n}:v]scale={width}:{height},setsar=1,"
            f"zoompan=z='1+{step:.8f}*on':d={part.frames}:s={width}x{height}:fps={FPS}"
            f":x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2',trim=end_frame={part.frames},"
            f"setpts=PTS-STARTPTS[v{n}]"
        )
        tone = TONES_HZ[n % len(TONES_HZ)]
        seconds = part.frames / FPS
        graph.append(
            f"sine=frequency={tone}:sample_rate={SAMPLE_RATE}:duration={seconds:.6f},"
            f"volume={TONE_VOLUME},afade=t=in:d=0.05,afade=t=out:st={max(seconds - 0.05, 0):.6f}"
            f":d=0.05,aformat=sample_fmts=fltp:channel_layouts=stereo[a{n}]"
        )
        concat_inputs += f"[v{n}][a{n}]"
    graph.append(f"{concat_inputs}concat=n={len(parts)}:v=1:a=1[vc][a];[vc]format=yuv420p[v]")
    total = sum(part.frames for part in parts)
    cmd += ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]"]
    cmd += ["-frames:v", str(total), "-r", str(FPS)]
    cmd += ["-c:v", "libx264", "-preset", ENCODE_PRESET, "-tune", "stillimage", "-crf", "28"]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", str(SAMPLE_RATE), "-b:a", "96k"]
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
        cards = await asyncio.to_thread(_write_cards, clip, parts, width, height, Path(tmp))
        cmd = ffmpeg_command(cards, parts, width, height, output)
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


def _write_cards(
    clip: Clip, parts: Sequence[Segment], width: int, height: int, folder: Path
) -> list[Path]:
    paths = []
    for n, part in enumerate(parts):
        path = folder / f"card-{n:02d}.png"
        # compress_level=1: these PNGs live for a second; speed beats size.
        draw_card(clip, part.shot, width, height).save(path, compress_level=1)
        paths.append(path)
    return paths


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
