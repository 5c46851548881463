"""Issue 15, item 4: the shipped templates run in a plain Jinja2 environment with attribute
contexts; a writer's templates (`--templates`) stay sandboxed and see plain dicts."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from storyc.frontend import analyze_source
from storyc.plan.prompt import _as_attributes, _Values, template_environment

STORY = """\
title: Env
model: sora-2
provider: openai

scene "one":
    shot wide 4s:
        camera: slow dolly in
        action: a woman waves
"""


def _analyze(tmp_path: Path, templates: Path | None):
    path = tmp_path / "env.story"
    path.write_text(STORY, encoding="utf-8")
    return analyze_source(STORY, str(path), template_dir=templates)


def test_shipped_templates_are_plain_and_a_writers_are_sandboxed(tmp_path: Path) -> None:
    assert not isinstance(template_environment(None), SandboxedEnvironment)
    assert isinstance(template_environment(None), Environment)
    assert isinstance(template_environment(str(tmp_path)), SandboxedEnvironment)


def test_a_writers_template_sees_dicts_and_cannot_reach_python(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "sora.j2").write_text(
        "{% for shot in shots %}{{ shot['camera'] }} {{ shot.items() | list | length }}"
        "{% endfor %}",
        encoding="utf-8",
    )
    result = _analyze(tmp_path, templates)
    assert result.plan is not None
    assert result.plan.clips[0].prompt.startswith("Slow dolly in ")
    (templates / "sora.j2").write_text("{{ shots.__class__.__mro__ }}", encoding="utf-8")
    template_environment.cache_clear()
    result = _analyze(tmp_path, templates)
    template_environment.cache_clear()
    assert result.plan is None
    assert [d.code for d in result.diagnostics] == ["T001"]
    assert "unsafe" in result.diagnostics[0].message


def test_a_writers_template_failing_in_python_is_a_diagnostic_not_a_traceback(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    cases = [
        ("{{ shots | length }}\n{{ 1 // 0 }}", "ZeroDivisionError", "at its line 2"),
        ('{{ "a" | int(1, 2, 3, 4) }}', "TypeError", "at its line 1"),
    ]
    for text, kind, line in cases:
        (templates / "sora.j2").write_text(text, encoding="utf-8")
        template_environment.cache_clear()
        try:
            result = _analyze(tmp_path, templates)
        finally:
            template_environment.cache_clear()
        assert result.plan is None
        assert [d.code for d in result.diagnostics] == ["T001"]
        message = result.diagnostics[0].message
        assert kind in message and line in message and "sora.j2" in message, message


def test_attribute_contexts_keep_every_value() -> None:
    values = {"a": 1, "shared": {"light": None}, "shots": [{"dialogue": [{"text": "hi"}]}], "e": {}}
    converted = _as_attributes(values)
    assert converted["a"] == 1
    assert isinstance(converted["shared"], _Values) and converted["shared"].light is None
    assert converted["shots"][0].dialogue[0].text == "hi"
    assert not converted["e"] and converted["shared"]
