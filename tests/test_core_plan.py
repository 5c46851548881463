"""The clip planner: packing, render lengths, slack, film times, cost, ids."""

from __future__ import annotations

from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from storyc.plan.capabilities import load_table


def no_files(_path: object) -> FileFacts:
    return FileFacts(exists=False)


def plan_of(source: str, provider: str | None = None):
    result = analyze_source(source, "t.story", provider=provider, read_facts=no_files)
    assert result.plan is not None, [d.message for d in result.diagnostics if d.is_error]
    return result.plan


def shots(*durations: str, transitions: dict[int, str] | None = None) -> str:
    lines = ['scene "S":']
    for i, duration in enumerate(durations):
        lines += [f"    shot {duration}:", f"        action: beat {i}."]
        if transitions and i in transitions:
            lines.append(f"    {transitions[i]}")
    return "\n".join(lines) + "\n"


def test_packed_clips_never_exceed_the_longest_length() -> None:
    plan = plan_of("title: T\n" + shots("4s", "4s", "3.5s", "5s", "8s"))
    # 4 + 4 + 3.5 fit in 12 s; 5 + 8 would not, so they render alone.
    assert [len(c.shots) for c in plan.clips] == [3, 1, 1]
    assert [c.seconds for c in plan.clips] == ["12", "8", "8"]
    assert [c.duration for c in plan.clips] == [11500, 5000, 8000]
    longest = max(load_table().offering("openai", "sora-2").lengths) * 1000  # type: ignore[union-attr]
    assert all(c.duration <= longest for c in plan.clips)


def test_each_clip_renders_at_the_shortest_covering_length_and_carries_slack() -> None:
    plan = plan_of("title: T\nclips: per-shot\n" + shots("3.5s", "5s", "8s"))
    assert [(c.seconds, c.duration, c.slack) for c in plan.clips] == [
        ("4", 3500, 500),
        ("8", 5000, 3000),
        ("8", 8000, 0),
    ]


def test_packing_never_crosses_a_scene() -> None:
    source = "title: T\n" + shots("2s") + shots("2s")
    plan = plan_of(source)
    assert [c.scene_index for c in plan.clips] == [1, 2]


def test_a_non_cut_transition_ends_a_clip_and_overlaps_the_film() -> None:
    plan = plan_of("title: T\n" + shots("4s", "4s", "4s", transitions={0: "cut crossfade 0.5s"}))
    assert [len(c.shots) for c in plan.clips] == [1, 2]
    assert plan.clips[0].transition.kind == "crossfade"
    assert plan.clips[1].film_start == 3500
    assert plan.duration == 11500


def test_shot_times_inside_the_clip_and_in_the_film() -> None:
    plan = plan_of("title: T\n" + shots("2s", "1500ms", "0:03"))
    clip = plan.clips[0]
    assert [(s.start, s.end) for s in clip.shots] == [(0, 2000), (2000, 3500), (3500, 6500)]
    assert [(s.film_start, s.film_end) for s in clip.shots] == [
        (0, 2000),
        (2000, 3500),
        (3500, 6500),
    ]
    assert [s.line for s in clip.shots] == [3, 5, 7]


def test_cost_comes_from_the_table() -> None:
    plan = plan_of(
        "title: T\nmodel: sora-2-pro\nsize: 1792x1024\n" + shots("4s"), provider="openai"
    )
    assert plan.cost_usd == 4 * 0.50
    preview = plan_of("title: T\n" + shots("4s"))
    assert preview.cost_usd == 0


def test_lengths_follow_the_model() -> None:
    plan = plan_of(
        "title: T\nmodel: veo-3.1-fast\nprovider: fal\nclips: per-shot\n" + shots("5s", "3s")
    )
    assert [c.seconds for c in plan.clips] == ["6s", "4s"]
    kling = plan_of(
        "title: T\nmodel: kling-3-pro\nprovider: fal\nclips: per-shot\n" + shots("5s", "3s")
    )
    assert [c.seconds for c in kling.clips] == ["5", "3"]


def test_clip_id_changes_with_what_changes_pixels_only() -> None:
    base = plan_of("title: T\n" + shots("4s")).clips[0].id
    assert plan_of("title: Other title\n" + shots("4s")).clips[0].id == base
    assert plan_of("title: T\nstyle: noir\n" + shots("4s")).clips[0].id != base
    assert plan_of("title: T\nsize: 720x1280\n" + shots("4s")).clips[0].id != base


def test_seed_changes_start_a_new_clip_where_seeds_are_sent() -> None:
    source = "title: T\nmodel: veo-3.1\nprovider: fal\nseed: 5\n" + shots("2s", "2s").replace(
        "shot 2s:\n        action: beat 1", "shot 2s seed 9:\n        action: beat 1"
    )
    plan = plan_of(source)
    assert [c.seed for c in plan.clips] == [5, 9]


def test_request_body_spells_seconds_as_the_provider_does() -> None:
    openai = plan_of("title: T\n" + shots("4s"), provider="openai").clips[0].request
    assert openai["seconds"] == "4" and openai["model"] == "sora-2"
    fal = plan_of("title: T\nmodel: veo-3.1-fast\n" + shots("4s"), provider="fal").clips[0].request
    assert fal["app"] == "fal-ai/veo3.1/fast" and fal["input"]["duration"] == "4s"


def test_a_seed_change_does_not_split_a_clip_where_seeds_are_not_sent() -> None:
    source = "title: T\n" + shots("2s", "2s").replace(
        "shot 2s:\n        action: beat 1", "shot 2s seed 9:\n        action: beat 1"
    )
    plan = plan_of(source, provider="openai")
    assert len(plan.clips) == 1 and plan.clips[0].seed is None


def test_a_cameo_named_only_in_a_note_is_not_sent() -> None:
    source = 'title: T\ncameo mara: "mara.mp4"\n' + shots("4s").replace(
        "action: beat 0.", "action: beat 0.\n        note: ask @mara"
    )
    result = analyze_source(
        source,
        "t.story",
        read_facts=lambda _p: FileFacts(
            exists=True, sha256="e" * 64, kind="video", width=1280, height=720, duration_ms=3000
        ),
    )
    assert result.plan is not None
    assert result.plan.clips[0].cameos == ()
    assert "characters" not in result.plan.clips[0].request
    assert any(d.code == "S102" for d in result.diagnostics)
