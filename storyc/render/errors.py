"""Failures a renderer reports to the writer, and the redaction that keeps keys out of them.

Every class is a `StorycError`, so the CLI prints its message and exits non-zero without a
traceback. Renderers raise these; the scheduler catches the per-clip ones (`JobRejected`,
`ProviderUnavailable`, `DownloadIncomplete`) and lets the other clips go on, while the
run-wide ones (`MissingKey`, `KeyRefused`) stop the whole run.

Messages never contain a secret: build them from the provider's text passed through
`redact(text, secrets)` with the key(s) the renderer holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from storyc.errors import StorycError

REDACTED = "***"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Return `text` with every non-empty secret value in `secrets` replaced by "***".

    Longer secrets are replaced first so a key that contains another is fully hidden.
    `None` and empty strings are ignored (an unset key redacts nothing).
    """
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    for value in values:
        text = text.replace(value, REDACTED)
    return text


class RenderError(StorycError):
    """Base of every rendering failure (lets callers catch just these)."""


class MissingKey(RenderError):
    """The provider needs a key and its environment variable is unset or empty."""

    def __init__(self, provider: str, env_var: str):
        super().__init__(
            f"The {provider} renderer needs an API key: set {env_var} in your environment.",
            hint="or render offline for free with `--provider preview`",
        )
        self.provider = provider
        self.env_var = env_var


class KeyRefused(RenderError):
    """The provider answered 401/403: the key is wrong, revoked or lacks access."""

    def __init__(self, provider: str, detail: str | None = None):
        message = f"{provider} refused the API key"
        message += f": {detail}" if detail else "."
        super().__init__(message, hint="check the key's value and that it may use this model")
        self.provider = provider
        self.detail = detail


class JobRejected(RenderError):
    """The provider refused or failed one clip's job (moderation, bad parameter, failed run).

    `message` is the provider's own text (already redacted); `clip` is the clip's id or stem
    so the report can point at the clip. The scheduler adds the shot's file:line.
    """

    def __init__(self, provider: str, message: str, clip: str | None = None):
        where = f" clip {clip}" if clip else ""
        super().__init__(f"{provider} rejected{where}: {message}")
        self.provider = provider
        self.provider_message = message
        self.clip = clip


class ProviderUnavailable(RenderError):
    """The provider kept failing (5xx, timeouts, dropped connections) after all retries."""

    def __init__(self, provider: str, detail: str):
        super().__init__(f"{provider} is unavailable: {detail}", hint="try again later")
        self.provider = provider
        self.detail = detail


class DownloadIncomplete(RenderError):
    """The video file arrived cut short or is not a valid MP4, even after retries."""

    def __init__(self, provider: str, detail: str, clip: str | None = None):
        where = f" for clip {clip}" if clip else ""
        super().__init__(f"download from {provider}{where} is incomplete: {detail}")
        self.provider = provider
        self.detail = detail
        self.clip = clip


RUN_WIDE: tuple[type[RenderError], ...] = (MissingKey, KeyRefused)
"""Errors that make every other clip fail the same way: the scheduler stops the run."""

KEY_ENV_VARS: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "FAL_KEY",
    "PRODIA_TOKEN",
    "AZURE_OPENAI_API_KEY",
)
"""Environment variables that hold provider keys (every renderer reads its key from one)."""


def known_secrets() -> list[str]:
    """The values of every provider key set in the environment, for `redact`.

    The scheduler passes whatever it writes (journal, report, messages) through
    `redact(text, known_secrets())` as a second line of defence behind the renderers.
    """
    return [value for name in KEY_ENV_VARS if (value := os.environ.get(name))]
