"""Pure checks of a job's images: where they are, what a PNG answer must be, their file names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from x402_payer.errors import DownloadError, ProtocolError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_MEDIA_TYPE = "image/png"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def job_id_of(job: dict[str, Any]) -> str:
    """The job's id, checked safe to put in a file name (no separators, no leading dot)."""
    job_id = job.get("id")
    if not isinstance(job_id, str) or not _SAFE_ID.fullmatch(job_id):
        raise ProtocolError(
            f"job id {job_id!r} is not usable; expected 1-128 characters of letters, digits, "
            "'.', '_' or '-', not starting with '.'"
        )
    return job_id


def image_urls(job: dict[str, Any], status_url: str | None) -> list[str]:
    """Absolute URLs of the job's `images[].url`; relative ones resolve against `status_url`."""
    images = job.get("images")
    if not isinstance(images, list) or not images:
        raise ProtocolError(
            f"job {job.get('id')!r} lists no images; expected a non-empty `images` list "
            "in a completed job"
        )
    urls = []
    for index, image in enumerate(images):
        raw = image.get("url") if isinstance(image, dict) else None
        if not isinstance(raw, str) or not raw:
            raise ProtocolError(f"images[{index}] has no `url`; expected a string URL")
        try:
            url = httpx.URL(raw)
            if not url.is_absolute_url:
                if status_url is None:
                    raise ProtocolError(
                        f"images[{index}].url {raw!r} is relative and no status URL is known "
                        "to resolve it against; expected an absolute URL or a status_url"
                    )
                url = httpx.URL(status_url).join(raw)
        except httpx.InvalidURL as exc:
            raise ProtocolError(f"images[{index}].url {raw!r} is not a URL: {exc}") from exc
        if url.scheme not in ("http", "https"):
            raise ProtocolError(f"images[{index}].url {raw!r} is not http(s); expected http(s)")
        urls.append(str(url))
    return urls


def png_of(response: httpx.Response) -> bytes:
    """The PNG bytes of an image answer; DownloadError unless it is a 2xx image/png with a PNG."""
    url = str(response.request.url)
    if not response.is_success:
        raise DownloadError(
            f"GET {url} answered HTTP {response.status_code}; expected 200 with a PNG", url=url
        )
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type != PNG_MEDIA_TYPE:
        raise DownloadError(
            f"GET {url} answered Content-Type {media_type or 'none'!r}; expected {PNG_MEDIA_TYPE}",
            url=url,
        )
    if not response.content.startswith(PNG_SIGNATURE):
        raise DownloadError(
            f"GET {url} answered {len(response.content)} bytes starting "
            f"{response.content[:8]!r}; expected the PNG signature {PNG_SIGNATURE!r}",
            url=url,
        )
    return response.content


def image_path(dest_dir: Path, job_id: str, number: int) -> Path:
    """`<dest_dir>/<job id>-<number>.png`; images are numbered from 1 in the job's order."""
    return dest_dir / f"{job_id}-{number}.png"
