"""Image endpoints for keyframes, as the fake serves them: real PNG files of the asked size.

- fal: app `fal-ai/flux-1/dev` on the queue (`prompt`, `image_size` {width, height} or an enum
  name, `num_images`, `output_format`, `seed`, ...), result `{"images": [{url, width, height,
  content_type}], "seed"}`;
- Runway: `POST /v1/text_to_image` with `gen4_image` (`model`, `promptText`, `ratio`, `seed`,
  `referenceImages`), then the task's `output` is `[png URL]`;
- OpenAI: `POST /v1/images/generations` (`model`, `prompt`, `n`, `size`, `quality`,
  `output_format`, ...) answers at once `{"created", "data": [{"b64_json"}]}`.
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .server import Request, Response

if TYPE_CHECKING:
    from .server import FakeProvider

FLUX_APP = "fal-ai/flux-1/dev"
FLUX_FIELDS: dict[str, Any] = {
    "prompt": str,
    "image_size": "image_size",
    "num_inference_steps": int,
    "seed": int,
    "guidance_scale": float,
    "num_images": int,
    "enable_safety_checker": bool,
    "output_format": ("jpeg", "png"),
}
FLUX_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
RUNWAY_RATIOS = (
    "1024:1024",
    "1080:1080",
    "1168:880",
    "1360:768",
    "1440:1080",
    "1080:1440",
    "1808:768",
    "1920:1080",
    "1080:1920",
    "2112:912",
    "1280:720",
    "720:1280",
    "720:720",
    "960:720",
    "720:960",
    "1680:720",
)
"""runwayml 5.24.0 `Gen4Image.ratio`."""
OPENAI_FIELDS = {
    "model": ("gpt-image-1.5", "gpt-image-2", "gpt-image-1-mini"),
    "prompt": str,
    "n": int,
    "size": ("auto", "1024x1024", "1536x1024", "1024x1536"),
    "quality": ("low", "medium", "high", "auto"),
    "output_format": ("png", "jpeg", "webp"),
    "background": ("transparent", "opaque", "auto"),
    "moderation": ("low", "auto"),
}


RUNWAY_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,15}")
"""runwayml 5.24.0 `Gen4ImageReferenceImage.tag`: 3-16 letters, digits and `_`, a letter first."""


def runway_references_problem(value: Any, stored: Callable[[Any], bool]) -> str | None:
    """What is wrong with `gen4_image`'s `referenceImages` (up to three `{uri, tag?}`, each
    URI a file uploaded here), or None."""
    if not isinstance(value, list) or not 1 <= len(value) <= 3:
        return "must list 1 to 3 images"
    for item in value:
        if not isinstance(item, dict) or "uri" not in item or set(item) - {"uri", "tag"}:
            return "must be objects {uri, tag} of uploaded images"
        if not stored(item["uri"]):
            return "must be objects {uri, tag} of uploaded images"
        tag = item.get("tag")
        if tag is not None and not (isinstance(tag, str) and RUNWAY_TAG.fullmatch(tag)):
            return "tags must be 3-16 letters, digits or underscores, starting with a letter"
    return None


def png_bytes(width: int, height: int, prompt: str = "") -> bytes:
    from PIL import Image

    shade = sum(prompt.encode()) % 200
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40 + shade // 4, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def flux_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, str):
        return FLUX_SIZES.get(value)
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        w, h = value["width"], value["height"]
        if isinstance(w, int) and isinstance(h, int) and 0 < w <= 14142 and 0 < h <= 14142:
            return (w, h)
    return None


def fal_result(fake: FakeProvider, job: Any) -> Response:
    name = f"{job.id}/image.png"
    data = png_bytes(job.width, job.height, job.prompt)
    with fake.lock:
        fake.files[name] = (data, "image/png")
    return Response.json(
        {
            "images": [
                {
                    "url": f"{fake.media_root}/files/{name}",
                    "width": job.width,
                    "height": job.height,
                    "content_type": "image/png",
                }
            ],
            "seed": job.extra["input"].get("seed", 42),
            "has_nsfw_concepts": [False],
            "prompt": job.prompt,
        }
    )


def runway_output(fake: FakeProvider, job: Any) -> str:
    name = f"runway/{job.id}.png"
    with fake.lock:
        if name not in fake.files:
            fake.files[name] = (png_bytes(job.width, job.height, job.prompt), "image/png")
    return f"{fake.other_origin}/runway-media/{job.id}.png?_jwt=signed"


def openai_generate(fake: FakeProvider, request: Request) -> Response:
    from .openai import error

    try:
        body = request.json()
    except ValueError:
        return error("Invalid JSON body", 400)
    if not isinstance(body, dict) or "prompt" not in body:
        return error("Missing required parameter: 'prompt'.", 400, param="prompt")
    for name, value in body.items():
        rule = OPENAI_FIELDS.get(name)
        if rule is None:
            return error(f"Unknown parameter: '{name}'.", 400, param=name)
        if rule is str and not isinstance(value, str):
            return error(f"Invalid type for '{name}'.", 400, param=name)
        if rule is int and not (isinstance(value, int) and value == 1):
            return error(f"Invalid value for '{name}': the fake makes one image.", 400, param=name)
        if isinstance(rule, tuple) and value not in rule:
            return error(
                f"Invalid value: '{value}'. Supported values are: {rule}.", 400, param=name
            )
    prompt = body["prompt"]
    if fake.faults.reject_marker in prompt:
        return error(fake.faults.moderation_message, 400, code="moderation_blocked")
    size = body.get("size", "1024x1024")
    width, height = (int(n) for n in (size if size != "auto" else "1024x1024").split("x"))
    fake.new_job("openai", prompt, width, height, 0, image=True)
    data = base64.b64encode(png_bytes(width, height, prompt)).decode()
    return Response.json(
        {
            "created": int(time.time()),
            "data": [{"b64_json": data}],
            "size": size,
            "quality": body.get("quality", "auto"),
            "output_format": body.get("output_format", "png"),
            "usage": {"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106},
        }
    )
