"""`plan.json` shows exactly what is sent: for every row of the model table, a story is
rendered against the fake provider on 127.0.0.1 and each create request the fake received
must equal the clip's `request` in `plan.json`, its placeholders replaced by what they stand
for (`@fan.png`: a file part with fan.png's bytes, `<upload of fan.png>`: the URL fan.png
was uploaded to, `<data URL of fan.png>`, `<character id of mara>`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fakeprovider import FakeProvider, make_png, make_wav
from fakeprovider.forms import parse_form
from fakeprovider.server import Seen
from fakeprovider.testing import provider_env, storyc

from storyc.frontend import compile_file
from storyc.plan.capabilities import Offering, load_table
from storyc.plan.schema import ClipPlan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4), (1280, 720, 5), (1920, 1080, 3), (1920, 1080, 4))

ROWS = [o for o in load_table().offerings if o.provider in ("openai", "fal", "prodia", "runway")]


def write_row_story(folder: Path, offering: Offering) -> tuple[Path, dict[str, Path]]:
    """A story that gives every field the row sends a clip: with and without sound, from a
    first frame, with cameos (alone and with a first frame, as the row takes them).
    Returns the story and its reference files by name."""
    size = offering.sizes[0]
    width, height = (int(n) for n in size.split("x"))
    seconds = min(offering.lengths)
    files = {"dawn.png": make_png(folder / "frames" / "dawn.png", width, height)}
    header = [
        f"title: {offering.model} on {offering.provider}",
        f"model: {offering.model}",
        f"provider: {offering.provider}",
        f"size: {size}",
        # A shots-only target (Runway's recipe) takes packed clips of several shots.
        "clips: per-shot" if offering.min_shots <= 1 else "clips: packed",
    ]
    if offering.takes_seed:
        header.append("seed: 42")
    # The negative prompt where the row takes one (`Offering.negative_prompt`), else the prompt.
    header.append("avoid: text, watermarks")
    lines = [*header, ""]
    if offering.cameo_mode != "none":
        if offering.cameo_media == "video":
            cameo = folder / "refs" / "mara.mp4"
            cameo.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(EXAMPLES / "refs" / "mara.mp4", cameo)
        else:
            cameo = make_png(folder / "refs" / "mara.png", 512, 512)
        files[cameo.name] = cameo
        lines += [f'cameo mara: "refs/{cameo.name}"', "    look: a keeper in a yellow coat"]
        if offering.cameo_media == "image":  # a second image of her: sent where it fits
            files["mara-side.png"] = make_png(folder / "refs" / "mara-side.png", 512, 512)
            lines.append('    side: "refs/mara-side.png"')
        if offering.max_audio_references:  # her voice, where the row takes audio references
            files["mara.wav"] = make_wav(folder / "refs" / "mara.wav")
            lines.append('    voice-sample: "refs/mara.wav"')
        lines.append("")
    shots = [
        ("", "a lighthouse beam sweeps the fog", "        sfx: a foghorn sounds"),
        ("", "gulls circle the harbour in silence", ""),
    ]
    if offering.first_frame:
        shots.append((' from "frames/dawn.png"', "the dawn light spreads on the water", ""))
    if offering.cameo_mode in ("characters", "image_urls"):
        shots.append(("", "@mara waves from the gallery", ""))
    if offering.cameo_mode in ("characters", "elements"):
        shots.append((' from "frames/dawn.png"', "@mara climbs the stairs", ""))
    lengths = [seconds] * len(shots)
    if offering.min_shots > 1:
        # Two clips of three shots, 1 + 1 + 3 s each (the recipe's shortest length, 5 s),
        # the second from the first frame.
        plain = [s for s in shots if not s[0]]
        framed = [s for s in shots if s[0]][:1]
        shots = [*plain[:2], plain[0], *framed, *plain[:2]][: 3 * (1 + len(framed))]
        lengths = [1, 1, 3] * (1 + len(framed))
    lines.append('scene "Harbour":')
    for number, (source, action, extra) in enumerate(shots, 1):
        length = lengths[number - 1]
        lines += [f"    shot s{number} {length}s{source}:", "        camera: static wide shot"]
        lines += [f"        action: {action}.", *([extra] if extra else []), ""]
    story = folder / "row.story"
    story.write_text("\n".join(lines), encoding="utf-8")
    return story, files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected(value: Any, files: dict[str, Path]) -> Any:
    """`plan.json`'s request with each placeholder replaced by what must arrive for it."""
    if isinstance(value, dict):
        return {k: expected(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [expected(v, files) for v in value]
    if not isinstance(value, str):
        return value
    part = re.fullmatch(r"@([^;]+)(?:;filename=(.+))?", value)
    if part and part[1] in files:
        return ("file", part[2] or part[1], _sha(files[part[1]].read_bytes()))
    named = re.fullmatch(r"<(upload|data URL) of (.+)>", value)
    if named and named[2] in files:
        return (named[1], _sha(files[named[2]].read_bytes()))
    character = re.fullmatch(r"<character id of (.+)>", value)
    if character:
        return ("character", character[1])
    return value


def received(fake: FakeProvider, seen: Seen) -> dict[str, Any]:
    """The create request the fake received, in `plan.json`'s shape, with uploaded URLs,
    data URLs, character ids and file parts replaced by what they carry."""
    content_type = seen.headers.get("content-type", "")
    body: dict[str, Any]
    if content_type.startswith("multipart/form-data"):
        body = {}
        for part in parse_form(content_type, seen.body):
            assert part.name not in body, f"form part {part.name} sent twice"
            if part.content_type == "application/json":
                body[part.name] = json.loads(part.data)
            elif part.filename is not None:
                body[part.name] = ("file", part.filename, _sha(part.data))
            else:
                body[part.name] = part.text
    else:
        assert content_type.startswith("application/json"), content_type
        body = json.loads(seen.body)
    body = _carried(fake, body)
    if seen.provider == "fal":
        return {"app": seen.path.removeprefix("/fal/"), "input": body}
    return body


def _carried(fake: FakeProvider, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _carried(fake, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_carried(fake, v) for v in value]
    if not isinstance(value, str):
        return value
    stored = f"{fake.media_root}/files/"
    if value.startswith(stored):
        return ("upload", _sha(fake.files[value.removeprefix(stored)][0]))
    if value.startswith("runway://uploads/"):
        return ("upload", _sha(fake.files[f"runway/{value.removeprefix('runway://uploads/')}"][0]))
    if value.startswith("data:"):
        return ("data URL", _sha(base64.b64decode(value.partition(",")[2])))
    if value in fake.characters:
        return ("character", fake.characters[value]["name"])
    return value


def runway_problems(body: dict[str, Any]) -> list[str]:
    """Why a Runway body is not valid as runwayml's own TypedDicts type it (empty: it is)."""
    from runwayml.types.recipe_multi_shot_video_params import RecipeMultiShotVideoParams
    from test_render_runway import problems, sdk_params

    from storyc.providers.runway import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

    if "mode" in body:
        return problems(body, RecipeMultiShotVideoParams)
    endpoint = IMAGE_TO_VIDEO if "promptImage" in body else TEXT_TO_VIDEO
    return problems(body, sdk_params(endpoint, body["model"]))


def _prompt(request: dict[str, Any]) -> str:
    """The prompt, wherever the provider's body carries it (top level, fal's `input`,
    prodia's `config`, in a multipart `job` part, Runway's `promptText`)."""
    if "prompt" in request:
        return str(request["prompt"])
    if "promptText" in request:
        return str(request["promptText"])
    if "shots" in request:  # Runway's multi-shot recipe
        return str(request["shots"][-1]["prompt"])
    inner = [_prompt(v) for v in request.values() if isinstance(v, dict)]
    return next(p for p in inner if p)


@pytest.mark.parametrize("offering", ROWS, ids=lambda o: f"{o.provider}-{o.model}")
def test_plan_json_shows_exactly_the_request_that_is_sent(
    offering: Offering, fake: FakeProvider, tmp_path: Path
) -> None:
    story, files = write_row_story(tmp_path / "project", offering)
    out = tmp_path / "out"
    env = provider_env(fake, tmp_path / "cache")
    run = storyc(["render", str(story), "--yes", "-o", str(out)], env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr

    plan = ClipPlan.read(out / "plan.json")
    assert len(plan.clips) >= 2
    if offering.max_audio_references:  # the cameo's voice sample goes with her images
        assert "<upload of mara.wav>" in json.dumps([c.request for c in plan.clips])
    sent = [s for s in fake.requests("submit", offering.provider) if s.status in (200, 201)]
    assert len(sent) == len(plan.clips)
    arrived = {_prompt(request): request for request in (received(fake, s) for s in sent)}
    for clip in plan.clips:
        key = clip.shots[-1].prompt if "shots" in clip.request else clip.prompt
        assert arrived[key] == expected(clip.request, files), f"clip {clip.index}"
        if offering.provider == "runway":
            assert runway_problems(clip.request) == [], clip.request

    # The preview shows the request of the provider whose limits it mirrors.
    if load_table().providers_for(offering.model)[0] == offering.provider:
        preview = compile_file(story, provider="preview")
        assert preview.plan is not None, preview.diagnostics
        assert [c.request for c in preview.plan.clips] == [c.request for c in plan.clips]
