"""The tools around the compiler: `lint` (suppressions, fixes), `fmt`, and the editor side
(`incremental` analysis, `editor` queries, the `lsp` server and its `lsp_wire` framing)."""
