"""Re-encode pieces that can sit between stream-copied clips without a decoder noticing.

A piece joined to copied clips by the concat demuxer must carry the very same H.264
parameter sets (SPS/PPS: profile, level, entropy coder, reference frames, frame-number and
picture-order sizes, initial QP, VUI) as the clips, because an MP4 has one `avcC` for the
whole track. libx264 writes its settings into the first frame ("x264 - core 165 - ...
options: cabac=1 ref=3 ..."), so when the clips came from x264 we ask it for the same
header-shaping settings and prove the match with a two-frame trial encode before spending
time on the real one. Clips from another encoder cannot be matched: the caller falls back.
"""

from __future__ import annotations

import re
import tempfile
from fractions import Fraction
from pathlib import Path

from storyc.assemble.ffmpeg import FfmpegError, run_ffmpeg
from storyc.assemble.mp4 import Mp4Error, Mp4Facts, read_first_video_sample, read_mp4

_SETTINGS = re.compile(rb"x264 - core \d+.{0,200}?options: ([ -~]+)", re.DOTALL)

_PRESET_BY_SUBME = {
    0: "ultrafast",
    1: "superfast",
    2: "veryfast",
    4: "faster",
    6: "fast",
    7: "medium",
    8: "slow",
    9: "slower",
    10: "veryslow",
    11: "placebo",
}

# Settings that shape the parameter sets or the frame structure, in x264's own names.
_HEADER_KEYS = (
    "cabac",
    "ref",
    "bframes",
    "b_pyramid",
    "weightb",
    "weightp",
    "8x8dct",
    "keyint",
    "keyint_min",
    "scenecut",
    "open_gop",
    "constrained_intra",
    "bluray_compat",
    "b_adapt",
)


def x264_settings(first_sample: bytes) -> dict[str, str] | None:
    """The `key=value` options libx264 wrote into a clip's first frame, or None."""
    found = _SETTINGS.search(first_sample)
    if found is None:
        return None
    settings: dict[str, str] = {}
    for item in found.group(1).decode("ascii", "replace").split():
        key, sep, value = item.partition("=")
        if sep:
            settings[key] = value
    return settings


def pixel_format(decoder_config: bytes) -> str | None:
    """The ffmpeg pixel format an `avcC`'s first SPS declares (chroma format, bit depth)."""
    if len(decoder_config) < 8 or decoder_config[5] & 0x1F == 0:
        return None
    length = int.from_bytes(decoder_config[6:8], "big")
    sps = decoder_config[8 : 8 + length].replace(b"\0\0\3", b"\0\0")
    if len(sps) < 4:
        return None
    if sps[1] not in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        return "yuv420p"
    bits = "".join(f"{byte:08b}" for byte in sps[4:16])
    cursor = 0

    def golomb() -> int:
        nonlocal cursor
        zeros = 0
        while bits[cursor] == "0":
            zeros += 1
            cursor += 1
        value = int(bits[cursor : cursor + zeros + 1], 2) - 1
        cursor += zeros + 1
        return value

    golomb()  # seq_parameter_set_id
    chroma = golomb()
    if chroma == 3:
        cursor += 1  # separate_colour_plane_flag
    depth = golomb() + 8
    name = {0: "gray", 1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}.get(chroma)
    if name is None:
        return None
    return name if depth == 8 else f"{name}{depth}le"


def encoder_args(settings: dict[str, str], fps: Fraction) -> list[str] | None:
    """ffmpeg arguments for libx264 that reproduce the parameter sets of `settings`."""
    preset = _PRESET_BY_SUBME.get(int(settings.get("subme", "-1")))
    if preset is None:
        return None
    params = [f"{key.replace('_', '-')}={settings[key]}" for key in _HEADER_KEYS if key in settings]
    deblock = settings.get("deblock", "1:0:0").split(":")
    if deblock[0] == "0":
        params.append("no-deblock=1")
    elif len(deblock) == 3:
        params.append(f"deblock={deblock[1]},{deblock[2]}")
    rate_control = settings.get("rc", "crf")
    if rate_control == "crf" and "crf" in settings:
        quality = ["-crf", settings["crf"]]
    elif rate_control == "cqp" and "qp" in settings:
        quality = ["-qp", settings["qp"]]
    else:
        return None  # two-pass/ABR headers depend on a bitrate we cannot recover
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        *quality,
        "-x264-params",
        ":".join(params),
        "-r",
        str(fps),
    ]


def matching_encoder(reference: Mp4Facts) -> tuple[list[str] | None, str]:
    """Encoder arguments proven to give `reference`'s exact `avcC`, or None and the reason."""
    video = reference.video
    if video is None or not video.codec.startswith("avc"):
        return None, "the clips are not H.264"
    if video.fps is None:
        return None, "the clips have a variable frame rate"
    settings = x264_settings(read_first_video_sample(reference))
    if settings is None:
        return None, "the clips' encoder is not x264, so its settings cannot be reproduced"
    args = encoder_args(settings, video.fps)
    pix_fmt = pixel_format(video.decoder_config)
    if args is None or pix_fmt is None:
        return None, "the clips' x264 settings cannot be reproduced"
    args += ["-pix_fmt", pix_fmt]
    with tempfile.TemporaryDirectory(prefix="storyc-trial-") as scratch:
        trial = Path(scratch) / "trial.mp4"
        try:
            run_ffmpeg(
                [
                    "-i",
                    str(reference.path),
                    "-map",
                    "0:v:0",
                    "-frames:v",
                    "2",
                    *args,
                    "-video_track_timescale",
                    str(video.timescale),
                    str(trial),
                ],
                what="checking that the re-encoded pieces can match the clips",
            )
            produced = read_mp4(trial)
        except (FfmpegError, Mp4Error) as exc:
            return None, f"a trial encode failed ({exc})"
    if produced.video is None or produced.video.decoder_config != video.decoder_config:
        return None, "a trial encode gave different H.264 parameter sets than the clips"
    return args, ""
