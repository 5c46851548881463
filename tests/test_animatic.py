"""The preview as an animatic: pictures, camera moves, audible dialogue, takes that differ."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from render_clips import make_clip

from storyc.plan.takes import take_variant
from storyc.probe import ffmpeg_exe, probe
from storyc.providers.animatic import Move, camera_move, line_slots, shot_picture
from storyc.providers.preview import render_clip


@pytest.mark.parametrize(
    ("text", "move"),
    [
        (None, Move("default")),
        ("", Move("default")),
        ("medium close-up, 35mm", Move("default")),
        ("static wide", Move("static")),
        ("locked-off tripod shot", Move("static")),
        ("slow push in on her face", Move("push")),
        ("slow dolly in from the street window", Move("push")),
        ("the camera zooms in", Move("push")),
        ("crash zoom", Move("push")),
        ("pull back to reveal the valley", Move("pull")),
        ("dolly out", Move("pull")),
        ("zoom out slowly", Move("pull")),
        ("pan left across the bar", Move("pan", "left")),
        ("slow pan to the right", Move("pan", "right")),
        ("truck right with the cyclist", Move("pan", "right")),
        ("tracking left", Move("pan", "left")),
        ("tilt up to the sky", Move("tilt", "up")),
        ("tilts down to the bottle", Move("tilt", "down")),
        ("crane up over the roofs", Move("crane", "up")),
        ("boom down", Move("crane", "down")),
        ("rising aerial", Move("crane", "up")),
        ("slow orbit left around the dancers", Move("orbit", "left")),
        ("arc around the table", Move("orbit", "right")),
        ("handheld, following", Move("handheld")),
        ("Shaky cam", Move("handheld")),
    ],
)
def test_camera_text_names_a_move(text: str | None, move: Move) -> None:
    assert camera_move(text) == move


def test_every_move_is_a_zoompan_expression() -> None:
    for kind in ("static", "push", "pull", "pan", "tilt", "crane", "orbit", "handheld", "x"):
        z, x, y = Move(kind, "left").zoompan(48)
        assert z and x and y and "," not in z + x + y  # commas would split the filter graph


def _picture(path: Path, size: tuple[int, int] = (1280, 720)) -> Path:
    """A picture with a bright quadrant pattern and a grid, so scale changes are visible."""
    image = Image.new("RGB", size, (30, 90, 200))
    w, h = size
    for x in range(0, w, 80):
        image.paste((250, 250, 250), (x, 0, x + 6, h))
    image.paste((240, 40, 40), (0, 0, w // 2, h // 2))
    image.paste((40, 220, 60), (w // 2, h // 2, w, h))
    image.save(path)
    return path


def _frame(video: Path, seconds: float) -> np.ndarray:
    cmd = [ffmpeg_exe(), "-v", "error", "-ss", f"{seconds}", "-i", str(video), "-frames:v", "1"]
    cmd += ["-vf", "scale=160:90", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(90, 160, 3).astype(np.int16)


def _level_db(video: Path, start: float, end: float) -> float:
    """Mean (RMS) level of the audio between start and end, in dBFS."""
    cmd = [ffmpeg_exe(), "-v", "error", "-ss", f"{start}", "-t", f"{end - start}"]
    cmd += ["-i", str(video), "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"]
    samples = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, "<f4")
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-9))


def _with_camera(clip, camera: str | None):  # type: ignore[no-untyped-def]
    shots = tuple(s.model_copy(update={"camera": camera}) for s in clip.shots)
    return clip.model_copy(update={"shots": shots})


def test_the_first_frame_is_the_picture_of_the_first_shot(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "first.png")
    clip = make_clip(render_ms=4000, shots=((0, 2000), (2000, 4000)))
    clip = clip.model_copy(update={"input_reference": str(picture)})
    assert shot_picture(clip, clip.shots[0]) == picture
    assert shot_picture(clip, clip.shots[1]) is None  # no cameo: the second shot is a card
    keyed = clip.shots[1].model_copy(update={"keyframe": str(picture)})
    assert shot_picture(clip, keyed) == picture  # a plan that carries keyframes


async def test_a_shot_with_a_first_frame_shows_it_mid_shot(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "first.png")
    clip = make_clip(render_ms=4000, shots=((0, 4000),))
    clip = _with_camera(clip, "static").model_copy(update={"input_reference": str(picture)})
    output = tmp_path / "clip.mp4"
    await render_clip(clip, output)
    middle = _frame(output, 2.0)
    expected = np.asarray(Image.open(picture).convert("RGB").resize((160, 90))).astype(np.int16)
    top = slice(0, 60)  # above the caption strip
    assert np.abs(middle[top] - expected[top]).mean() < 12
    card = make_clip(render_ms=4000, shots=((0, 4000),))
    await render_clip(_with_camera(card, "static"), tmp_path / "card.mp4")
    assert np.abs(_frame(tmp_path / "card.mp4", 2.0)[top] - expected[top]).mean() > 40


def _keyframe_story(tmp_path: Path, keyframe: str | None, name: str = "k.story") -> Path:
    story = tmp_path / name
    board = f'    keyframe: "{keyframe}"\n' if keyframe else ""
    story.write_text(
        "title: Keys\nmodel: sora-2\n\n"
        'scene "Pier":\n'
        "  shot s1 2s:\n    camera: static\n    action: waves break on the pier\n"
        f"  shot s2 4s:\n    camera: static\n{board}    action: gulls wheel overhead\n",
        encoding="utf-8",
    )
    return story


def test_the_plan_carries_a_keyframe_only_where_a_shot_has_one(tmp_path: Path) -> None:
    from storyc.frontend import compile_file
    from storyc.sandbox import policy_for

    (tmp_path / "boards").mkdir()
    picture = _picture(tmp_path / "boards" / "s2.png")
    story = _keyframe_story(tmp_path, "boards/s2.png")
    plan = compile_file(story, provider="preview", policy=policy_for(story)).plan
    assert plan is not None
    shots = [shot for clip in plan.clips for shot in clip.shots]
    assert [s.keyframe for s in shots] == [None, str(picture.resolve())]
    assert '"keyframe"' in plan.to_json()

    bare = _keyframe_story(tmp_path, None, "bare.story")
    unkeyed = compile_file(bare, provider="preview", policy=policy_for(bare)).plan
    assert unkeyed is not None and '"keyframe"' not in unkeyed.to_json()
    # The preview draws the picture, so its clip is drawn anew when the keyframe changes.
    keyed_ids = {c.id for c in plan.clips}
    _picture(tmp_path / "boards" / "s2.png", (640, 480))
    story = _keyframe_story(tmp_path, "boards/s2.png")
    again = compile_file(story, provider="preview", policy=policy_for(story)).plan
    assert again is not None and {c.id for c in again.clips} != keyed_ids
    # A paid model is never sent the keyframe: its clip ids do not depend on it.
    paid = [compile_file(f, provider="openai", policy=policy_for(f)).plan for f in (story, bare)]
    assert paid[0] is not None and paid[1] is not None
    assert paid[0].clips[0].shots[1].keyframe and not paid[1].clips[0].shots[1].keyframe
    assert [c.id for c in paid[0].clips] == [c.id for c in paid[1].clips]


async def test_a_shot_with_a_keyframe_shows_it_mid_shot(tmp_path: Path) -> None:
    from storyc.frontend import compile_file
    from storyc.sandbox import policy_for

    (tmp_path / "boards").mkdir()
    picture = _picture(tmp_path / "boards" / "s2.png")
    story = _keyframe_story(tmp_path, "boards/s2.png")
    plan = compile_file(story, provider="preview", policy=policy_for(story)).plan
    assert plan is not None and len(plan.clips) == 1  # both shots share one clip
    clip = plan.clips[0]
    output = tmp_path / "clip.mp4"
    await render_clip(clip, output)
    expected = np.asarray(Image.open(picture).convert("RGB").resize((160, 90))).astype(np.int16)
    top = slice(0, 60)  # above the caption strip
    second = clip.shots[1]
    middle = (second.start + second.end) / 2000
    assert np.abs(_frame(output, middle)[top] - expected[top]).mean() < 12
    # The first shot has no picture of its own: its card, not the keyframe.
    assert np.abs(_frame(output, clip.shots[0].end / 2000)[top] - expected[top]).mean() > 40


async def test_push_in_changes_scale_and_static_does_not(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "first.png")
    base = make_clip(render_ms=4000, shots=((0, 4000),))
    base = base.model_copy(update={"input_reference": str(picture)})
    moved = {}
    for camera in ("slow push in", "static", "pan left"):
        output = tmp_path / f"{camera}.mp4"
        await render_clip(_with_camera(base, camera), output)
        first, last = _frame(output, 0.0)[:60], _frame(output, 3.9)[:60]
        moved[camera] = float(np.abs(first - last).mean())
    assert moved["static"] < 2
    assert moved["slow push in"] > 8
    assert moved["pan left"] > 8


def test_lines_share_the_shot_by_their_words() -> None:
    clip = make_clip(dialogue=True)
    shot = clip.shots[0]
    two = shot.model_copy(update={"dialogue": (*shot.dialogue, *shot.dialogue)})
    slots = line_slots(two, 0.0, 4.0)
    assert len(slots) == 2
    assert slots[0].start < slots[0].end <= slots[1].start < slots[1].end <= 4.0


@pytest.mark.parametrize("tts", ["tone", "espeak"])
async def test_dialogue_is_audible_during_its_line(
    tts: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tts == "tone":
        monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    elif not (shutil.which("espeak-ng") or shutil.which("espeak")):
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): the tone is tested")
    clip = make_clip(render_ms=4000, shots=((0, 2000), (2000, 4000)), dialogue=True)
    output = tmp_path / "talk.mp4"
    await render_clip(clip, output)
    assert probe(output).audio_duration_ms == 4000
    line = line_slots(clip.shots[1], 2.0, 4.0)[0]
    speaking = _level_db(output, line.start, min(line.start + 1.2, line.end))
    silent = _level_db(output, 0.2, 1.8)  # the first shot has no dialogue and no sound cue
    assert speaking > -30, speaking
    assert silent < speaking - 20


def test_sound_cues_are_quiet_placeholders(tmp_path: Path) -> None:
    clip = make_clip(render_ms=4000, shots=((0, 4000),))
    shots = (clip.shots[0].model_copy(update={"sound": "rain on the window, distant thunder"}),)
    output = tmp_path / "rain.mp4"
    asyncio.run(render_clip(clip.model_copy(update={"shots": shots}), output))
    level = _level_db(output, 0.5, 3.5)
    assert -50 < level < -30, level


async def test_takes_of_a_clip_look_different(tmp_path: Path) -> None:
    clip = make_clip(render_ms=2000, shots=((0, 2000),))
    await render_clip(clip, tmp_path / "one.mp4")
    await render_clip(take_variant(clip, 2), tmp_path / "two.mp4")
    one, two = _frame(tmp_path / "one.mp4", 1.0), _frame(tmp_path / "two.mp4", 1.0)
    assert np.abs(one - two).mean() > 5
