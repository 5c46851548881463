"""The language server through a real LSP client over stdio (pytest-lsp): one `storyc lsp`
process for the module, one document per test."""

from __future__ import annotations

import asyncio
import sys
from itertools import count

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

STORY = """\
title: Test
model: sora-2

character mara:
    look: barista in a green apron
    voice: warm alto

scene "Opening":
    shot wide 4s:
        camera: slow dolly in
        action: @mara opens the cafe.

    shot 4s:
        action: @mara waves.
"""

_numbers = count(1)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "storyc.cli", "lsp"]),
)
async def client(lsp_client: LanguageClient):
    lsp_client.published = []  # type: ignore[attr-defined]
    features = lsp_client.protocol.fm.features
    original = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: lsp.PublishDiagnosticsParams) -> None:
        lsp_client.published.append(params)  # type: ignore[attr-defined]
        original(params)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"debounceMs": 0},
        )
    )
    yield
    await lsp_client.shutdown_session()


class Doc:
    """An open document on the server, edited like an editor would."""

    def __init__(self, client: LanguageClient, text: str):
        self.client = client
        self.uri = f"file:///tmp/storyc-lsp-test-{next(_numbers)}.story"
        self.text = text
        self.version = 1
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=self.uri, language_id="story", version=1, text=text
                )
            )
        )

    def replace(self, old: str, new: str) -> None:
        """Send an incremental change replacing the first `old` by `new`."""
        start = self.text.index(old)
        rng = lsp.Range(start=self.position(start), end=self.position(start + len(old)))
        self.text = self.text[:start] + new + self.text[start + len(old) :]
        self.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=new)],
            )
        )

    def position(self, offset: int) -> lsp.Position:
        before = self.text[:offset]
        return lsp.Position(line=before.count("\n"), character=offset - (before.rfind("\n") + 1))

    def at(self, needle: str, shift: int = 0) -> lsp.Position:
        return self.position(self.text.index(needle) + shift)

    def ident(self) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=self.uri)

    async def diagnostics(self) -> list[lsp.Diagnostic]:
        """The diagnostics published for the current version (waits for them)."""
        published = self.client.published  # type: ignore[attr-defined]
        for _ in range(200):
            for params in reversed(published):
                if params.uri == self.uri and params.version == self.version:
                    return list(params.diagnostics)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no diagnostics for version {self.version}")

    def apply(self, edits: list[lsp.TextEdit]) -> str:
        """The text after the edits (ASCII text, so UTF-16 columns are characters)."""
        text = self.text
        lines = text.split("\n")

        def offset(p: lsp.Position) -> int:
            if p.line >= len(lines):
                return len(text)
            return sum(len(x) + 1 for x in lines[: p.line]) + p.character

        for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
            text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
        return text

    def edit_to(self, new_text: str) -> None:
        """Replace the whole text (one full change event)."""
        self.text = new_text
        self.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=new_text)],
            )
        )


def codes(diagnostics: list[lsp.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def test_diagnostics_appear_and_go_away_as_the_text_is_edited(client: LanguageClient):
    doc = Doc(client, STORY)
    assert codes(await doc.diagnostics()) == []

    doc.replace("@mara waves.", "@ghost waves.")
    found = await doc.diagnostics()
    assert codes(found) == ["S101"]
    assert found[0].range.start == doc.at("@ghost waves")
    assert found[0].severity == lsp.DiagnosticSeverity.Error

    doc.replace("@ghost waves.", "@mara waves.")
    assert codes(await doc.diagnostics()) == []


async def test_a_burst_of_changes_ends_with_the_newest_diagnostics(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    word = "waves."
    for n in range(8):  # eight keystrokes sent at once
        doc.replace(word, f"waves{n}.")
        word = f"waves{n}."
    doc.replace("@mara waves7.", "@ghost waves.")
    assert codes(await doc.diagnostics()) == ["S101"]
    await asyncio.sleep(0.2)
    published = [p for p in client.published if p.uri == doc.uri]  # type: ignore[attr-defined]
    # Never an older version after a newer one, and the newest text has the last word.
    # (How many checks the burst took depends on timing: at most one per change.)
    versions = [p.version for p in published]
    assert versions == sorted(set(versions))
    assert versions[-1] == doc.version


async def test_positions_are_in_utf16_units(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "\U0001f600 @ghost waves."))
    [found] = await doc.diagnostics()
    # "        action: " is 16 units, the emoji 2 more, then a space.
    assert found.range.start.character == 19
    assert found.range.end.character == 25
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=doc.ident(),
            position=lsp.Position(line=found.range.start.line, character=21),
        )
    )
    assert hover is not None and "@ghost" in hover.contents.value  # type: ignore[union-attr]


async def test_a_syntax_error_in_one_shot_keeps_the_other_shots_diagnostics(
    client: LanguageClient,
):
    doc = Doc(client, STORY.replace("@mara waves.", "@ghost waves."))
    assert codes(await doc.diagnostics()) == ["S101"]
    doc.replace("camera: slow", "camera slow")
    assert codes(await doc.diagnostics()) == ["E006", "S101"]
    doc.replace("    shot wide 4s:", "    shot wide 4:")
    assert "S101" in codes(await doc.diagnostics())


async def test_hover_on_a_name_shows_its_look_and_voice(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=doc.ident(), position=doc.at("@mara opens", 2))
    )
    assert hover is not None
    text = hover.contents.value  # type: ignore[union-attr]
    assert "character" in text and "barista in a green apron" in text and "warm alto" in text


async def test_hover_on_a_duration_shows_its_clip_and_film_timecode(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=doc.ident(), position=doc.at("4s:\n        action: @mara w"))
    )
    assert hover is not None
    text = hover.contents.value  # type: ignore[union-attr]
    # Two 4 s shots pack into one sora-2 clip: the second runs 0:04-0:08 in clip and film.
    assert "clip 1 of 1" in text and "in the film 0:04.000–0:08.000" in text


async def test_hover_on_a_code_in_a_suppression_shows_the_rule(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "@ghost waves.  # storyc: ignore[S101]"))
    assert codes(await doc.diagnostics()) == []
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=doc.ident(), position=doc.at("S101]", 1))
    )
    assert hover is not None
    assert "S101 undeclared-name" in hover.contents.value  # type: ignore[union-attr]


async def complete(doc: Doc, position: lsp.Position) -> list[str]:
    result = await doc.client.text_document_completion_async(
        lsp.CompletionParams(text_document=doc.ident(), position=position)
    )
    assert isinstance(result, lsp.CompletionList)
    return [item.label for item in result.items]


async def test_completion_of_names_keys_and_models(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    doc.replace("@mara waves.", "@ma")
    await doc.diagnostics()
    assert "@mara" in await complete(doc, doc.at("@ma", 3))

    doc.replace("action: @ma\n", "cam\n")
    await doc.diagnostics()
    labels = await complete(doc, doc.at("cam\n", 3))
    assert {"camera:", "light:", "action:"} <= set(labels)

    doc.replace("model: sora-2", "model: ")
    await doc.diagnostics()
    models = await complete(doc, doc.at("model: ", 7))
    assert "sora-2" in models and "sora-2-pro" in models


async def test_definition_and_references_of_a_name(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    found = await client.text_document_definition_async(
        lsp.DefinitionParams(text_document=doc.ident(), position=doc.at("@mara waves", 1))
    )
    assert isinstance(found, lsp.Location)
    assert found.range.start == doc.at("mara:")
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=doc.ident(),
            position=doc.at("mara:"),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None and len(refs) == 3


async def test_rename_changes_the_declaration_and_every_reference(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    result = await client.text_document_rename_async(
        lsp.RenameParams(
            text_document=doc.ident(), position=doc.at("@mara opens", 3), new_name="june"
        )
    )
    assert result is not None and result.changes is not None
    renamed = doc.apply(list(result.changes[doc.uri]))
    assert "mara" not in renamed
    assert "character june:" in renamed and "@june opens" in renamed and "@june waves" in renamed
    doc.edit_to(renamed)
    assert codes(await doc.diagnostics()) == []


async def actions_for(doc: Doc, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
    result = await doc.client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc.ident(),
            range=diagnostic.range,
            context=lsp.CodeActionContext(
                diagnostics=[diagnostic], only=[lsp.CodeActionKind.QuickFix]
            ),
        )
    )
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


async def test_quick_fix_did_you_mean_removes_the_diagnostic(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "@mra waves."))
    [problem] = await doc.diagnostics()
    actions = await actions_for(doc, problem)
    titles = [a.title for a in actions]
    assert titles[0] == "replace with `@mara` (S101)"
    assert "declare `character mra:` (S101)" in titles
    assert "silence S101 on this line" in titles
    fixed = doc.apply(list(actions[0].edit.changes[doc.uri]))  # type: ignore[union-attr]
    assert "@mara waves." in fixed
    doc.edit_to(fixed)
    assert codes(await doc.diagnostics()) == []


async def test_quick_fix_declares_a_missing_character(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "@zed waves."))
    [problem] = await doc.diagnostics()
    actions = await actions_for(doc, problem)
    declare = next(a for a in actions if a.title.startswith("declare"))
    fixed = doc.apply(list(declare.edit.changes[doc.uri]))  # type: ignore[union-attr]
    assert "character zed:\n" in fixed
    doc.edit_to(fixed)
    assert codes(await doc.diagnostics()) == []


async def test_quick_fix_splits_a_too_long_shot(client: LanguageClient):
    doc = Doc(client, STORY.replace("shot wide 4s:", "shot wide 20s:"))
    found = await doc.diagnostics()
    assert codes(found) == ["P205"]
    actions = await actions_for(doc, found[0])
    split = next(a for a in actions if a.title.startswith("split"))
    fixed = doc.apply(list(split.edit.changes[doc.uri]))  # type: ignore[union-attr]
    assert fixed.count("shot wide 10s:") == 2
    doc.edit_to(fixed)
    assert codes(await doc.diagnostics()) == []


async def test_fix_all_applies_every_safe_fix(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "@mra waves.").replace("camera:", "camra:"))
    assert codes(await doc.diagnostics()) == ["S101", "S107"]
    result = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc.ident(),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=doc.at("title")),
            context=lsp.CodeActionContext(diagnostics=[], only=["source.fixAll.storyc"]),
        )
    )
    [action] = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
    assert action.kind == "source.fixAll.storyc"
    doc.edit_to(doc.apply(list(action.edit.changes[doc.uri])))  # type: ignore[union-attr]
    assert doc.text == STORY
    assert codes(await doc.diagnostics()) == []


async def test_formatting_returns_the_canonical_layout(client: LanguageClient):
    messy = STORY.replace("    look: barista", "  look :  barista").replace(
        "    voice:", "  voice:"
    )
    doc = Doc(client, messy)
    await doc.diagnostics()
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(
            text_document=doc.ident(), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)
        )
    )
    assert edits is not None
    assert doc.apply(list(edits)) == STORY


async def test_outline_lists_scenes_and_shots_and_folding_follows_blocks(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=doc.ident())
    )
    assert symbols is not None
    names = [s.name for s in symbols]  # type: ignore[union-attr]
    assert names == ["mara", "Opening"]
    scene = symbols[1]
    assert isinstance(scene, lsp.DocumentSymbol) and scene.children is not None
    assert [c.name for c in scene.children] == ["shot 1 wide · 4s", "shot 2 · 4s"]
    folds = await client.text_document_folding_range_async(
        lsp.FoldingRangeParams(text_document=doc.ident())
    )
    assert folds is not None
    assert (7, 13) in {(f.start_line, f.end_line) for f in folds}


async def test_a_document_with_lone_carriage_returns_reads_like_lint_reads_it(
    client: LanguageClient,
):
    from storyc.tooling.lint import lint_source

    text = STORY.replace("@mara waves.", "@ghost waves.")
    doc = Doc(client, text)
    expected = [(d.code, d.span.line - 1) for d in lint_source(text, "/tmp/t.story").diagnostics]
    assert ("S101", 13) in expected
    folds_before = await client.text_document_folding_range_async(
        lsp.FoldingRangeParams(text_document=doc.ident())
    )
    doc.edit_to(text.replace("\n", "\r"))  # an old Mac editor's line endings
    published = await doc.diagnostics()
    assert sorted((str(d.code), d.range.start.line) for d in published) == sorted(expected)
    folds = await client.text_document_folding_range_async(
        lsp.FoldingRangeParams(text_document=doc.ident())
    )
    assert folds is not None and folds_before is not None
    assert [(f.start_line, f.end_line) for f in folds] == [
        (f.start_line, f.end_line) for f in folds_before
    ]


async def test_hover_right_after_an_edit_reads_the_edited_text(client: LanguageClient):
    doc = Doc(client, STORY)
    await doc.diagnostics()
    # Rename the character in the text and hover at once, before any diagnostics arrive.
    doc.edit_to(STORY.replace("character mara:", "character nora:").replace("@mara", "@nora"))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=doc.ident(), position=doc.at("@nora opens", 2))
    )
    assert hover is not None
    assert "nora" in hover.contents.value  # type: ignore[union-attr]


async def test_quick_fixes_match_a_diagnostic_sent_back_in_other_units(client: LanguageClient):
    doc = Doc(client, STORY.replace("@mara waves.", "@mra waves."))
    [problem] = await doc.diagnostics()
    # Neovim 0.7 sends the range back in bytes, not UTF-16 units: same line, shifted end.
    shifted = lsp.Diagnostic(
        range=lsp.Range(
            start=problem.range.start,
            end=lsp.Position(problem.range.end.line, problem.range.end.character + 3),
        ),
        message=problem.message,
        code=problem.code,
        source=problem.source,
    )
    actions = await actions_for(doc, shifted)
    assert actions and actions[0].title == "replace with `@mara` (S101)"
    elsewhere = lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 3)),
        message=problem.message,
        code=problem.code,
    )
    assert await actions_for(doc, elsewhere) == []  # no overlap, no fix
