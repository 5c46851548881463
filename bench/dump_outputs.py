"""Dump what the front end says about a corpus of stories, to prove a speed-up changes nothing.

    .venv/bin/python bench/dump_outputs.py prepare WORK   # write the corpus once (stable files)
    .venv/bin/python bench/dump_outputs.py dump WORK OUT  # diagnostics, plans, prompts -> OUT
    diff -r OUT_BEFORE OUT_AFTER                          # must be empty

The corpus: the golden stories (`tests/golden`, `examples/`), the editor test stories, every
rule's bad and good catalog example (wrapped as `tests/test_catalog_examples.py` wraps them)
and generated bench stories of 100 and 1,000 shots. Every story is analysed as written and,
except the catalog examples, once per row of the model table (its `model:`/`provider:`
swapped), so every template and every provider rule sees it. Per analysis the dump holds the
diagnostics (JSON and the full terminal form), the plan JSON and the prompts; once without
the lint policy (`analyze_source`) and once with it (`compile_file`).

`prepare` writes the media files once: reference hashes are in the plans, so the corpus must
not be regenerated between two dumps that are compared.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from storyc import frontend  # noqa: E402
from storyc.check.diagnostics import render_full, render_json  # noqa: E402
from storyc.plan.capabilities import load_table  # noqa: E402

_MODEL = re.compile(r"(?m)^model:[^\n]*$")
_PROVIDER = re.compile(r"(?m)^provider:[^\n]*\n")


def prepare(work: Path) -> None:
    import test_catalog_examples as examples
    from compile import generate_story

    from storyc.check.catalog import RULES

    if work.exists():
        shutil.rmtree(work)
    stories = work / "stories"
    stories.mkdir(parents=True)
    shutil.copytree(ROOT / "examples" / "refs", stories / "refs")
    for path in [*sorted((ROOT / "examples").glob("*.story"))]:
        shutil.copy(path, stories / path.name)
    for path in sorted((ROOT / "editors" / "vscode" / "tests").glob("*.story")):
        shutil.copy(path, stories / f"editor-{path.name}")
    for shots in (100, 1000):
        (stories / f"bench-{shots}.story").write_text(generate_story(shots), encoding="utf-8")
    catalog = work / "catalog"
    for rule in RULES:
        if rule.setting.row:  # needs a changed model table: left to the catalog test
            continue
        for which in ("bad", "good"):
            setting = rule.setting
            example = getattr(setting, f"{which}_run") or getattr(rule, which)
            folder = catalog / f"{rule.code}-{which}" / "project"
            folder.mkdir(parents=True)
            for path, what in setting.files:
                examples._make_file(folder, path, what)
            if setting.example_file:
                examples._make_file(folder, setting.example_file, example)
                text = examples.example_story("", setting)
            else:
                text = examples.example_story(example, setting)
            raw = examples._BYTE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
            (folder / "example.story").write_bytes(raw)


def _write(out: Path, name: str, compilation: frontend.Compilation) -> None:
    parts = [render_json(compilation.diagnostics)]
    parts += [render_full(d, compilation.source) for d in compilation.diagnostics]
    (out / f"{name}.diagnostics.txt").write_text("\n".join(parts), encoding="utf-8")
    if compilation.plan is not None:
        (out / f"{name}.plan.json").write_text(compilation.plan.to_json(), encoding="utf-8")
    prompts = "\n\n==== next clip ====\n\n".join(compilation.prompts)
    (out / f"{name}.prompts.txt").write_text(prompts, encoding="utf-8")


def _variants(text: str) -> list[tuple[str, str]]:
    """The story as written, then once per row of the model table."""
    found = [("own", text)]
    if not _MODEL.search(text):
        return found
    bare = _PROVIDER.sub("", text)
    for row in load_table().offerings:
        swapped = _MODEL.sub(f"model: {row.model}\nprovider: {row.provider}", bare, count=1)
        found.append((f"{row.provider}-{row.model}", swapped))
    return found


def dump(work: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((work / "stories").glob("*.story")):
        text = frontend.read_story(path)
        for variant, source in _variants(text):
            name = f"{path.stem}.{variant}"
            _write(out, f"{name}.raw", frontend.analyze_source(source, str(path)))
            _write(out, f"{name}.lint", frontend.compile_file(path, text=source))
    for folder in sorted((work / "catalog").iterdir()):
        story = folder / "project" / "example.story"
        templates = folder / "project" / "templates"
        compiled = frontend.compile_file(
            story, template_dir=templates if templates.is_dir() else None
        )
        _write(out, folder.name, compiled)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "prepare":
        prepare(Path(argv[1]).resolve())
        return 0
    if len(argv) == 3 and argv[0] == "dump":
        dump(Path(argv[1]).resolve(), Path(argv[2]).resolve())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
