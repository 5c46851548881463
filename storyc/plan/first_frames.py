"""Keyframes as first frames: `first-frame: keyframes` in the header, or `--from-keyframes`.

Each shot without a `from "image"` of its own starts its clip from its keyframe: its own
`keyframe: "file"`, else the still `storyc keyframes` made in `DIR/keyframes/NN-<shot>.png`.
The picture is fitted to the clip's exact size by **crop to fill** (scale to cover, then
centre-crop: no black bars for the model to animate, nothing squashed; see
`docs/providers.md`) and written once as a derived PNG in `<cache>/first-frames/`, named by
the source's sha256 and the size, so the same still always gives the same file, the same
hash and the same clip id (a rerun renders nothing). The PNG is re-encoded from the pixels:
no metadata of the source leaves with it.

Sandbox: a `keyframe:` file was checked by the front end (P218/P219) and is opened again
through the story's `ReferencePolicy`; a still in `DIR/keyframes/` is storyc's own output and
is opened without following a symlink. The derived folder is then allowed by the policy the
renderers check, since storyc wrote every file in it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from dataclasses import replace
from pathlib import Path

from storyc.errors import StorycError
from storyc.language.model import Story
from storyc.plan.capabilities import parse_size
from storyc.plan.keyframes import still_stem
from storyc.sandbox import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ReferencePolicy, open_regular

FRAMES_DIR = "first-frames"
KEYFRAMES_DIR = "keyframes"
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")


def wants_keyframes(story: Story, flag: bool) -> bool:
    """Whether keyframes are sent as first frames: `--from-keyframes` or the header's
    `first-frame: keyframes`."""
    return flag or story.header.first_frame == "keyframes"


def keyframe_sources(story: Story, out_dir: Path) -> tuple[dict[int, Path], list[str]]:
    """Shot index -> its keyframe's file, for every shot without `from "image"`; and the
    shots (as `#N label`) that have none yet."""
    from storyc.plan.planner import resolve_path

    found: dict[int, Path] = {}
    missing: list[str] = []
    for shot in story.shots:
        if shot.from_image:
            continue  # its own first frame wins
        if shot.keyframe:
            found[shot.index] = resolve_path(story, shot.keyframe)
            continue
        still = Path(out_dir) / KEYFRAMES_DIR / f"{still_stem(shot.index, shot.label)}.png"
        if still.is_file() or still.is_symlink():
            found[shot.index] = still.absolute()
        else:
            missing.append(f"#{shot.index}{f' {shot.label}' if shot.label else ''}")
    return found, missing


def fit_to_size(data: bytes, size: str, folder: Path) -> Path:
    """The picture `data` cropped to fill `size`, as `folder/<sha256>-<size>.png` (made once)."""
    from PIL import Image, ImageOps

    parsed = parse_size(size)
    if parsed is None:
        raise StorycError(f"cannot fit a first frame to `{size}`: not a WxH size")
    width, height = parsed
    digest = hashlib.sha256(data).hexdigest()[:32]
    target = Path(folder) / f"{digest}-{width}x{height}.png"
    if target.is_file() and not target.is_symlink():
        return target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise StorycError(f"a {image.width}x{image.height} keyframe is too large")
            image = ImageOps.exif_transpose(image).convert("RGB")
            fitted = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{target.name}.{os.getpid()}.part"
    try:
        fitted.save(temp, format="PNG")
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target


def fitted_first_frames(
    story: Story,
    size: str,
    out_dir: Path,
    cache_root: Path,
    policy: ReferencePolicy,
    *,
    command: str = "storyc keyframes FILE",
) -> dict[int, Path]:
    """Shot index -> its keyframe fitted to `size`, for every shot without `from "image"`.
    Raises `StorycError` naming the shots that have no keyframe and the command to run."""
    sources, missing = keyframe_sources(story, out_dir)
    if missing:
        shots = ", ".join(missing)
        raise StorycError(
            f"{len(missing)} shot{'s' if len(missing) != 1 else ''} {'have' if len(missing) != 1 else 'has'} "
            f"no keyframe to start from ({shots}); keyframes as first frames need one per shot "
            f"in {Path(out_dir) / KEYFRAMES_DIR}",
            hint=f"run `{command}` first (`--provider preview` makes free placeholders), or "
            'give the shot `keyframe: "file.png"` or `from "file.png"`',
        )
    own = {s.index for s in story.shots if s.keyframe and not s.from_image}
    folder = Path(cache_root) / FRAMES_DIR
    fitted: dict[int, Path] = {}
    for index, source in sources.items():
        try:
            opener = policy.open if index in own else open_regular
            with opener(source, MAX_IMAGE_BYTES) as handle:
                data = handle.read()
            fitted[index] = fit_to_size(data, size, folder)
        except StorycError:
            raise
        except Exception as exc:  # Pillow raises many kinds for a file that is not an image
            raise StorycError(
                f"the keyframe of shot {index} ({source}) is not a picture storyc can read "
                f"({type(exc).__name__})",
                hint="make it again with `storyc keyframes FILE --force`, or replace the file",
            ) from None
    return fitted


def policy_with_frames(policy: ReferencePolicy, cache_root: Path) -> ReferencePolicy:
    """`policy`, also allowing the derived first frames (storyc wrote every one of them)."""
    folder = (Path(cache_root) / FRAMES_DIR).resolve()
    if policy.allows(folder):
        return policy
    return replace(policy, allowed=(*policy.allowed, folder))
