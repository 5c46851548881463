"""Provider name -> renderer: the one place that knows which module renders for whom.

Adding a provider is one module `storyc/providers/<name>.py` with a class whose `name` is the
provider's name, plus one line in `RENDERERS`. The paid renderers are imported only when
asked for, so `storyc render` with the preview never loads httpx or reads a key.

Every renderer's constructor takes no required argument and reads its key and base URL from
the environment (raising `MissingKey` when the key is unset); it may take `cache_dir`, the
cache folder, for things it keeps between runs (uploaded cameo ids).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from storyc.errors import StorycError, UsageError
from storyc.providers.base import Renderer
from storyc.sandbox import ReferencePolicy

RENDERERS: dict[str, str] = {
    "preview": "storyc.providers.preview:PreviewRenderer",
    "openai": "storyc.providers.openai:OpenAIRenderer",
    "fal": "storyc.providers.fal:FalRenderer",
    "prodia": "storyc.providers.prodia:ProdiaRenderer",
    "runway": "storyc.providers.runway:RunwayRenderer",
}
"""Provider name -> `module:Class`."""


def renderer_names() -> list[str]:
    return list(RENDERERS)


def renderer_class(name: str) -> type:
    """The class that renders for provider `name` (imported on first use)."""
    spec = RENDERERS.get(name)
    if spec is None:
        known = ", ".join(RENDERERS)
        raise UsageError(f"unknown provider `{name}`; storyc renders with: {known}")
    module_name, _, class_name = spec.partition(":")
    # No fallback: a module or class missing here is a bug in storyc, shown as one.
    cls: type = getattr(importlib.import_module(module_name), class_name)
    return cls


def check_key(name: str) -> None:
    """Raise `MissingKey`/`BadKey` now if provider `name` needs a key that is unset or
    cannot be one (nothing is sent). A fallback provider's key is checked before the first
    provider pays for anything: found only at its turn, a missing key would stop the run
    after money was spent on clips the fallback was meant to take over."""
    from storyc.providers.errors import read_key

    cls = renderer_class(name)
    env_var = getattr(importlib.import_module(cls.__module__), "KEY_ENV", None)
    if isinstance(env_var, str):
        read_key(name, env_var)


def create_renderer(
    name: str, *, cache_dir: Path | None = None, references: ReferencePolicy | None = None
) -> Renderer:
    """A ready renderer for provider `name`; raises `MissingKey` if its key is unset.

    `references` is the story's sandbox: a renderer that uploads files reads them through
    it, the moment before they leave."""
    cls = renderer_class(name)
    kwargs: dict[str, object] = {}
    parameters = inspect.signature(cls).parameters
    if cache_dir is not None and "cache_dir" in parameters:
        kwargs["cache_dir"] = cache_dir
    if references is not None and "references" in parameters:
        kwargs["references"] = references
    renderer = cls(**kwargs)
    if not isinstance(renderer, Renderer):
        raise StorycError(
            f"{cls.__module__}.{cls.__name__} does not implement the Renderer protocol"
        )
    return renderer
