"""Reading request bodies the way a provider's server would: JSON or multipart/form-data."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def parse_form(content_type: str, body: bytes) -> list[FormPart]:
    """The parts of a multipart/form-data body (stdlib `email`, not the client's parser)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    parts: list[FormPart] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise ValueError("a form part without a name")
        payload = part.get_payload(decode=True)
        parts.append(
            FormPart(
                name=name,
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


def is_multipart(content_type: str) -> bool:
    return content_type.lower().startswith("multipart/form-data")
