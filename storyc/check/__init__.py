"""The checker: the model to diagnostics, each with file:line:col, a rule code and a fix.

`catalog` names every rule (code, name, docs, examples); `structure` checks names, keys and
content; `provider` checks what the chosen model accepts; `diagnostics` is the value and its
terminal rendering; `sarif` and `docs` render the same data for other readers.
"""
