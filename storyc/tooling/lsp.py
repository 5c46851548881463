"""`storyc lsp`: the language server (pygls 2, stdio).

It shows the same diagnostics as `storyc lint` as the writer types, and answers hover,
completion, definition, references, rename, quick fixes, formatting, the outline and
folding. Everything is computed by the stages (`storyc.tooling.incremental` for the analysis,
`storyc.tooling.editor` for the questions, `storyc.tooling.quickfix`/`storyc.tooling.lint` for fixes,
`storyc.tooling.fmt` for layout); this module only speaks the protocol.

Diagnostics are debounced on the leading edge: the first change after a pause is analysed
at once (in a worker thread); changes that arrive while that runs are analysed together
once the writer pauses for `debounceMs` (initialization option, default 20 ms). At most one
analysis runs per document, and only the newest text is analysed.

Nothing heavy is imported with this module: `initialize` is answered with `lsprotocol` and
`pygls` alone, while the analysis worker imports the front end (`_warm_up`); the editor
queries, quick fixes and the formatter are imported when first asked for. The collector is
held from the start until the first diagnostics are out (`storyc.tooling.lsp_startup`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import PositionCodec, TextDocument

from storyc import __version__
from storyc.errors import StorycError
from storyc.fsutil import normalise_newlines
from storyc.tooling.lsp_startup import STARTUP_GC_S, startup_done
from storyc.tooling.lsp_wire import RequestRefused, StoryProtocol, serve_stdio

if TYPE_CHECKING:
    from storyc.check.diagnostics import Diagnostic, Edit, Fix
    from storyc.check.policy import RuleSelection
    from storyc.language.model import Span, Story
    from storyc.tooling.editor import CompletionEntry, Occurrence, OutlineNode
    from storyc.tooling.incremental import Analysis, DocumentAnalyzer

DEFAULT_DEBOUNCE_MS = 20
SOURCE = "storyc"
FIX_ALL_KIND = "source.fixAll.storyc"

log = logging.getLogger(__name__)

_SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}
"""By `storyc.check.diagnostics.Severity` (a `StrEnum`: its members are these strings)."""
_UNNECESSARY = {"S102", "S103", "S190"}
_SYMBOL_KIND = {
    "scene": lsp.SymbolKind.Namespace,
    "shot": lsp.SymbolKind.Event,
    "character": lsp.SymbolKind.Variable,
    "cameo": lsp.SymbolKind.Variable,
    "location": lsp.SymbolKind.Struct,
    "preset": lsp.SymbolKind.Constant,
}
_COMPLETION_KIND = {
    "key": lsp.CompletionItemKind.Property,
    "name": lsp.CompletionItemKind.Variable,
    "preset": lsp.CompletionItemKind.Constant,
    "location": lsp.CompletionItemKind.Struct,
    "value": lsp.CompletionItemKind.Value,
    "block": lsp.CompletionItemKind.Snippet,
    "snippet": lsp.CompletionItemKind.Snippet,
}


# -- positions: our spans count code points from 1; LSP counts UTF-16 units from 0 ------------


class Positions:
    def __init__(self, source: str, codec: PositionCodec):
        self.lines = source.split("\n")
        self.codec = codec

    def position(self, line: int, column: int) -> lsp.Position:
        if line > len(self.lines):
            return lsp.Position(line=len(self.lines) - 1, character=len(self.lines[-1]))
        text = self.lines[line - 1]
        prefix = text[: max(0, column - 1)]
        character = len(prefix) if prefix.isascii() else self.codec.client_num_units(prefix)
        return lsp.Position(line=line - 1, character=character)

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(
            start=self.position(span.line, span.column),
            end=self.position(span.end_line, span.end_column),
        )

    def point(self, position: lsp.Position) -> tuple[int, int]:
        """An LSP position as our 1-based (line, column)."""
        line = position.line + 1
        if not 1 <= line <= len(self.lines):
            return line, position.character + 1
        text = self.lines[line - 1]
        if text.isascii():
            return line, position.character + 1
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return line, index + 1
            units += self.codec.client_num_units(char)
        return line, len(text) + 1


def to_lsp_diagnostic(d: Diagnostic, positions: Positions) -> lsp.Diagnostic:
    """One storyc diagnostic as the editor shows it."""
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    return lsp.Diagnostic(
        range=positions.range(d.span),
        message=message,
        severity=_SEVERITY[d.severity],
        code=d.code,
        source=SOURCE,
        tags=[lsp.DiagnosticTag.Unnecessary] if d.code in _UNNECESSARY else None,
    )


def _text_edits(edits: tuple[Edit, ...] | list[Edit], positions: Positions) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=positions.range(e.span), new_text=e.text) for e in edits]


# -- the server --------------------------------------------------------------------------------


@dataclass
class DocumentState:
    analyzer: DocumentAnalyzer
    analysis: Analysis | None = None
    task: asyncio.Future[None] | None = None
    last_change: float = 0.0
    """`time.monotonic()` of the newest change."""


class StoryLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "storyc",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=StoryProtocol,
        )
        self.documents: dict[str, DocumentState] = {}
        # One worker: analyses are CPU-bound and a document's analyzer is not thread-safe.
        self.analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyc")
        self.debounce_s = DEFAULT_DEBOUNCE_MS / 1000

    def positions(self, source: str) -> Positions:
        return Positions(source, self.workspace.position_codec)


server = StoryLanguageServer()


def _file_of(uri: str) -> str:
    return to_fs_path(uri) or uri


def open_document(ls: StoryLanguageServer, uri: str) -> TextDocument:
    """The open document at `uri`. A request about any other is refused: pygls would read
    the file from disk, and a client may name anything (a FIFO, `/dev/zero`)."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    if doc is None:
        raise RequestRefused(f"document {uri} is not open")
    return doc


def _selection(ls: StoryLanguageServer, file: str) -> RuleSelection:
    from storyc.check.policy import RuleSelection, selection_for

    path = Path(file)
    if not path.is_absolute():
        return RuleSelection()
    try:
        return selection_for(path)
    except StorycError as exc:
        ls.window_show_message(
            lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"storyc: {exc.message}")
        )
        return RuleSelection()


def _state(ls: StoryLanguageServer, uri: str) -> DocumentState:
    state = ls.documents.get(uri)
    if state is None:
        from storyc.tooling.incremental import DocumentAnalyzer

        file = _file_of(uri)
        state = DocumentState(DocumentAnalyzer(file, _selection(ls, file)))
        ls.documents[uri] = state
    return state


def publish(ls: StoryLanguageServer, uri: str, analysis: Analysis) -> None:
    positions = ls.positions(analysis.source)
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(
            uri=uri,
            version=analysis.version,
            diagnostics=[to_lsp_diagnostic(d, positions) for d in analysis.diagnostics],
        )
    )


async def _analysis_loop(ls: StoryLanguageServer, uri: str) -> None:
    loop = asyncio.get_running_loop()
    first = True
    while True:
        state = ls.documents.get(uri)
        if state is None:
            return
        # The first change after a pause is checked at once; changes made during that check
        # are checked together once the writer pauses for `debounce_s`.
        while not first and (quiet := ls.debounce_s - (time.monotonic() - state.last_change)) > 0:
            await asyncio.sleep(quiet)
        first = False
        doc = ls.workspace.get_text_document(uri)
        source, version = doc.source, doc.version
        started = time.perf_counter()
        try:
            analysis = await loop.run_in_executor(
                ls.analysis_pool, state.analyzer.analyze, source, version
            )
        except Exception as exc:
            # A bug in a stage must not take the server down with it; say so in the log.
            log.exception("storyc: analysis of %s failed", uri)
            ls.window_log_message(
                lsp.LogMessageParams(
                    type=lsp.MessageType.Error,
                    message=f"storyc: checking {uri} failed (a bug in storyc): {exc!r}",
                )
            )
            return
        if uri not in ls.documents:
            return
        state.analysis = analysis
        publish(ls, uri, analysis)
        startup_done()
        elapsed_ms = (time.perf_counter() - started) * 1000
        ls.window_log_message(
            lsp.LogMessageParams(
                type=lsp.MessageType.Log,
                message=f"storyc: checked version {version} in {elapsed_ms:.0f} ms",
            )
        )
        # Analyses freeze what they leave alive (see `storyc.frontend`); let the collector
        # see it again now and then, after the diagnostics went out.
        from storyc.frontend import thaw_now_and_then

        thaw_now_and_then()
        if ls.workspace.get_text_document(uri).version == version:
            return


def schedule(ls: StoryLanguageServer, uri: str) -> asyncio.Future[None]:
    state = _state(ls, uri)
    if state.task is None or state.task.done():
        state.task = asyncio.ensure_future(_analysis_loop(ls, uri))
    return state.task


async def current_analysis(ls: StoryLanguageServer, uri: str) -> Analysis | None:
    """The analysis of the document as it is now (waits for a running one)."""
    version = open_document(ls, uri).version
    state = _state(ls, uri)
    if state.analysis is None or state.analysis.version != version:
        await asyncio.shield(schedule(ls, uri))
    return state.analysis


@server.feature(lsp.INITIALIZE)
def on_initialize(ls: StoryLanguageServer, params: lsp.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("debounceMs"), int | float):
        ls.debounce_s = max(0.0, float(options["debounceMs"]) / 1000)
    # The front end is imported by the analysis worker while the client gets its answer and
    # opens the document (the first analysis, queued behind it, then starts at once).
    ls.analysis_pool.submit(_warm_up)
    asyncio.get_running_loop().call_later(STARTUP_GC_S, startup_done)


def _warm_up() -> None:
    import storyc.tooling.incremental  # noqa: F401  (the whole front end)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: StoryLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: StoryLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _state(ls, params.text_document.uri).last_change = time.monotonic()
    schedule(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: StoryLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    # Reference files may have changed on disk; the cached facts notice by mtime.
    if unquote(params.text_document.uri) in ls.workspace.text_documents:
        schedule(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: StoryLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


# -- hover, definition, references, rename -----------------------------------------------------


def _symbol(analysis: Analysis, positions: Positions, at: lsp.Position) -> Occurrence | None:
    from storyc.tooling.editor import symbol_at

    if analysis.story is None:
        return None
    line, column = positions.point(at)
    return symbol_at(analysis.story, line, column)


async def _target_at(
    ls: StoryLanguageServer, uri: str, at: lsp.Position
) -> tuple[Story, Positions, Occurrence] | None:
    """A document's story, its position map and the name or duration under the cursor."""
    analysis = await current_analysis(ls, uri)
    if analysis is None or analysis.story is None:
        return None
    positions = ls.positions(analysis.source)
    target = _symbol(analysis, positions, at)
    return None if target is None else (analysis.story, positions, target)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
async def hover(ls: StoryLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    from storyc.tooling.editor import hover_text, rule_hover

    open_document(ls, params.text_document.uri)
    # The analysis of the text as it is now, not the last one made (an edit may be pending).
    analysis = await current_analysis(ls, params.text_document.uri)
    if analysis is None:
        return None
    positions = ls.positions(analysis.source)
    line, column = positions.point(params.position)
    found = rule_hover(analysis.source, analysis.comments, line, column)
    if found is not None:
        markdown, span = found
    else:
        target = _symbol(analysis, positions, params.position)
        if target is None or analysis.story is None:
            return None
        plan = analysis.plan() if target.kind == "duration" else None
        markdown, span = hover_text(analysis.story, target, plan), target.span
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown),
        range=positions.range(span),
    )


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: StoryLanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    found = await _target_at(ls, uri, params.position)
    if found is None:
        return None
    from storyc.tooling.editor import declaration_of

    story, positions, target = found
    span = declaration_of(story, target.kind, target.name)
    return lsp.Location(uri=uri, range=positions.range(span)) if span else None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
async def references(
    ls: StoryLanguageServer, params: lsp.ReferenceParams
) -> list[lsp.Location] | None:
    uri = params.text_document.uri
    found = await _target_at(ls, uri, params.position)
    if found is None or found[2].kind == "duration":
        return None
    from storyc.tooling.editor import references_to

    story, positions, target = found
    spans = references_to(
        story,
        target.kind,
        target.name,
        include_declaration=params.context.include_declaration,
    )
    return [lsp.Location(uri=uri, range=positions.range(s)) for s in spans]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
async def prepare_rename(
    ls: StoryLanguageServer, params: lsp.PrepareRenameParams
) -> lsp.PrepareRenamePlaceholder | None:
    found = await _target_at(ls, params.text_document.uri, params.position)
    if found is None or found[2].kind == "duration":
        return None
    _, positions, target = found
    return lsp.PrepareRenamePlaceholder(range=positions.range(target.span), placeholder=target.name)


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
async def rename(ls: StoryLanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    uri = params.text_document.uri
    found = await _target_at(ls, uri, params.position)
    if found is None:
        return None
    from storyc.tooling.editor import RenameRefused, rename_edits

    story, positions, target = found
    try:
        edits = rename_edits(story, target, params.new_name)
    except RenameRefused as exc:
        ls.window_show_message(
            lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"storyc: {exc}")
        )
        return None
    return lsp.WorkspaceEdit(changes={uri: _text_edits(edits, positions)})


# -- completion --------------------------------------------------------------------------------


def _completion_item(
    entry: CompletionEntry, line: int, positions: Positions, at: lsp.Position
) -> lsp.CompletionItem:
    start = positions.position(line, entry.replace_from)
    return lsp.CompletionItem(
        label=entry.label,
        kind=_COMPLETION_KIND[entry.kind],
        detail=entry.detail,
        documentation=entry.documentation,
        insert_text_format=lsp.InsertTextFormat.Snippet if entry.snippet else None,
        text_edit=lsp.TextEdit(range=lsp.Range(start=start, end=at), new_text=entry.insert_text),
        filter_text=entry.label,
    )


@server.feature(
    lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["@", ":", " "])
)
async def completion(ls: StoryLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    from storyc.tooling.editor import completions

    uri = params.text_document.uri
    doc = open_document(ls, uri)
    analysis = await current_analysis(ls, uri)
    story = analysis.story if analysis else None
    source = normalise_newlines(doc.source)
    positions = ls.positions(source)
    line, column = positions.point(params.position)
    snippets = _client_snippets(ls)
    items = [
        _completion_item(e, line, positions, params.position)
        for e in completions(source, story, line, column)
        if snippets or not e.snippet
    ]
    return lsp.CompletionList(is_incomplete=False, items=items)


def _client_snippets(ls: StoryLanguageServer) -> bool:
    text = ls.client_capabilities.text_document
    item = text.completion.completion_item if text and text.completion else None
    return bool(item and item.snippet_support)


# -- code actions and formatting ---------------------------------------------------------------


def _action(
    title: str, fix: Fix, uri: str, positions: Positions, diagnostic: lsp.Diagnostic | None
) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic] if diagnostic else None,
        is_preferred=fix.safe or None,
        edit=lsp.WorkspaceEdit(changes={uri: _text_edits(fix.edits, positions)}),
    )


def _matches(ours: Diagnostic, theirs: lsp.Diagnostic, positions: Positions) -> bool:
    """The same code on overlapping lines and columns: a client may send the range back in
    other units (Neovim 0.7 counts bytes), so an exact match would find nothing."""
    if theirs.code != ours.code:
        return False
    mine = positions.range(ours.span)
    return _before_or_at(theirs.range.start, mine.end) and _before_or_at(
        mine.start, theirs.range.end
    )


def _before_or_at(a: lsp.Position, b: lsp.Position) -> bool:
    return (a.line, a.character) <= (b.line, b.character)


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND]),
)
async def code_action(
    ls: StoryLanguageServer, params: lsp.CodeActionParams
) -> list[lsp.CodeAction] | None:
    uri = params.text_document.uri
    analysis = await current_analysis(ls, uri)
    if analysis is None:
        return None
    from storyc.tooling.quickfix import fixes_for, suppress_fix

    positions = ls.positions(analysis.source)
    actions: list[lsp.CodeAction] = []
    wanted = params.context.only
    if not wanted or lsp.CodeActionKind.QuickFix in wanted:
        for theirs in params.context.diagnostics:
            ours = next((d for d in analysis.diagnostics if _matches(d, theirs, positions)), None)
            if ours is None:
                continue
            for fix in fixes_for(ours, analysis.story, analysis.source):
                actions.append(_action(f"{fix.title} ({ours.code})", fix, uri, positions, theirs))
            silence = suppress_fix(ours, analysis.source, analysis.comments)
            if silence is not None:
                actions.append(_action(silence.title, silence, uri, positions, theirs))
    # Only on request (e.g. fix-on-save): it analyses the text again, several times.
    if wanted and any(str(k).startswith("source.fixAll") for k in wanted):
        fixable = [d for d in analysis.diagnostics if d.fix is not None and d.fix.safe]
        if fixable:
            action = await _fix_all(ls, uri, analysis)
            if action is not None:
                actions.append(action)
    return actions


async def _fix_all(ls: StoryLanguageServer, uri: str, analysis: Analysis) -> lsp.CodeAction | None:
    from storyc.tooling.lint import fix_source

    state = _state(ls, uri)
    loop = asyncio.get_running_loop()
    outcome = await loop.run_in_executor(
        ls.analysis_pool, fix_source, analysis.source, analysis.file, state.analyzer.selection
    )
    if outcome.source == analysis.source:
        return None
    return lsp.CodeAction(
        title=f"Fix all storyc problems that have a safe fix ({len(outcome.applied)})",
        kind=FIX_ALL_KIND,
        edit=lsp.WorkspaceEdit(
            changes={uri: [_whole_document(ls.positions(analysis.source), outcome.source)]}
        ),
    )


def _whole_document(positions: Positions, new: str) -> lsp.TextEdit:
    lines = positions.lines
    end = positions.position(len(lines), len(lines[-1]) + 1)
    start = lsp.Position(line=0, character=0)
    return lsp.TextEdit(range=lsp.Range(start=start, end=end), new_text=new)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(
    ls: StoryLanguageServer, params: lsp.DocumentFormattingParams
) -> list[lsp.TextEdit] | None:
    from storyc.tooling.fmt import FormatError, format_checked

    doc = open_document(ls, params.text_document.uri)
    source = normalise_newlines(doc.source)
    try:
        formatted = format_checked(source)
    except FormatError as exc:
        ls.window_show_message(
            lsp.ShowMessageParams(
                type=lsp.MessageType.Warning, message=f"storyc fmt: {exc.message}"
            )
        )
        return None
    if formatted == source:
        return []
    return [_whole_document(ls.positions(source), formatted)]


# -- outline and folding -----------------------------------------------------------------------


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbol(
    ls: StoryLanguageServer, params: lsp.DocumentSymbolParams
) -> list[lsp.DocumentSymbol] | None:
    analysis = await current_analysis(ls, params.text_document.uri)
    from storyc.tooling.editor import outline

    if analysis is None or analysis.story is None:
        return None
    positions = ls.positions(analysis.source)

    def convert(node: OutlineNode) -> lsp.DocumentSymbol:
        full = positions.range(node.span)
        selection = positions.range(node.selection)
        return lsp.DocumentSymbol(
            name=node.name,
            detail=node.detail,
            kind=_SYMBOL_KIND[node.kind],
            range=full,
            selection_range=selection,
            children=[convert(child) for child in node.children] or None,
        )

    return [convert(node) for node in outline(analysis.story)]


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(
    ls: StoryLanguageServer, params: lsp.FoldingRangeParams
) -> list[lsp.FoldingRange]:
    from storyc.tooling.editor import folding_ranges

    doc = open_document(ls, params.text_document.uri)
    return [
        lsp.FoldingRange(start_line=first - 1, end_line=last - 1, kind=lsp.FoldingRangeKind.Region)
        for first, last in folding_ranges(normalise_newlines(doc.source))
    ]


def main() -> None:
    """Serve on stdin/stdout until the client says exit (status 1 if the input is unusable)."""
    sys.exit(serve_stdio(server))


if __name__ == "__main__":
    main()
