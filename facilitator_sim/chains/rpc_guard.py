"""The facilitator signs only for a node on this machine, unless told otherwise.

The URL is judged strictly (`x402_core.loopback`) and also read by urllib3's parser, the one
requests (under web3's HTTPProvider) connects with, so what is judged is what is connected to.
"""

from __future__ import annotations

from urllib3.util import parse_url

from x402_core.loopback import HostReader, url_refusal

READERS: dict[str, HostReader] = {"urllib3": lambda url: parse_url(url).host}


class RemoteRpcRefusedError(ValueError):
    """An RPC URL refused before any connection: ambiguous, or off this machine."""


def check_rpc_url(url: str, *, allow_remote_rpc: bool = False) -> None:
    """Refuse an ambiguous or (unless allowed) non-loopback RPC URL, from the URL alone."""
    refusal = url_refusal(url, allow_remote=allow_remote_rpc, seen_by=READERS)
    if refusal is None:
        return
    raise RemoteRpcRefusedError(
        f"refusing RPC URL {url!r}: {refusal}. The facilitator sends transactions signed with "
        "publicly known test keys and rewrites chain state (anvil_setCode, anvil_dealERC20), "
        "which only makes sense on a local test node. If you really mean a remote node, write "
        "its URL plainly and pass --allow-remote-rpc (allow_remote_rpc=True)."
    )
