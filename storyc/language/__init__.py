"""The language: a `.story` file's text to a typed model.

`source` reads the file (bounded, UTF-8), `parse` turns text into a Lark tree (recovering
inside broken blocks) with syntax diagnostics, `comments` keeps the comments `fmt` needs,
`builder` turns the tree into the typed `model` with spans.
"""
