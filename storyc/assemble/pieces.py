"""Re-encode one run of clips (trimmed, letterboxed, faded or dissolving) as a video piece.

The piece is what the film shows from its first clip's first frame to its last clip's last
frame, encoded with the arguments `x264.matching_encoder` proved, so the concat demuxer can
join it to stream-copied clips. One ffmpeg filter graph does it in the decoded YUV domain:
`fps` and scale + pad only where a clip differs from the film, `trim` to whole frames,
`tpad` to hold the last frame of a clip shorter than planned, `fade` through black, `xfade`
for dissolves and `concat` for cuts and fades.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from storyc.assemble.ffmpeg import run_ffmpeg
from storyc.assemble.progress import ProgressCallback, no_progress
from storyc.assemble.timeline import Placement, Timeline


def piece_filter(
    timeline: Timeline,
    run: list[Placement],
    source_fps: list[Fraction | None],
    source_frames: list[int],
    source_sizes: list[tuple[int, int]],
) -> str:
    """The filter graph (inputs 0..n-1 are the run's clips) whose output `[out]` is the piece."""
    fps = timeline.fps
    chains = []
    for number, placement in enumerate(run):
        steps = []
        native_fps = source_fps[number]
        frames_available = source_frames[number]
        if native_fps != fps:
            steps.append(f"fps={fps}")
            if native_fps:
                frames_available = int(frames_available * fps / native_fps)
        if source_sizes[number] != (timeline.width, timeline.height):
            steps.append(
                f"scale={timeline.width}:{timeline.height}:force_original_aspect_ratio=decrease,"
                f"pad={timeline.width}:{timeline.height}:(ow-iw)/2:(oh-ih)/2:color=black"
            )
        missing = placement.frames - frames_available
        if missing > 0:
            steps.append(f"tpad=stop_mode=clone:stop={missing}")
        steps.append(f"trim=end_frame={placement.frames},setpts=PTS-STARTPTS")
        if placement.fade_in:
            steps.append(f"fade=t=in:s=0:n={placement.fade_in}")
        if placement.fade_out:
            steps.append(
                f"fade=t=out:s={placement.frames - placement.fade_out}:n={placement.fade_out}"
            )
        steps.append("settb=AVTB")
        chains.append(f"[{number}:v:0]{','.join(steps)}[c{number}]")

    joined = "c0"
    length = run[0].frames
    for number in range(1, len(run)):
        placement = run[number]
        label = f"j{number}"
        if placement.crossfade_in:
            offset = Fraction(length - placement.crossfade_in) / fps
            duration = Fraction(placement.crossfade_in) / fps
            chains.append(
                f"[{joined}][c{number}]xfade=transition=fade:"
                f"duration={float(duration):.6f}:offset={float(offset):.6f}[{label}]"
            )
            length += placement.frames - placement.crossfade_in
        else:
            chains.append(f"[{joined}][c{number}]concat=n=2:v=1:a=0[{label}]")
            length += placement.frames
        joined = label
    chains.append(f"[{joined}]null[out]")
    return ";".join(chains)


def encode_piece(
    timeline: Timeline,
    run: list[Placement],
    source_fps: list[Fraction | None],
    source_frames: list[int],
    source_sizes: list[tuple[int, int]],
    encoder: list[str],
    timescale: int,
    destination: Path,
    *,
    progress: ProgressCallback = no_progress,
    stage: str = "",
) -> None:
    """Encode the run's part of the film, video only, to `destination`."""
    graph = piece_filter(timeline, run, source_fps, source_frames, source_sizes)
    inputs: list[str] = []
    for placement in run:
        inputs += ["-an", "-i", str(placement.source)]
    frames = run[-1].end - run[0].start
    run_ffmpeg(
        [
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "[out]",
            "-an",
            *encoder,
            "-frames:v",
            str(frames),
            "-video_track_timescale",
            str(timescale),
            str(destination),
        ],
        what=f"re-encoding clips {run[0].clip.index}-{run[-1].clip.index}",
        progress=progress,
        stage=stage,
        total_us=round(frames / timeline.fps * 1_000_000),
    )
