"""Providers: clips to video files, never paying twice.

`base` is the one `Renderer` protocol; `preview` (free, offline), `openai`, `fal` and
`prodia` implement it over the shared `http` plumbing and `errors`; `registry` names them.
`engine` drives any of them with the `cache` of finished clips and the `journal` of claims
and jobs; `uploads` remembers what was uploaded.
"""
