"""The editor support files: valid JSON, the extension starts `storyc lsp`, and the TextMate
grammar colours comments, `@names` and durations the way the compiler reads them (Python's `re`
stands in for Oniguruma: the grammar only uses what both understand).

Where Node.js is installed and `npm ci` has run in editors/vscode, the real tools run too:
`vscode-tmgrammar-test` on the grammar fixtures (editors/vscode/tests/*.story), the extension's
restart test under Node, and `vsce package`, which must print no warning. Elsewhere those tests
skip and say what is missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from storyc.language.model import NAME_REFERENCE
from storyc.language.parse import parse_story

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"
LARK = (Path(__file__).resolve().parent.parent / "grammar" / "story.lark").read_text()


def test_the_extension_starts_storyc_lsp_for_story_files() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    settings = package["contributes"]["configuration"]["properties"]
    assert settings["storyc.server.command"]["default"] == ["storyc", "lsp"]
    [language] = package["contributes"]["languages"]
    assert language["extensions"] == [".story"]
    assert (VSCODE / language["configuration"]).is_file()
    [grammar] = package["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.story"
    assert (VSCODE / grammar["path"]).is_file()
    assert "vscode-languageclient" in package["dependencies"]
    # `main` is the bundle `npm run build` makes from extension.js (vsce runs it first).
    assert package["main"] == "./dist/extension.js"
    assert "esbuild extension.js --bundle" in package["scripts"]["build"]
    assert package["scripts"]["vscode:prepublish"] == "npm run build"
    assert (VSCODE / "extension.js").is_file()


def test_the_server_command_is_machine_scoped_and_restarts_the_server() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    setting = package["contributes"]["configuration"]["properties"]["storyc.server.command"]
    assert setting["scope"] == "machine"  # a workspace's settings cannot choose what runs
    source = (VSCODE / "extension.js").read_text()
    assert "onDidChangeConfiguration" in source
    assert '"storyc.server.command"' in source


def test_the_extension_has_what_vsce_asks_for() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    assert package["repository"]["url"]
    assert package["license"] == "MIT"
    assert "MIT License" in (VSCODE / "LICENSE").read_text()
    assert (VSCODE / "README.md").is_file()
    assert (VSCODE / "package-lock.json").is_file()
    ignored = (VSCODE / ".vscodeignore").read_text().splitlines()
    assert "**" in ignored and "!dist/extension.js" in ignored


def test_language_configuration_comments_with_hash() -> None:
    config = json.loads((VSCODE / "language-configuration.json").read_text())
    assert config["comments"]["lineComment"] == "#"
    assert config["folding"]["offSide"] is True


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("match", "begin", "end")]
        return found + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


GRAMMAR = json.loads((VSCODE / "syntaxes" / "story.tmLanguage.json").read_text())


def test_every_grammar_pattern_compiles() -> None:
    patterns = _patterns(GRAMMAR)
    assert len(patterns) > 10
    for pattern in patterns:
        re.compile(pattern)


@pytest.mark.parametrize(
    ("line", "comment"),
    [
        ("# a comment line", "# a comment line"),
        ("        action: she waves.  # a note", "# a note"),
        ("        action: take#2 of the scene", None),
        ("        action: x#  y", None),
        ("    shot 4s:# right after the colon", "# right after the colon"),
    ],
)
def test_comments_are_coloured_where_the_parser_sees_them(line: str, comment: str | None) -> None:
    found = re.search(GRAMMAR["repository"]["comment"]["match"], line)
    assert (found.group(0) if found else None) == comment


@pytest.mark.parametrize(
    "text",
    [
        "@mara waves",
        "write to me@example.com about it",
        "@mara's cup and @mara- then",
        "@@joe and x@y and (@joe) and @_a-b_c-",
        '"@mara" in quotes, @a, @9x, @-x',
    ],
)
def test_names_are_coloured_as_the_compiler_reads_them(text: str) -> None:
    pattern = GRAMMAR["repository"]["name"]["match"]
    expected = [(m.start(), m.end()) for m in NAME_REFERENCE.finditer(text)]
    assert [(m.start(), m.end()) for m in re.finditer(pattern, text)] == expected


def test_durations_are_coloured_as_the_compiler_reads_them() -> None:
    [lark] = re.findall(r"^DURATION: /(.*)/$", LARK, flags=re.M)
    pattern = GRAMMAR["repository"]["duration"]["match"]
    for text in ["0.5s", "4s", "250ms", "1:02.5", "4sx", "4s2", "1:2", "12:345", "0.5s,", "3.5s:"]:
        compiler = re.match(lark, text)
        grammar = re.match(pattern, text)
        assert (grammar and grammar.group(0)) == (compiler and compiler.group(0)), text


# -- the real tools: Node.js, vscode-tmgrammar-test, vsce ----------------------------------------

FIXTURES = sorted((VSCODE / "tests").glob("*.story"))


def test_the_grammar_fixtures_are_story_text_that_parses() -> None:
    assert len(FIXTURES) >= 2
    for fixture in FIXTURES:
        parsed = parse_story(fixture.read_text(), str(fixture))
        assert parsed.diagnostics == [], fixture.name
        assert fixture.read_text().startswith('# SYNTAX TEST "source.story"')


def _node(*, packages: bool = True, minimum: int = 18) -> str:
    """The `node` to run, or skip saying what is missing (these tests need Node.js 18+ and,
    for the npm tools, `npm ci` in editors/vscode; .ci/run does both where it can)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (apt-get install nodejs npm): editor tools not run")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < minimum:
        pytest.skip(f"Node.js {version} is too old for this editor tool ({minimum} or later)")
    if packages:
        if shutil.which("npx") is None:
            pytest.skip("npx is not installed (apt-get install npm): editor tools not run")
        for tool in ("vscode-tmgrammar-test", "vsce", "esbuild"):
            if not (VSCODE / "node_modules" / ".bin" / tool).exists():
                pytest.skip(f"{tool} is not installed: run `npm ci` in editors/vscode")
    return node


def _run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=VSCODE,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_vscode_tmgrammar_test_passes_on_the_fixtures() -> None:
    _node()
    result = _run("npx", "--no", "vscode-tmgrammar-test", "--compact", "tests/*.story")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for fixture in FIXTURES:
        assert f"tests/{fixture.name} run successfuly" in output, output


def test_the_extension_restarts_the_server_when_its_command_changes() -> None:
    node = _node(packages=False)  # vscode and the language client are stand-ins here
    result = _run(node, "tests/extension.test.js")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "extension.test.js: ok" in result.stdout


LOAD_WITH_A_STAND_IN_FOR_VSCODE = """
const Module = require("node:module");
const load = Module._load;
const any = new Proxy(function () {}, {
  get: (target, key) => (key === "prototype" ? {} : any),
  construct: () => ({}),
  apply: () => any,
});
Module._load = function (request, ...rest) {
  return request === "vscode" ? any : load.call(this, request, ...rest);
};
const extension = require(process.argv[1]);
if (typeof extension.activate !== "function") throw new Error("no activate()");
console.log("loaded");
"""


def test_vsce_packages_the_extension_without_warnings(tmp_path: Path) -> None:
    node = _node(minimum=20)  # vsce's dependencies (@azure/*, undici) need Node.js 20
    vsix = tmp_path / "storyc.vsix"
    result = _run("npx", "--no", "vsce", "package", "--out", str(vsix), timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert "DONE" in output, output

    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    extension = {n.removeprefix("extension/") for n in names if n.startswith("extension/")}
    assert extension == {
        "package.json",
        "README.md",
        "LICENSE.txt",
        "language-configuration.json",
        "syntaxes/story.tmLanguage.json",
        "dist/extension.js",
        "dist/THIRD-PARTY-NOTICES.txt",
    }
    notices = (tmp_path / "unpacked" / "extension" / "dist" / "THIRD-PARTY-NOTICES.txt").read_text()
    assert "vscode-languageclient" in notices
    # The bundle is whole: it loads with nothing beside it but the `vscode` module.
    bundle = tmp_path / "unpacked" / "extension" / "dist" / "extension.js"
    loaded = _run(node, "-e", LOAD_WITH_A_STAND_IN_FOR_VSCODE, str(bundle))
    assert loaded.stdout.strip() == "loaded", loaded.stdout + loaded.stderr


# -- the docs' Neovim and Emacs recipes, run where those editors are installed ----------------

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "editors.md").read_text()
STORYC = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "storyc"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _block(after: str, language: str) -> str:
    """The first ```language block after the first `after` in docs/editors.md."""
    rest = DOCS[DOCS.index(after) :]
    return re.search(rf"```{language}\n(.*?)```", rest, flags=re.S).group(1)


@pytest.fixture
def broken_project(tmp_path: Path) -> tuple[Path, set[tuple[str, int]]]:
    """A project with cafe.story and one broken duration, and what `storyc lint` says of it."""
    (tmp_path / "storyc.toml").write_text("")
    shutil.copytree(EXAMPLES / "refs", tmp_path / "refs")
    story = tmp_path / "cafe.story"
    text = (EXAMPLES / "cafe.story").read_text()
    story.write_text(text.replace("shot close-up 4s:", "shot close-up 4x:"))
    storyc = str(STORYC) if STORYC.exists() else shutil.which("storyc") or "storyc"
    lint = subprocess.run(
        [storyc, "lint", "--format", "json", str(story)], capture_output=True, text=True
    )
    expected = {(d["code"], d["line"]) for d in json.loads(lint.stdout)}
    assert ("E008", 24) in expected
    return story, expected


def _editor_reported(output: str) -> set[tuple[str, int]]:
    found = re.findall(r"^DIAGNOSTIC (\S+) (\d+)$", output, re.M)
    return {(code, int(line)) for code, line in found}


NVIM_REPORTER = """
local started = vim.loop.hrtime()
local timer = vim.loop.new_timer()
timer:start(200, 200, vim.schedule_wrap(function()
  local found = vim.diagnostic.get(0)
  if #found > 0 or (vim.loop.hrtime() - started) / 1e9 > 30 then
    timer:stop()
    for _, d in ipairs(found) do
      io.stderr:write(string.format("DIAGNOSTIC %s %d\\n", d.code or "?", d.lnum + 1))
    end
    io.stderr:write(string.format("AFTER %.1f\\n", (vim.loop.hrtime() - started) / 1e9))
    vim.cmd("qa!")
  end
end))
"""


def test_the_neovim_recipe_shows_what_lint_reports(broken_project, tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    if nvim is None or not STORYC.exists():
        pytest.skip("Neovim is not installed (apt-get install neovim): the recipe was not run")
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True).stdout
    minor = int(re.search(r"NVIM v0\.(\d+)", version).group(1))
    if minor < 8:
        heading = "**Neovim 0.7**"
    else:
        heading = "**Neovim 0.8 to 0.10**" if minor < 11 else "**Neovim 0.11 or later**"
    command = f"{{ {json.dumps(str(STORYC))}, 'lsp' }}"
    recipe = _block(heading, "lua").replace('{ "storyc", "lsp" }', command)
    assert str(STORYC) in recipe
    init = tmp_path / "init.lua"
    init.write_text(_block("## Neovim", "lua") + recipe + NVIM_REPORTER)
    story, expected = broken_project
    result = subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), str(story)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=story.parent,
        stdin=subprocess.DEVNULL,
    )
    assert _editor_reported(result.stdout + result.stderr) == expected, result.stderr


EMACS_REPORTER = """
(find-file (car command-line-args-left))
(setq command-line-args-left nil)
;; Batch mode runs no command loop, so connect as eglot-ensure would after the first command.
(apply #'eglot--connect (eglot--guess-contact))
(let ((start (float-time)))
  (while (and (null (flymake-diagnostics)) (< (- (float-time) start) 30))
    (accept-process-output nil 0.2)
    (flymake-start))
  (dolist (d (flymake-diagnostics))
    (when (string-match "\\\\[\\\\([A-Z][0-9]+\\\\)\\\\]" (flymake-diagnostic-text d))
      (princ (format "DIAGNOSTIC %s %d\\n" (match-string 1 (flymake-diagnostic-text d))
                     (line-number-at-pos (flymake-diagnostic-beg d)))))))
(kill-emacs 0)
"""


def test_the_emacs_eglot_recipe_shows_what_lint_reports(broken_project, tmp_path: Path) -> None:
    emacs = shutil.which("emacs")
    if emacs is None or not STORYC.exists():
        pytest.skip("Emacs is not installed (apt-get install emacs-nox): the recipe was not run")
    probe = [emacs, "--batch", "--eval", "(kill-emacs (if (require 'eglot nil t) 0 1))"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("eglot is not installed (Emacs 29+, or elpa-eglot): the recipe was not run")
    recipe = _block("## Emacs", "elisp").replace('"storyc" "lsp"', f'"{STORYC}" "lsp"')
    assert str(STORYC) in recipe
    init = tmp_path / "init.el"
    init.write_text(recipe + EMACS_REPORTER)
    story, expected = broken_project
    result = subprocess.run(
        [emacs, "--batch", "-q", "-l", str(init), str(story)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=story.parent,
        stdin=subprocess.DEVNULL,
    )
    assert _editor_reported(result.stdout + result.stderr) == expected, result.stderr
