"""Every diagnostic code storyc emits: its stable code, name, severity and documentation.

The docs (what it catches, a bad and a good example) are what `storyc rule CODE` prints and
what `docs/rules.md` is generated from. Codes never change meaning; retired codes stay.
E0xx syntax, S1xx names and structure, P2xx what the provider accepts, C3xx content,
T0xx prompt templates.

Each rule is a module attribute named by its code, and every diagnostic is made from one:

    from storyc.check import catalog as R
    R.S108.diagnostic(message, span, file, help=...)

so a mistyped code is an `AttributeError` when the module runs, never a string that
drifts from the catalog. `BY_CODE` and `rule()` are for codes a user types (`storyc rule
CODE`, `# storyc: ignore[CODE]`, `--select`).

Every bad example must raise its rule's code and every good one must not:
`tests/test_catalog_examples.py` runs them all, wrapped in the smallest story around them as
the rule's `Setting` says.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyc.check.diagnostics import Diagnostic, Fix, Severity
from storyc.language.model import Span


@dataclass(frozen=True)
class Setting:
    """What a rule's examples need around them to run (both the bad and the good one).

    An example is a fragment; the test wraps it in a minimal story (a header with `title`
    and `model: sora-2`, a scene, a shot with an action), placing each part by its
    indentation; a `...` line stands for the rest of the story. See
    `tests/test_catalog_examples.py` for the exact rules."""

    header: str = ""
    """Header lines the examples need (`model: veo-3.1`, `provider: fal`); a key the example
    sets itself wins."""
    declare: str = ""
    """Declarations the examples use but do not show (`character mara:` and its look)."""
    files: tuple[tuple[str, str], ...] = ()
    """Files next to the story, as (path, what): `png WxH`, `mp4 [WxH] Ns`, `text [content]`,
    `folder`, `link TARGET` (a symlink), or else the literal content of a text file. A
    `templates/` folder is the story's prompt templates (`--templates`)."""
    example_file: str = ""
    """Where the example is written when it is not story text (a prompt template)."""
    whole: bool = False
    """The example is the whole file, run as it stands."""
    bad_run: str = ""
    good_run: str = ""
    """The example as run, where the one shown describes it in words (a 2,400-character
    prompt cannot be shown)."""
    row: tuple[tuple[str, str], ...] = ()
    """Changes to the story's row of the model table, for a rule that guards rows to come
    (no row today lacks a first frame)."""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    bad: str
    good: str
    notes: str = ""
    setting: Setting = Setting()
    """What the examples need around them to run (see `Setting`); never shown."""

    def diagnostic(
        self,
        message: str,
        span: Span,
        file: str,
        *,
        help: str | None = None,
        fix: Fix | None = None,
        data: dict[str, object] | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        return Diagnostic(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            span=span,
            file=file,
            help=help,
            fix=fix,
            data=data,
        )

    def document(self) -> str:
        parts = [f"# {self.code} {self.name} ({self.severity})", "", self.summary, ""]
        if self.notes:
            parts += [self.notes, ""]
        parts += ["Bad:", "", _indent(self.bad), "", "Good:", "", _indent(self.good), ""]
        return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.strip("\n").split("\n"))


E, W = Severity.ERROR, Severity.WARNING

_MARA = "character mara:\n    look: a barista in a green apron"
"""Declared around the examples that name @mara without declaring her."""

E001 = Rule(
    "E001",
    "syntax-error",
    E,
    "A line that fits no shape of the language.",
    'scene "A":\n    shot 4s 5s:\n        action: x',
    'scene "A":\n    shot 4s:\n        action: x',
)

E002 = Rule(
    "E002",
    "tab-indentation",
    E,
    "A tab in a line's indentation. Tabs and spaces look alike "
    "but count differently, so storyc indents with spaces only. `storyc fmt` refuses the file "
    "(how deep the line stands is a guess); the fix of `storyc lint --fix` indents each such "
    "line with spaces by the depth of its block.",
    'scene "A":\n\tshot 4s:',
    'scene "A":\n    shot 4s:',
)

E003 = Rule(
    "E003",
    "unterminated-quote",
    E,
    "A quoted string (dialogue, a file name, a scene title) "
    "whose closing quote is missing on its line.",
    "        @mara: \"First one's always for me.",
    '        @mara: "First one\'s always for me."',
    setting=Setting(declare=_MARA),
)

E004 = Rule(
    "E004",
    "empty-story",
    E,
    "The file has no content at all.",
    "",
    "title: Morning Brew",
    setting=Setting(whole=True),
)

E005 = Rule(
    "E005",
    "bad-indentation",
    E,
    "An indentation that matches no enclosing block, or a line indented where no block opens.",
    'scene "A":\n    shot 4s:\n        action: x\n      sfx: y',
    'scene "A":\n    shot 4s:\n        action: x\n        sfx: y',
)

E006 = Rule(
    "E006",
    "missing-colon",
    E,
    "A cue written without its `:`, or a block line that does not end with `:`.",
    "        camera slow dolly in",
    "        camera: slow dolly in",
)

E007 = Rule(
    "E007",
    "unknown-block",
    E,
    "A block line whose first word is no block keyword "
    "(`cameo`, `character`, `location`, `preset`, `scene`, `shot`), usually a typo.",
    "    shoot wide 4s:",
    "    shot wide 4s:",
)

E008 = Rule(
    "E008",
    "bad-duration",
    E,
    "A missing or malformed duration on a shot or transition. "
    "Durations are `4s`, `3.5s`, `1500ms` or `0:04`.",
    "    shot wide 4sec:",
    "    shot wide 4s:",
)

E009 = Rule(
    "E009",
    "unquoted-dialogue",
    E,
    "A dialogue line whose text is not in double quotes.",
    "        @mara: hello there",
    '        @mara: "Hello there."',
    setting=Setting(declare=_MARA),
)

E010 = Rule(
    "E010",
    "not-utf8",
    E,
    "Bytes that are not UTF-8 text, usually a file saved in another encoding "
    "(Latin-1, Windows-1252). storyc reads stories as UTF-8 only and points at the first "
    "bad byte instead of guessing. A UTF-8 byte order mark at the start is fine.",
    "title: Caf\\xe9 Morning   (saved as Latin-1: the \\xe9 byte)",
    "title: Café Morning   (saved as UTF-8)",
)

S101 = Rule(
    "S101",
    "undeclared-name",
    E,
    "An `@name` that no `cameo` or `character` declares.",
    "        action: @ghost walks through the wall.",
    "character ghost:\n    look: a pale figure in a torn coat\n...\n        action: @ghost walks through the wall.",
)

S102 = Rule(
    "S102",
    "unused-cameo",
    W,
    "A cameo declared but never named in any shot: its reference "
    "is never used, and the writer probably meant to.",
    'cameo mara: "refs/mara.mp4"\n...  (no @mara anywhere)',
    'cameo mara: "refs/mara.mp4"\n...\n        action: @mara smiles.',
    setting=Setting(files=(("refs/mara.mp4", "mp4 3s"),)),
)

S103 = Rule(
    "S103",
    "unused-declaration",
    W,
    "A character, location or preset declared but never used.",
    "preset golden:\n    light: low sun\n...  (no `with golden`)",
    "preset golden:\n    light: low sun\n...\n    shot 4s with golden:",
)

S106 = Rule(
    "S106",
    "duplicate-name",
    E,
    "Two declarations of the same kind with one name, or a cameo and a character sharing a name.",
    "character kid:\n...\ncharacter kid:",
    "character kid:\n...\ncharacter kid2:",
)

S107 = Rule(
    "S107",
    "unknown-key",
    E,
    "A key that means nothing where it stands: a misspelled cue, "
    "or a cue in the header. The message suggests the nearest key.",
    "        camra: slow dolly in",
    "        camera: slow dolly in",
)

S108 = Rule(
    "S108",
    "duplicate-header-key",
    E,
    "A header key set twice.",
    "title: A\ntitle: B",
    "title: A",
)

S109 = Rule(
    "S109",
    "missing-title",
    E,
    "The header has no `title:`; the film and its files are named after it.",
    "model: sora-2",
    "title: Morning Brew\nmodel: sora-2",
    setting=Setting(whole=True),
)

S110 = Rule(
    "S110",
    "unknown-preset",
    E,
    "`with NAME` names no declared preset.",
    "    shot 4s with goldn:",
    "    shot 4s with golden:",
    setting=Setting(declare="preset golden:\n    light: low golden-hour sun"),
)

S111 = Rule(
    "S111",
    "unknown-location",
    E,
    "`at NAME` names no declared location.",
    'scene "Opening" at cafee:',
    'scene "Opening" at cafe:',
    setting=Setting(declare="location cafe:\n    look: a narrow corner cafe"),
)

S112 = Rule(
    "S112",
    "empty-shot",
    W,
    "A shot with no `action:` and no dialogue: the model gets nothing to show.",
    "    shot 4s:\n        camera: static",
    "    shot 4s:\n        camera: static\n        action: rain runs down the glass.",
)

S113 = Rule(
    "S113",
    "bad-header-value",
    E,
    "A header value of the wrong shape (a number that is not one, "
    "`clips:` other than `packed` or `per-shot`, `first-frame:` other than `keyframes`, "
    "a size that is not `WxH`).",
    "fps: twenty-four",
    "fps: 24",
)

S114 = Rule(
    "S114",
    "no-scenes",
    W,
    "The story has no scene, so there is nothing to render.",
    "title: A",
    'title: A\n\nscene "Opening":\n    shot 4s:\n        action: x',
    setting=Setting(whole=True),
)

S115 = Rule(
    "S115",
    "cue-after-last-shot",
    E,
    "A scene cue written after the scene's last shot. Scene cues apply to the shots after "
    "them, so this one would apply to none; write it at the top of the scene to cover all "
    "its shots, or inside the shot it is for. A `note:` there is a note on the scene, and fine.",
    "    shot 4s:\n        action: rain runs down the window.\n    music: a sad cello",
    "    music: a sad cello\n    shot 4s:\n        action: rain runs down the window.",
)

S116 = Rule(
    "S116",
    "bad-cameo-view",
    E,
    "A cameo's further image (`side:`, `back:` or `outfit:`, sent beside its own file to "
    "models that take several images of one subject) that does not name one image file in "
    "double quotes, is given twice, or belongs to a cameo without a file of its own; the "
    "same for its `voice-sample:` (a recording of its voice, sent to models that take audio "
    "references), which must name one audio file (.wav, .mp3, .m4a, .aac, .ogg, .flac).",
    'cameo mara: "refs/mara.png"\n    side: refs/mara-side.png',
    'cameo mara: "refs/mara.png"\n    side: "refs/mara-side.png"',
    notes="The cameo's own file is its front view. Each view is checked like any reference "
    "(inside the project, a real image) and counted against the model's reference limit; a "
    "voice sample likewise (inside the project, audio ffmpeg reads) against its audio limit.",
    setting=Setting(
        files=(("refs/mara.png", "png 512x512"), ("refs/mara-side.png", "png 512x512")),
    ),
)

S190 = Rule(
    "S190",
    "unused-suppression",
    W,
    "A `# storyc: ignore[CODE]` (or `ignore-file[CODE]`) comment that suppresses nothing: "
    "the problem it hid is gone, so the comment only misleads. `storyc lint --fix` removes it.",
    "        action: @mara waves.  # storyc: ignore[S101]   (mara is declared)",
    "        action: @mara waves.",
    setting=Setting(declare=_MARA),
)

S191 = Rule(
    "S191",
    "bad-suppression",
    W,
    "A `# storyc:` comment storyc cannot read: a misspelled directive, an unknown code, or a "
    "syntax error (E0xx), which cannot be suppressed. Write `# storyc: ignore[CODE, ...]` "
    "on the line, or `# storyc: ignore-file[CODE, ...]` anywhere for the whole file.",
    "        action: @ghost waves.  # storyc: ignore[S1O1]",
    "        action: @ghost waves.  # storyc: ignore[S101]",
)

P201 = Rule(
    "P201",
    "unknown-model",
    E,
    "A model the capability table does not know.",
    "model: sora-3",
    "model: sora-2",
)

P202 = Rule(
    "P202",
    "unknown-provider",
    E,
    "A provider storyc cannot render on. `provider:` may list fallbacks in order "
    "(`provider: runway, fal`: a clip runway refuses goes to fal); every name in the list "
    "must be a paid provider, listed once.",
    "provider: pika",
    "provider: openai",
)

P203 = Rule(
    "P203",
    "model-not-on-provider",
    E,
    "The provider does not serve the story's model.",
    "model: kling-3-pro\nprovider: openai",
    "model: kling-3-pro\nprovider: fal",
    notes="In a provider list (`provider: openai, prodia`) every fallback must serve the model "
    "too, and cut the story into the same clips as the first provider (a refused clip is "
    "handed on by its number): shots with their own seeds share a clip where seeds are not "
    "sent and do not where they are, and that is P203 as well.",
)

P204 = Rule(
    "P204",
    "unsupported-size",
    E,
    "An output size (or aspect) the model does not render on "
    "this provider. The message lists the sizes it does.",
    "model: sora-2\nsize: 1920x1080",
    "model: sora-2\nsize: 1280x720",
)

P205 = Rule(
    "P205",
    "shot-too-long",
    E,
    "A shot longer than the longest clip the model renders. Split it into shots that each fit.",
    "    shot 15s:   # sora-2 renders at most 12 s",
    "    shot 8s:\n        ...\n    shot 7s:\n        ...",
)

P206 = Rule(
    "P206",
    "unsupported-seed",
    Severity.INFO,
    "A seed the provider refuses (outside its range: an error), "
    "or ignores because it takes none (a note).",
    "provider: openai\nseed: 42   # openai takes no seed",
    "provider: prodia\nseed: 42   # prodia takes a seed (1 to 2147483647)",
)

P207 = Rule(
    "P207",
    "prompt-too-long",
    E,
    "A clip's prompt, after templating, is longer than the "
    "provider accepts. Shorten the cues or use `clips: per-shot`.",
    "(a 2,400-character prompt for Veo)",
    "(a prompt within the model's limit)",
    setting=Setting(
        header="model: veo-3.1",
        bad_run="        action: " + "rain runs down the window, " * 90,
        good_run="        action: rain runs down the window.",
    ),
)

P208 = Rule(
    "P208",
    "audio-unsupported",
    W,
    "Sound cues or dialogue for a model or provider that renders no sound: they will not be heard.",
    "model: sora-2\nprovider: prodia\n...\n        sfx: a bell",
    "model: sora-2\nprovider: openai\n...\n        sfx: a bell",
)

P209 = Rule(
    "P209",
    "first-frame-size",
    E,
    "A `from` image whose size is not the clip's output size, on a provider that needs them equal.",
    '    shot 8s from "refs/fan-square.png":',
    '    shot 8s from "refs/fan.png":   # 1280x720 like the story',
    setting=Setting(
        files=(("refs/fan-square.png", "png 720x720"), ("refs/fan.png", "png 1280x720"))
    ),
)

P210 = Rule(
    "P210",
    "missing-file",
    E,
    "A `from` image or a cameo reference that does not exist "
    "(paths are relative to the story file).",
    'cameo mara: "refs/mra.mp4"',
    'cameo mara: "refs/mara.mp4"',
    setting=Setting(files=(("refs/mara.mp4", "mp4 3s"),)),
)

P211 = Rule(
    "P211",
    "cameo-reference-length",
    E,
    "A cameo reference video outside 2 to 4 seconds (what OpenAI's characters accept).",
    'cameo mara: "refs/mara-10s.mp4"',
    'cameo mara: "refs/mara.mp4"   # 3 s',
    setting=Setting(files=(("refs/mara-10s.mp4", "mp4 10s"), ("refs/mara.mp4", "mp4 3s"))),
)

P212 = Rule(
    "P212",
    "too-many-cameos",
    E,
    "A shot naming more cameos than the provider takes in one clip.",
    "        action: @mara, @kid and @ben dance.   # openai takes 2",
    "        action: @mara and @kid dance.",
    setting=Setting(
        header="provider: openai",
        declare='cameo mara: "refs/mara.mp4"\ncameo kid: "refs/kid.mp4"\ncameo ben: "refs/ben.mp4"',
        files=(("refs/mara.mp4", "mp4 3s"), ("refs/kid.mp4", "mp4 3s"), ("refs/ben.mp4", "mp4 3s")),
    ),
)

P213 = Rule(
    "P213",
    "first-frame-unsupported",
    E,
    "A `from` image on a provider that takes no first frame.",
    '    shot 4s from "refs/fan.png":   # on a text-only route',
    "    shot 4s:",
    notes="Every model in today's table takes a first frame; the rule guards routes to come.",
    setting=Setting(row=(("first_frame", ""),), files=(("refs/fan.png", "png 1280x720"),)),
)

P214 = Rule(
    "P214",
    "cameo-as-text",
    W,
    "A cameo reference the provider cannot take: the cameo is described in words only.",
    'cameo mara: "refs/mara.mp4"   # on prodia',
    "character mara:\n    look: a barista in a green apron",
    setting=Setting(header="provider: prodia", files=(("refs/mara.mp4", "mp4 3s"),)),
)

P215 = Rule(
    "P215",
    "prompt-too-short",
    E,
    "A prompt shorter than the provider accepts.",
    "    shot 4s:\n        action: ok   # on prodia, with a template that writes the action alone",
    "    shot 4s:\n        action: a cat sleeps on the piano.",
    notes="The shipped templates always write more than a provider's minimum; a template of "
    "your own (`--templates`) may not: on prodia, Sora 2 takes prompts of 3 characters or more.",
    setting=Setting(
        header="provider: prodia", files=(("templates/sora.j2", "{{ shots[0].action }}"),)
    ),
)

P216 = Rule(
    "P216",
    "cameo-media",
    W,
    "A cameo reference of a kind the provider does not take (a video "
    "where it wants an image, or the reverse).",
    'cameo mara: "refs/mara.mp4"   # on veo',
    'cameo mara: "refs/mara.png"',
    setting=Setting(
        header="model: veo-3.1",
        files=(("refs/mara.mp4", "mp4 3s"), ("refs/mara.png", "png 512x512")),
    ),
)

P217 = Rule(
    "P217",
    "cameo-with-first-frame",
    E,
    "A clip whose cameos the provider cannot take together with its first frame: Veo on fal "
    "takes either a first frame or reference images, Kling takes cameo elements only with a "
    "start image.",
    '    shot 4s from "refs/fan.png":\n        action: @mara waves.   # veo-3.1 on fal',
    'clips: per-shot\n...\n    shot 4s from "refs/fan.png":\n        action: the fan turns.\n'
    "    shot 4s:\n        action: @mara waves.",
    notes="With `clips: packed` (the default) a shot may join the clip of the shot before it, so "
    "a shot that names a cameo right after a `from` shot is in that shot's clip: give each "
    "shot its own clip (`clips: per-shot`), or end the clip with a transition.",
    setting=Setting(
        header="model: veo-3.1\nprovider: fal",
        declare='cameo mara: "refs/mara.png"',
        files=(("refs/fan.png", "png 1280x720"), ("refs/mara.png", "png 512x512")),
    ),
)

P218 = Rule(
    "P218",
    "reference-outside-project",
    E,
    "A cameo reference or `from` image that resolves, after following symlinks, outside the "
    "story's project folder (the nearest folder with a `storyc.toml`, else the story's own "
    "folder). storyc does not read it, so a story cannot upload your private files.",
    'cameo mara: "/home/me/.ssh/id_ed25519"\n'
    'cameo kid: "../../footage/kid.mp4"\n'
    'cameo fan: "refs/fan.mp4"   # a symlink to a file outside the project',
    'cameo mara: "refs/mara.mp4"   # a file inside the project folder',
    setting=Setting(
        files=(("refs/fan.mp4", "link ../../outside/fan.mp4"), ("refs/mara.mp4", "mp4 3s"))
    ),
    notes="Only you can widen the sandbox: `--allow-path DIR` on `check`, `compile`, `plan`, "
    '`render`, `build`, `board`, `watch` and `lint`, or `allow-paths = ["DIR"]` under '
    "`[tool.storyc]` in your own config file (`$STORYC_CONFIG`, else "
    "`~/.config/storyc/config.toml`). A `storyc.toml` or `pyproject.toml` in the story's "
    "repository cannot.",
)

P219 = Rule(
    "P219",
    "unusable-reference",
    E,
    "A cameo reference or `from` image storyc will not read or cannot use: a folder, a FIFO "
    "or a device instead of a file, a file over the size limit (50 MB for an image, 512 MB "
    "for a video), or one whose content is not an image or a video, whatever its name says.",
    'cameo mara: "refs/notes.png"   # a text file named .png',
    'cameo mara: "refs/mara.png"   # a real PNG',
    setting=Setting(
        header="model: veo-3.1",
        files=(("refs/notes.png", "text"), ("refs/mara.png", "png 512x512")),
    ),
)

P220 = Rule(
    "P220",
    "too-few-shots",
    E,
    "A clip that a shots-only target cannot take: Runway's multi-shot recipe "
    "(`runway-multi-shot`) renders a clip as 3 to 5 shots of whole seconds, 5, 10 or 15 s in "
    "all, and has no way to render one or two shots.",
    'scene "Pier":\n    shot 4s:\n        action: the boat docks.\n'
    "    shot 4s:\n        action: a rope is thrown.",
    'scene "Pier":\n    shot 3s:\n        action: the boat docks.\n'
    "    shot 3s:\n        action: a rope is thrown.\n"
    "    shot 3s:\n        action: the keeper ties it off.",
    notes="Shots join a clip while they fit (`clips: packed`, the default): every shot but "
    "a clip's last must last whole seconds, and a `from` image, a transition other than a "
    "cut, or a scene's end closes the clip. Where filling clips first leaves one too short "
    "(six 2 s shots: 5 + 1), the planner cuts the run otherwise (3 + 3); P220 is for a clip "
    "no cut saves. Give each clip 3 to 5 such shots, or pick a model that renders one prompt.",
    setting=Setting(header="model: runway-multi-shot\nprovider: runway"),
)

C301 = Rule(
    "C301",
    "dialogue-too-long",
    W,
    "More words of dialogue than fit the shot at natural speech (about 2.5 words a second).",
    '    shot 2s:\n        @mara: "I have been waiting all morning for you to come."',
    '    shot 4s:\n        @mara: "Waited all morning."',
    setting=Setting(declare=_MARA),
)

C302 = Rule(
    "C302",
    "multiple-camera-setups",
    W,
    "More than one camera setup in one shot (two `camera:` "
    "cues, or a cut inside one). One shot is one camera setup; split it.",
    "        camera: wide, then cut to a close-up",
    "    shot wide 2s:\n        camera: wide\n    shot close-up 2s:\n        camera: close-up",
)

C303 = Rule(
    "C303",
    "dangling-transition",
    W,
    "A transition with no shot after it (or before it): nothing to join. Only a `fade` may "
    "stand there: before the story's first shot it fades the film in from black, after its "
    "last shot it fades the film out to black.",
    "    shot 4s:\n        action: x\n    cut crossfade 1s\n# the end of the story",
    "    shot 4s:\n        action: x\n    fade 1s\n# the end of the story: fade to black",
)

C304 = Rule(
    "C304",
    "transition-too-long",
    E,
    "A transition longer than a shot it joins.",
    "    shot 1s:\n    cut crossfade 2s\n    shot 4s:",
    "    shot 1s:\n    cut crossfade 0.5s\n    shot 4s:",
)

C305 = Rule(
    "C305",
    "zero-duration",
    E,
    "A shot or transition of no length.",
    "    shot 0s:",
    "    shot 2s:",
)

C306 = Rule(
    "C306",
    "empty-or-repeated-avoid",
    W,
    "An `avoid:` with nothing after it, or one naming a thing already avoided where it "
    "applies (the header, the location, the scene, the preset or earlier in the same place): "
    "`avoid:` layers combine, so the repeat adds nothing.",
    "        avoid:",
    "        avoid: text, watermarks",
    notes="Repeats count item by item, split at commas and semicolons, ignoring case: "
    "`avoid: Text` in a shot repeats `avoid: text, logos` in the header.",
)

T001 = Rule(
    "T001",
    "template-error",
    E,
    "The prompt template failed to render (a user template with a mistake, usually).",
    "{% for shot in shots %}\n{{ shot.acton }}\n{% endfor %}",
    "{% for shot in shots %}\n{{ shot.action }}\n{% endfor %}",
    setting=Setting(example_file="templates/sora.j2"),
)

RULES: tuple[Rule, ...] = (
    E001,
    E002,
    E003,
    E004,
    E005,
    E006,
    E007,
    E008,
    E009,
    E010,
    S101,
    S102,
    S103,
    S106,
    S107,
    S108,
    S109,
    S110,
    S111,
    S112,
    S113,
    S114,
    S115,
    S116,
    S190,
    S191,
    P201,
    P202,
    P203,
    P204,
    P205,
    P206,
    P207,
    P208,
    P209,
    P210,
    P211,
    P212,
    P213,
    P214,
    P215,
    P216,
    P217,
    P218,
    P219,
    P220,
    C301,
    C302,
    C303,
    C304,
    C305,
    C306,
    T001,
)
"""Every rule, in the order of the docs."""

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def rule(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or BY_NAME.get(key.lower())
