"""A clip's create request as data: what `plan.json` shows and what the renderer sends.

Each provider module (`openai.py`, `fal.py`, `prodia.py`) owns one pure function
`build_request(clip, offering) -> ProviderRequest`. The planner calls it (through
`request_for`, which imports the provider's module only when asked) to fill `Clip.request`,
and the provider's renderer calls it again in `submit` and sends exactly its fields, with
only the placeholders filled in. So `plan.json` shows what would be sent.

Local files are never inlined. A request names each one by a placeholder string, and
`ProviderRequest.files` says which file it stands for and how it travels:

- `@fan.png` (curl's spelling): a multipart file part with that file's bytes
  (`@fan.png;filename=input.png` when the part carries another file name);
- `<upload of fan.png>`: the URL the file gets when uploaded to the provider's storage;
- `<data URL of fan.png>`: a `data:image/...;base64,...` URL of the file's bytes;
- `<character id of mara>`: the id the provider gave cameo `mara`'s reference video.

This module imports no HTTP client: the plan stage may use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from storyc.plan.capabilities import Offering
from storyc.plan.schema import CameoReference, Clip

FileUse = Literal["part", "upload", "data_url", "character"]


@dataclass(frozen=True)
class LocalFile:
    """A local file a request carries or refers to, named in the request by `placeholder`."""

    placeholder: str
    path: str
    use: FileUse
    filename: str = ""
    """For a file part: the file name the part carries (default: the file's own name)."""
    cameo: CameoReference | None = None
    """For a character: the cameo whose reference video it is."""

    @property
    def part_filename(self) -> str:
        return self.filename or Path(self.path).name


@dataclass(frozen=True)
class ProviderRequest:
    """The request that creates a clip's job, local files named by placeholders."""

    path: str
    """Where it goes, under the provider's base URL: `/videos`, `/fal-ai/veo3.1`, ..."""
    body: dict[str, Any]
    """The JSON body, or for a multipart request its parts: a text field's value, a JSON
    part as its object, a file part as its placeholder."""
    multipart: bool = False
    files: tuple[LocalFile, ...] = ()
    app: str | None = None
    """fal's app id: the queue routes by it, so `plan.json` shows it beside the input."""
    method: str = "POST"

    def for_plan(self) -> dict[str, Any]:
        """The request as `plan.json` shows it: the body (for fal: `{"app", "input"}`)."""
        if self.app is not None:
            return {"app": self.app, "input": self.body}
        return self.body

    def filled(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The body with each placeholder in `values` replaced by its value (an upload's URL,
        a character id, a file part), ready to send."""
        return _fill(self.body, values)


def _fill(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


@dataclass
class FileNames:
    """Placeholders for a request's local files: one per file and use, unique by name."""

    files: list[LocalFile] = field(default_factory=list)

    def add(
        self,
        path: str,
        use: FileUse,
        *,
        filename: str = "",
        cameo: CameoReference | None = None,
    ) -> str:
        for known in self.files:
            # `is` first: a clip names the same cameo object; comparing models is slow.
            if (
                known.path == path
                and known.use == use
                and (known.cameo is cameo or known.cameo == cameo)
            ):
                return known.placeholder
        name = _file_name(path)
        taken = {known.placeholder for known in self.files}
        text = _placeholder(use, cameo.name if cameo else name, filename)
        count = 2
        while text in taken:  # two files of one name in different folders
            text = _placeholder(use, f"{name} #{count}", filename)
            count += 1
        self.files.append(LocalFile(text, path, use, filename=filename, cameo=cameo))
        return text

    def frozen(self) -> tuple[LocalFile, ...]:
        return tuple(self.files)


@lru_cache(maxsize=1024)
def _file_name(path: str) -> str:
    """`Path(path).name`, worked out once per file: thousands of clips name the same few."""
    return Path(path).name


def _placeholder(use: FileUse, name: str, filename: str) -> str:
    if use == "part":
        return f"@{name};filename={filename}" if filename and filename != name else f"@{name}"
    if use == "upload":
        return f"<upload of {name}>"
    if use == "data_url":
        return f"<data URL of {name}>"
    return f"<character id of {name}>"


def request_for(clip: Clip, offering: Offering) -> ProviderRequest:
    """The request `clip` makes at its provider (for `preview`, at the provider it mirrors),
    built by that provider module's `build_request`; the module is imported on first use."""
    request: ProviderRequest = _builder(offering.mirrors or offering.provider)(clip, offering)
    return request


@cache
def _builder(provider: str) -> Callable[[Clip, Offering], ProviderRequest]:
    """The `build_request` of `provider`'s module, found once (the planner asks per clip)."""
    from storyc.providers.registry import RENDERERS

    spec = RENDERERS.get(provider)
    if spec is None or provider == "preview":
        raise ValueError(f"no provider builds requests for `{provider}`")
    module = importlib.import_module(spec.partition(":")[0])
    builder: Callable[[Clip, Offering], ProviderRequest] = module.build_request
    return builder
