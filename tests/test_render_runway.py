"""The Runway renderer: its requests checked against Runway's own SDK types (runwayml), and
rendering against a fake Runway API, upload host and CDN on 127.0.0.1."""

from __future__ import annotations

import collections.abc
import inspect
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import typing_extensions
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import (
    StoryShot,
    assert_key_errors,
    assert_refusals_reported,
    assert_secret_free,
    make_clip,
    make_plan,
    provider_env,
    render,
    storyc,
    write_story,
)

# runwayml is a test dependency (`pip install -e .[test]`): its types are the vendor's schema.
from runwayml._utils import PropertyInfo
from runwayml.types import image_to_video_create_params as image_params
from runwayml.types import text_to_video_create_params as text_params

from storyc.plan.capabilities import Offering, load_table
from storyc.probe import probe
from storyc.providers.runway import (
    IMAGE_TO_VIDEO,
    RECIPES,
    TEXT_TO_VIDEO,
    RunwayRenderer,
    _billed,
    build_request,
)

# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4), (1280, 720, 2), (1920, 1080, 3), (1280, 720, 6))

ROWS = [o for o in load_table().offerings if o.provider == "runway"]
MODEL_ROWS = [o for o in ROWS if o.api_model not in RECIPES]
"""The rows sent to text_to_video / image_to_video (a recipe's own test is
tests/test_runway_multi_shot.py)."""


# -- the SDK's types, read the way its own `transform` reads them ---------------------------

_WRAPPERS = {typing_extensions.Required, typing_extensions.NotRequired}
for _name in ("Required", "NotRequired"):
    if hasattr(typing, _name):
        _WRAPPERS.add(getattr(typing, _name))


def _unwrap(hint: Any, required: bool) -> tuple[Any, str | None, bool]:
    """A field's type without Required/NotRequired/Annotated, its wire alias if any, and
    whether it is required (read from the hint: with postponed annotations the TypedDict's
    own `__required_keys__` cannot see `Required[...]`)."""
    alias = None
    while True:
        origin = typing.get_origin(hint)
        if origin in _WRAPPERS:
            required = origin is typing_extensions.Required or origin is getattr(
                typing, "Required", None
            )
            hint = typing.get_args(hint)[0]
        elif origin is typing_extensions.Annotated or origin is typing.Annotated:
            for meta in hint.__metadata__:
                if isinstance(meta, PropertyInfo) and meta.alias:
                    alias = meta.alias
            hint = typing.get_args(hint)[0]
        else:
            return hint, alias, required


def wire_fields(params: type) -> dict[str, tuple[Any, bool]]:
    """A TypedDict's fields by their wire name: (type, required)."""
    hints = typing.get_type_hints(params, include_extras=True)
    fields = {}
    for name, hint in hints.items():
        inner, alias, required = _unwrap(hint, bool(getattr(params, "__total__", True)))
        fields[alias or name] = (inner, required)
    return fields


def sdk_params(endpoint: str, model: str) -> type:
    """The SDK's TypedDict for `model` on `endpoint` (text_to_video or image_to_video)."""
    union = (
        text_params.TextToVideoCreateParams
        if endpoint == TEXT_TO_VIDEO
        else image_params.ImageToVideoCreateParams
    )
    for params in typing.get_args(union):
        literal, _ = wire_fields(params)["model"]
        if model in typing.get_args(literal):
            return params
    raise AssertionError(f"runwayml has no {endpoint} params for model {model!r}")


def problems(value: Any, hint: Any, where: str = "body") -> list[str]:
    """Why `value` is not a valid `hint` as the SDK types it (empty: it is)."""
    origin = typing.get_origin(hint)
    if typing_extensions.is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        fields = wire_fields(hint)
        found = [
            f"{where}.{key}: not a field of {hint.__name__}" for key in value if key not in fields
        ]
        found += [
            f"{where}.{key}: required by {hint.__name__}"
            for key, (_, required) in fields.items()
            if required and key not in value
        ]
        for key, item in value.items():
            if key in fields:
                found += problems(item, fields[key][0], f"{where}.{key}")
        return found
    if origin in (typing.Union, types.UnionType):
        branches = [problems(value, arm, where) for arm in typing.get_args(hint)]
        return [] if any(not b for b in branches) else min(branches, key=len)
    if origin in (typing.Literal, typing_extensions.Literal):
        allowed = typing.get_args(hint)
        ok = any(value == a and type(value) is type(a) for a in allowed)
        return [] if ok else [f"{where}: {value!r} is not one of {allowed}"]
    if origin in (collections.abc.Iterable, list, collections.abc.Sequence):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        (item_hint,) = typing.get_args(hint)
        return [
            p for n, item in enumerate(value) for p in problems(item, item_hint, f"{where}[{n}]")
        ]
    if hint is object:
        return []
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer"]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{where}: expected a string"]
    raise AssertionError(f"{where}: the test does not know the SDK type {hint!r}")


def test_the_type_reader_catches_drift() -> None:
    params = sdk_params(TEXT_TO_VIDEO, "veo3.1")
    good = {"model": "veo3.1", "promptText": "x", "ratio": "1280:720", "duration": 8}
    assert problems(good, params) == []
    assert problems({**good, "prompt_text": "x"}, params) == [
        "body.prompt_text: not a field of Veo3_1"
    ]
    assert problems({**good, "duration": 5}, params)[0].startswith("body.duration: 5 is not")
    assert problems({**good, "duration": "8"}, params)  # a string is not the Literal 8
    assert problems({"model": "veo3.1", "ratio": "1280:720"}, params) == [
        "body.promptText: required by Veo3_1"
    ]


def _clips_for(offering: Offering, tmp_path: Path) -> list[Any]:
    """Every size and length the row allows as text clips (with and without sound and
    seed), each size from a first frame, and cameo images where the model takes them."""
    clips = []
    index = 0
    for size in offering.sizes:
        width, height = (int(n) for n in size.split("x"))
        frame = make_png(tmp_path / f"frame-{size}.png", width, height)
        for seconds in offering.lengths:
            index += 1
            clips.append(
                make_clip(
                    "runway",
                    offering.model,
                    index,
                    f"text {index}",
                    size=size,
                    seconds=seconds,
                    seed=7 if index % 2 else None,
                    audio=bool(index % 3),
                )
            )
        if offering.first_frame:
            index += 1
            clips.append(
                make_clip(
                    "runway",
                    offering.model,
                    index,
                    "from a frame",
                    size=size,
                    seconds=offering.lengths[-1],
                    input_reference=frame,
                    seed=1,
                )
            )
        if offering.cameo_mode != "none":
            faces = [make_png(tmp_path / f"face{n}.png", 512, 512) for n in range(2)]
            index += 1
            clips.append(
                make_clip(
                    "runway",
                    offering.model,
                    index,
                    "cameos",
                    size=size,
                    seconds=offering.lengths[0],
                    cameos=[("mara", faces[0]), ("ines", faces[1])],
                )
            )
    return clips


@pytest.mark.parametrize("offering", MODEL_ROWS, ids=lambda o: o.model)
def test_every_request_matches_the_runway_sdks_own_types(
    offering: Offering, tmp_path: Path
) -> None:
    endpoints = set()
    for clip in _clips_for(offering, tmp_path):
        request = build_request(clip, offering)
        endpoints.add(request.path)
        params = sdk_params(request.path, offering.api_model)
        assert problems(request.body, params) == [], (clip.prompt, request.body)
        # Each placeholder stands for one upload, replaced by a runway:// URI when sent.
        assert all(f.use == "upload" for f in request.files)
    assert TEXT_TO_VIDEO in endpoints
    assert (IMAGE_TO_VIDEO in endpoints) == bool(offering.first_frame)


@pytest.mark.parametrize("offering", MODEL_ROWS, ids=lambda o: o.model)
def test_prompt_limits_are_within_what_the_sdk_documents(offering: Offering) -> None:
    source = inspect.getsource(sdk_params(TEXT_TO_VIDEO, offering.api_model))
    documented = re.search(r"up to (\d+) characters(?: \(measured in UTF-16 code units\))?", source)
    if documented is None:
        assert "prompt_max" in offering.verify
        return
    assert offering.prompt_max <= int(documented[1])
    if "UTF-16" in documented[0]:
        assert offering.prompt_units == "utf16"


def test_utf16_prompt_limits_count_characters_beyond_the_bmp_twice() -> None:
    veo = load_table().offering("runway", "veo-3.1")
    assert veo is not None
    assert veo.prompt_length("fog 🌫") == 6 and len("fog 🌫") == 5


# -- rendering against the fake ---------------------------------------------------------------


def test_every_kind_of_clip_arrives_through_faults(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_HTTP_TIMEOUT_S", "0.5")
    frame = make_png(tmp_path / "frame.png", 1280, 720)
    face = make_png(tmp_path / "mara.png", 512, 512)
    clips = [
        make_clip("runway", "veo-3.1-fast", 1, "veo text", seed=7, audio=False),
        make_clip("runway", "gen-4.5", 2, "gen from a frame", seconds=2, input_reference=frame),
        make_clip("runway", "seedance-2", 3, "seedance with mara", cameos=[("mara", face)]),
        make_clip("runway", "kling-3-pro", 4, "kling text", size="1920x1080", seconds=3),
        make_clip(
            "runway", "veo-3.1", 5, "veo from the same frame", seconds=6, input_reference=frame
        ),
    ]
    fake.faults.script("submit", 429)  # not taken: retried (a 5xx may have been: see below)
    fake.faults.retry_after = "0.1"
    fake.faults.script("status", 500, 0)
    fake.faults.script("upload", 503)
    fake.faults.script("download", 502)
    fake.faults.cut_downloads = 1
    fake.faults.truncated_downloads = 1

    report = render(make_plan(clips), RunwayRenderer(), tmp_path / "cache", jobs=5)

    assert report.ok, [str(f) for f in report.failures]
    assert [fake.submit_count(c.prompt) for c in clips] == [1] * len(clips)
    endpoints = {job.prompt: job.extra["endpoint"] for job in fake.jobs.values()}
    assert endpoints == {
        "veo text": "text_to_video",
        "gen from a frame": "image_to_video",
        "seedance with mara": "text_to_video",
        "kling text": "text_to_video",
        "veo from the same frame": "image_to_video",
    }
    for rendered in report.rendered:
        assert probe(rendered.path).size == rendered.clip.size
    # Two files, each uploaded once; the upload host never sees the key.
    assert len(fake.requests("upload-start")) == 2
    uploads = [s for s in fake.requests("upload") if s.status == 204]
    assert len(uploads) == 2
    api = fake.requests("submit") + fake.requests("status") + fake.requests("upload-start")
    assert all(s.headers["x-runway-version"] == "2024-11-06" for s in api)
    # Videos come from the CDN (another origin) without the key.
    downloads = fake.requests("download")
    assert len(downloads) == len(clips) + 3
    assert all("authorization" not in s.headers for s in downloads + fake.requests("upload"))


def test_a_failed_task_is_reported_in_runways_words(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    assert_refusals_reported(
        fake,
        RunwayRenderer(),
        tmp_path / "cache",
        lambda index, prompt: make_clip("runway", "veo-3.1-fast", index, prompt),
        failed=f"{fake.faults.moderation_message} (SAFETY.INPUT.TEXT)",
    )


def test_a_5xx_on_create_is_uncertain_and_never_sent_again(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    clip = make_clip("runway", "veo-3.1-fast", 1, "a lantern swings")
    fake.faults.after = {"submit": [502]}  # the task exists; the gateway lost the answer

    report = render(make_plan([clip]), RunwayRenderer(), tmp_path / "cache")

    (failure,) = report.failures
    assert "may have" in failure.message or "uncertain" in failure.message.lower(), failure
    assert fake.submit_count("a lantern swings") == 1
    assert len(fake.requests("submit")) == 1


def test_a_clip_the_model_cannot_take_fails_before_anything_is_sent(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    frame = make_png(tmp_path / "frame.png", 1280, 720)
    face = make_png(tmp_path / "mara.png", 512, 512)
    clip = make_clip(
        "runway", "seedance-2", 1, "both", input_reference=frame, cameos=[("mara", face)]
    )

    report = render(make_plan([clip]), RunwayRenderer(), tmp_path / "cache")

    (failure,) = report.failures
    assert "first frame or cameo images" in failure.message
    assert fake.requests() == []


def test_a_refused_or_missing_key_is_one_clear_error(
    fake: FakeProvider, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_key_errors(
        monkeypatch,
        RunwayRenderer,
        "RUNWAYML_API_SECRET",
        "key_wrong-runway-0123456789abcdef",
        make_clip("runway", "veo-3.1-fast", 1, "wrong key"),
    )


def test_storyc_render_sends_what_it_shows_and_keeps_the_key_out_of_every_file(
    fake: FakeProvider, tmp_path: Path
) -> None:
    make_png(tmp_path / "refs" / "fan.png", 1280, 720)
    write_story(
        tmp_path / "spot.story",
        provider="runway",
        model="veo-3.1-fast",
        header="seed: 42",
        shots=[
            StoryShot("a paper boat drifts", 4),
            StoryShot("the fan turns", 6, image="refs/fan.png"),
        ],
    )
    env = provider_env(fake, tmp_path / "cache")
    command = ["render", "spot.story", "--yes", "-o", "out"]

    done = storyc(command, env, tmp_path)
    again = storyc(command, env, tmp_path)

    assert done.returncode == 0, done.stderr
    assert again.returncode == 0 and fake.total_submits() == 2
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 2
    assert_secret_free([tmp_path], [done.stdout, done.stderr, again.stderr], [fake.keys["runway"]])


def test_the_cost_runway_reports_is_read_back_from_each_finished_task(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    clips = [
        make_clip("runway", "veo-3.1-fast", 1, "a calm lake", seconds=4),
        make_clip("runway", "veo-3.1-fast", 2, "a long pier", seconds=6),
    ]

    report = render(make_plan(clips), RunwayRenderer(), tmp_path / "cache")

    assert report.ok, [str(f) for f in report.failures]
    # The fake charges 10 credits a second; a credit is $0.01.
    assert report.billed_usd == {clips[0].id: 0.40, clips[1].id: 0.60}


@pytest.mark.parametrize(
    ("task", "billed"),
    [
        ({"cost": {"credits": 120}}, 1.20),
        ({"cost": {"credits": 0}}, 0.0),  # fully refunded
        ({}, None),
        ({"cost": {"credits": "120"}}, None),
        ({"cost": {"credits": -5}}, None),
        ({"cost": 120}, None),
    ],
)
def test_only_a_well_formed_task_cost_is_read_back(
    task: dict[str, Any], billed: float | None
) -> None:
    assert _billed(task) == billed
