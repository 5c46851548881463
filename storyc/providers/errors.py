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


class BadKey(RenderError):
    """The key cannot be one: a line break, a blank or a non-ASCII character inside it
    (usually a bad copy). Said up front, naming the variable and the flaw, never the value."""

    def __init__(self, provider: str, env_var: str, problem: str):
        super().__init__(
            f"The {provider} API key in {env_var} has {problem} inside it, "
            "so it cannot be a key; nothing was sent.",
            hint=f"set {env_var} to the key alone, copied again from the provider's dashboard",
        )
        self.provider = provider
        self.env_var = env_var
        self.problem = problem


def read_key(provider: str, env_var: str, given: str | None = None) -> str:
    """The key passed in, else the one in `env_var`: stripped of the blanks a copy adds at
    its ends, then refused (`MissingKey`, `BadKey`) unless it can be sent in an HTTP header.
    Checked here because httpx would otherwise fail deep inside the first request."""
    key = (given if given is not None else os.environ.get(env_var, "")).strip()
    if not key:
        raise MissingKey(provider, env_var)
    problem = _key_problem(key)
    if problem is not None:
        raise BadKey(provider, env_var, problem)
    return key


def _key_problem(key: str) -> str | None:
    """What makes `key` unusable, as a phrase that does not repeat any of it."""
    if any(c in "\r\n" for c in key):
        return "a line break"
    if any(c.isspace() for c in key):
        return "a space or another blank"
    if not key.isascii():
        return "a non-ASCII character"
    if not key.isprintable():
        return "a control character"
    return None


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


class CreateUncertain(RenderError):
    """A paid create request left and its answer never came (timeout, hang-up, 5xx, junk).

    The provider may have taken the job, so the request is not sent again: the scheduler
    records the clip as uncertain and looks for the job instead.
    """

    def __init__(self, provider: str, detail: str):
        super().__init__(
            f"{provider} did not answer the request that creates the job ({detail}); "
            "it may have been created and paid for, so it was not sent again",
            hint="run again to look for it; --resubmit pays again on purpose",
        )
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


RUN_WIDE: tuple[type[RenderError], ...] = (MissingKey, BadKey, KeyRefused)
"""Errors that make every other clip fail the same way: the scheduler stops the run."""

KEY_ENV_VARS: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "FAL_KEY",
    "PRODIA_TOKEN",
    "AZURE_OPENAI_API_KEY",
    "RUNWAYML_API_SECRET",
)
"""Environment variables that hold provider keys (every renderer reads its key from one)."""


def known_secrets() -> list[str]:
    """The values of every provider key set in the environment, for `redact`.

    The scheduler passes whatever it writes (journal, report, messages) through
    `redact(text, known_secrets())` as a second line of defence behind the renderers.
    """
    return [value for name in KEY_ENV_VARS if (value := os.environ.get(name))]
