"""Keyframes as first frames (`first-frame: keyframes`, `--from-keyframes`): each shot's
keyframe (its own `keyframe:` file, else the still `storyc keyframes` made) is sent as its
clip's first frame, cropped to fill the clip's exact size, as a derived PNG named by the
source's hash and the size (so a rerun renders and pays for nothing)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cli_support import storyc_main
from fakeprovider import FakeProvider
from fakeprovider.testing import provider_env
from PIL import Image

from storyc.frontend import compile_file
from storyc.plan.first_frames import fit_to_size

FAKE_MEDIA = [(1920, 1080, 4)]

STORY = """\
title: Harbour
provider: fal
model: veo-3.1
size: 1920x1080
seed: 7
{header}
scene "Harbour":
  shot s1 4s:
    keyframe: "boards/s1.png"
    camera: push in
    action: a woman in a red coat looks out to sea
  shot s2 4s:
    action: waves break on the pier
"""


def _board(path: Path) -> None:
    """A 4:3 drawing: a green band on top (cropped away when filling 16:9), red below."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (640, 480), (200, 20, 20))
    image.paste((20, 200, 20), (0, 0, 640, 40))
    image.save(path)


def _story(tmp_path: Path, header: str = "") -> Path:
    _board(tmp_path / "boards" / "s1.png")
    story = tmp_path / "harbour.story"
    story.write_text(STORY.format(header=header), encoding="utf-8")
    return story


def test_header_key_is_checked(tmp_path: Path) -> None:
    story = _story(tmp_path, "first-frame: keyframes\n")
    compilation = compile_file(story)
    assert compilation.story is not None
    assert compilation.story.header.first_frame == "keyframes"
    assert not compilation.has_errors
    story.write_text(STORY.format(header="first-frame: drawings\n"), encoding="utf-8")
    bad = compile_file(story)
    assert any(d.code == "S113" and "keyframes" in d.message for d in bad.diagnostics)


def test_fit_crops_to_fill_and_is_stable(tmp_path: Path) -> None:
    _board(tmp_path / "b.png")
    data = (tmp_path / "b.png").read_bytes()
    first = fit_to_size(data, "1280x720", tmp_path / "frames")
    assert fit_to_size(data, "1280x720", tmp_path / "frames") == first
    assert first.name.endswith("-1280x720.png")
    with Image.open(first) as image:
        assert image.size == (1280, 720)
        # Cropped (the green band is gone), not letterboxed (no black bars at the sides).
        assert image.getpixel((640, 2)) == pytest.approx((200, 20, 20), abs=8)
        assert image.getpixel((2, 360)) == pytest.approx((200, 20, 20), abs=8)


def test_keyframes_then_render_sends_them_as_first_frames_at_the_clip_size(
    fake: FakeProvider, tmp_path: Path
) -> None:
    story = _story(tmp_path)
    env = provider_env(fake, tmp_path / "cache")
    render = ["render", story.name, "-o", "out", "--yes", "--from-keyframes"]

    # No still yet for shot 2: a clear error naming it and the command to run; nothing sent.
    early = storyc_main(render, cwd=tmp_path, env=env)
    assert early.returncode == 1
    said = " ".join(early.stderr.split())
    assert "#2 s2" in said and "storyc keyframes harbour.story -o out" in said
    assert "#1" not in said  # shot 1 has its own `keyframe:`
    assert fake.total_submits() == 0

    made = storyc_main(["keyframes", story.name, "-o", "out", "--yes"], cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    still = tmp_path / "out" / "keyframes" / "02-s2.png"
    with Image.open(still) as image:
        assert image.size == (1920, 1072)  # FLUX sizes are multiples of 16: fitted below
    assert fake.total_submits() == 1

    ran = storyc_main(render, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    videos = [s for s in fake.requests("submit", "fal") if "image-to-video" in s.path]
    assert len(videos) == 2
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert [[s["index"] for s in c["shots"]] for c in plan["clips"]] == [[1], [2]]
    for submit in videos:
        url = json.loads(submit.body)["image_url"]
        data, kind = fake.files[url.split("/files/", 1)[1]]
        assert kind == "image/png"
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (1920, 1080)
    first = next(json.loads(s.body) for s in videos if "red coat" in json.loads(s.body)["prompt"])
    data, _ = fake.files[first["image_url"].split("/files/", 1)[1]]
    with Image.open(io.BytesIO(data)) as image:
        assert image.getpixel((960, 3)) == pytest.approx((200, 20, 20), abs=8)  # cropped
    for clip in plan["clips"]:
        assert Path(clip["input_reference"]).name.endswith("-1920x1080.png")

    # A rerun makes nothing: the same fitted files, the same clip ids, all cached.
    submits = fake.total_submits()
    again = storyc_main(render, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert fake.total_submits() == submits
    assert json.loads((tmp_path / "out" / "plan.json").read_text()) == plan


def test_header_first_frame_keyframes_in_the_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path, "first-frame: keyframes\n")
    story.write_text(story.read_text().replace("provider: fal", "provider: preview"))
    kf = storyc_main(["keyframes", story.name, "-o", "out"], cwd=tmp_path)
    assert kf.returncode == 0, kf.stderr
    ran = storyc_main(["render", story.name, "-o", "out"], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert all(c["input_reference"] for c in plan["clips"]) and len(plan["clips"]) == 2
