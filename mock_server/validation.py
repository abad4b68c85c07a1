"""The request body of `POST /v1/images/generate`, checked before any payment is asked for."""

from __future__ import annotations

from dataclasses import dataclass

from x402_core import strictjson

MODELS = ("nano-banana-2", "nano-banana-pro", "seedream-4.6", "seedream-4.0")
RESOLUTIONS = ("1K", "2K", "4K")
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
FIELDS = ("model", "prompt", "resolution", "aspect_ratio")


class InvalidRequestError(ValueError):
    """A body the endpoint refuses; `field` names the culprit (None: the body as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    model: str
    prompt: str
    resolution: str = "1K"
    aspect_ratio: str = "1:1"

    def as_dict(self) -> dict[str, str]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "resolution": self.resolution,
            "aspect_ratio": self.aspect_ratio,
        }


def parse_generate_request(body: bytes, max_prompt_chars: int) -> GenerateRequest:
    """The validated request; InvalidRequestError says which field is wrong and what it must be."""
    try:
        data = strictjson.loads(body)
    except strictjson.JsonError as exc:
        raise InvalidRequestError(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequestError("the body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidRequestError(
            f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}", unknown[0]
        )
    model = _choice(data, "model", MODELS, default=None)
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt is required: a non-empty string", "prompt")
    if len(prompt) > max_prompt_chars:
        raise InvalidRequestError(
            f"prompt is {len(prompt)} characters; at most {max_prompt_chars}", "prompt"
        )
    return GenerateRequest(
        model=model,
        prompt=prompt,
        resolution=_choice(data, "resolution", RESOLUTIONS, default="1K"),
        aspect_ratio=_choice(data, "aspect_ratio", ASPECT_RATIOS, default="1:1"),
    )


def _choice(data: dict, field: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = data.get(field, default)
    if value is None:
        raise InvalidRequestError(f"{field} is required: one of {', '.join(allowed)}", field)
    if value not in allowed:
        raise InvalidRequestError(
            f"{field} is {value!r}; expected one of {', '.join(allowed)}", field
        )
    return value
