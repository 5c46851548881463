"""A cameo's voice sample (`voice-sample: "refs/mara.wav"`): checked (S116, P210, P216,
P218), read by its content (audio ffmpeg reads), planned only where the model takes audio
references, and uploaded beside the cameo's images by the fal and Runway renderers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fakeprovider import FakeProvider, make_mp4, make_png, make_wav
from fakeprovider.testing import provider_env, storyc

from storyc.frontend import Compilation, compile_file
from storyc.probe import ffmpeg_exe
from storyc.providers.engine import uploads_of
from storyc.sandbox import audio_length

# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4),)


def write_story(
    folder: Path,
    *,
    provider: str = "fal",
    model: str = "seedance-2",
    voice: str = '"refs/mara.wav"',
    extra: str = "",
) -> Path:
    """A one-shot story whose cameo gives `voice-sample: {voice}` (the files are made)."""
    make_png(folder / "refs" / "mara.png", 512, 512)
    make_wav(folder / "refs" / "mara.wav")
    story = folder / "voice.story"
    story.write_text(
        f"title: Voice\nprovider: {provider}\nmodel: {model}\nsize: 1280x720\n\n"
        'cameo mara: "refs/mara.png"\n    look: a keeper in a yellow coat\n'
        f"    voice: warm alto\n    voice-sample: {voice}\n{extra}\n"
        'scene "Harbour":\n    shot s1 4s:\n        action: @mara waves from the gallery.\n',
        encoding="utf-8",
    )
    return story


def codes(result: Compilation) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in result.diagnostics]


# The check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voice", "says"),
    [
        ("refs/mara.wav", "must name one audio file in double quotes"),
        ('"refs/mara.png"', "must name one audio file in double quotes"),
        ('"refs/mara.wav" "refs/b.wav"', "must name one audio file in double quotes"),
        ('""', "must name one audio file in double quotes"),
    ],
)
def test_a_bad_voice_sample_value_is_s116(tmp_path: Path, voice: str, says: str) -> None:
    result = compile_file(write_story(tmp_path, voice=voice))
    found = [m for c, m in codes(result) if c == "S116"]
    assert len(found) == 1 and says in found[0], codes(result)
    assert result.plan is None or all(c.voice_sample is None for c in result.plan.clips[0].cameos)


def test_a_second_voice_sample_line_is_s116(tmp_path: Path) -> None:
    story = write_story(tmp_path, extra='    voice-sample: "refs/mara.wav"')
    assert [c for c, _ in codes(compile_file(story))] == ["S116"]


def test_every_audio_suffix_is_taken_and_read_by_its_content(tmp_path: Path) -> None:
    ffmpeg = ffmpeg_exe()
    for suffix in ("mp3", "m4a", "ogg", "flac"):
        sample = tmp_path / "refs" / f"mara.{suffix}"
        sample.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=2", sample],
            check=True,
        )
        story = write_story(tmp_path, voice=f'"refs/mara.{suffix}"')
        result = compile_file(story)
        assert codes(result) == [], (suffix, codes(result))
        assert result.plan is not None
        voice = result.plan.clips[0].cameos[0].voice_sample
        assert voice is not None and voice.path == str(sample.resolve())


def test_a_voice_sample_that_is_not_audio_is_p216(tmp_path: Path) -> None:
    story = write_story(tmp_path)
    png = make_png(tmp_path / "refs" / "fake.png", 64, 64)
    png.rename(tmp_path / "refs" / "fake.wav")  # a PNG named .wav
    story.write_text(story.read_text().replace("mara.wav", "fake.wav"), encoding="utf-8")
    found = codes(compile_file(story))
    assert [c for c, _ in found] == ["P216"]
    assert "`refs/fake.wav` is an image" in found[0][1]


def test_a_voice_sample_that_is_not_media_is_p219_with_an_audio_hint(tmp_path: Path) -> None:
    story = write_story(tmp_path)
    (tmp_path / "refs" / "mara.wav").write_bytes(b"RIFF but not really a wave file")
    (found,) = compile_file(story).diagnostics
    assert found.code == "P219"
    assert "`refs/mara.wav` is not audio storyc can read" in found.message
    assert found.help is not None and "WAV, MP3" in found.help


def test_more_voice_samples_in_a_shot_than_the_model_takes_is_p212(tmp_path: Path) -> None:
    story = write_story(tmp_path)
    cameos = "".join(
        f'cameo c{n}: "refs/mara.png"\n    voice-sample: "refs/mara.wav"\n' for n in range(3)
    )
    text = story.read_text().replace('scene "Harbour"', f'{cameos}\nscene "Harbour"')
    text = text.replace("@mara waves", "@mara, @c0, @c1 and @c2 wave")
    story.write_text(text, encoding="utf-8")
    found = codes(compile_file(story))
    assert [c for c, _ in found] == ["P212"]
    assert "sends 4 cameo voice samples" in found[0][1] and "at most 3" in found[0][1]


def test_a_missing_voice_sample_is_p210(tmp_path: Path) -> None:
    story = write_story(tmp_path, voice='"refs/nobody.wav"')
    assert [c for c, _ in codes(compile_file(story))] == ["P210"]


def test_a_model_without_audio_references_warns_and_sends_no_sample(tmp_path: Path) -> None:
    result = compile_file(write_story(tmp_path, model="veo-3.1"))
    assert [c for c, _ in codes(result)] == ["P216"]
    assert "takes no audio reference" in codes(result)[0][1]
    assert result.plan is not None
    clip = result.plan.clips[0]
    assert clip.cameos[0].voice_sample is None
    assert "mara.wav" not in json.dumps(clip.request)
    assert [u.path.name for u in uploads_of(result.plan.clips)] == ["mara.png"]


def test_a_voice_sample_outside_the_project_is_p218(tmp_path: Path) -> None:
    outside = make_wav(tmp_path / "elsewhere" / "secret.wav")
    story = write_story(tmp_path / "project", voice=f'"{outside}"')
    found = codes(compile_file(story))
    assert [c for c, _ in found] == ["P218"]
    assert "outside the project folder" in found[0][1]


# The plan ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model", "field", "expected"),
    [
        ("fal", "seedance-2", "audio_urls", ["<upload of mara.wav>"]),
        (
            "runway",
            "seedance-2",
            "referenceAudio",
            [{"type": "audio", "uri": "<upload of mara.wav>"}],
        ),
    ],
)
def test_the_sample_is_planned_and_in_the_request(
    tmp_path: Path, provider: str, model: str, field: str, expected: object
) -> None:
    result = compile_file(write_story(tmp_path, provider=provider, model=model))
    assert codes(result) == []
    assert result.plan is not None
    clip = result.plan.clips[0]
    body = clip.request.get("input", clip.request)
    assert body[field] == expected
    assert [u.path.name for u in uploads_of(result.plan.clips)] == ["mara.png", "mara.wav"]


def test_the_clip_id_follows_the_sample(tmp_path: Path) -> None:
    story = write_story(tmp_path)
    first = compile_file(story)
    make_wav(tmp_path / "refs" / "mara.wav", seconds=3.0)  # another recording
    second = compile_file(story)
    assert first.plan is not None and second.plan is not None
    assert first.plan.clips[0].id != second.plan.clips[0].id


# The sandbox ---------------------------------------------------------------------------


def test_audio_length_goes_by_content(tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "a.wav", seconds=2.0)
    png = make_png(tmp_path / "a.png", 32, 32)
    mp4 = make_mp4(tmp_path / "a.mp4", 64, 64, 1)
    assert audio_length(wav, wav.stat().st_size) == 2000
    assert audio_length(png, png.stat().st_size) is None
    assert audio_length(mp4, mp4.stat().st_size) is None  # a video is a video reference


def test_an_audio_file_over_the_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyc.sandbox

    wav = make_wav(tmp_path / "a.wav")
    monkeypatch.setattr(storyc.sandbox, "MAX_AUDIO_BYTES", 1000)
    problem = audio_length(wav, wav.stat().st_size)
    assert isinstance(problem, str) and "storyc reads an audio file of at most" in problem


# The renderers, against the loopback fakes ------------------------------------------------


def _stored_bytes(fake: FakeProvider) -> list[bytes]:
    with fake.lock:
        return [value[0] if isinstance(value, tuple) else value for value in fake.files.values()]


@pytest.mark.parametrize(
    ("provider", "field"), [("fal", "audio_urls"), ("runway", "referenceAudio")]
)
def test_the_fake_receives_the_sample_and_a_rerun_sends_nothing(
    fake: FakeProvider, tmp_path: Path, provider: str, field: str
) -> None:
    story = write_story(tmp_path / "project", provider=provider)
    out = tmp_path / "out"
    env = provider_env(fake, tmp_path / "cache")
    run = storyc(["render", str(story), "--yes", "-o", str(out)], env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "mara.wav" in run.stdout + run.stderr  # listed with the other uploads

    wav = (tmp_path / "project" / "refs" / "mara.wav").read_bytes()
    assert wav in _stored_bytes(fake)
    (submit,) = [s for s in fake.requests("submit", provider) if s.status in (200, 201)]
    body = json.loads(submit.body)
    assert len(body[field]) == 1

    before = len(fake.seen)
    again = storyc(["render", str(story), "--yes", "-o", str(out)], env, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(fake.seen) == before  # cached: no upload, no submit


def test_a_sample_outside_the_project_is_refused_before_anything_is_sent(
    fake: FakeProvider, tmp_path: Path
) -> None:
    outside = make_wav(tmp_path / "elsewhere" / "secret.wav")
    story = write_story(tmp_path / "project", voice=f'"{outside}"')
    env = provider_env(fake, tmp_path / "cache")
    run = storyc(["render", str(story), "--yes", "-o", str(tmp_path / "out")], env, tmp_path)
    assert run.returncode != 0
    assert "P218" in run.stdout + run.stderr
    assert fake.seen == []
