"""`x402-harness up --json`: one JSON object on the first line for scripts, then it keeps
running until SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from x402_core.wallets import payer_wallets
from x402_service.serving import free_port

HARNESS = str(Path(sys.executable).with_name("x402-harness"))


def test_up_json_prints_where_everything_is_and_keeps_running() -> None:
    facilitator_port = free_port()
    up = subprocess.Popen(
        [HARNESS, "up", "--json"],
        env={**os.environ, "X402H_FACILITATOR_PORT": str(facilitator_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert up.stdout is not None
        first = json.loads(up.stdout.readline())
        assert first["facilitator"] == f"http://127.0.0.1:{facilitator_port}"
        assert first["endpoint"].startswith("http://127.0.0.1:")
        assert first["endpoint"].endswith("/v1/images/generate")
        assert first["admin"] == first["endpoint"].removesuffix("/v1/images/generate") + "/__mock__"
        assert first["inspector"] == first["admin"] + "/"
        assert (first["chain"], first["chainId"], first["rpcUrl"]) == ("ledger", 8453, None)
        assert first["token"] == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
        assert first["payTo"] == "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3"
        assert first["wallets"] == [
            {"index": w.index, "address": w.address, "privateKey": w.private_key_hex}
            for w in payer_wallets()
        ]
        offer = httpx.post(first["endpoint"], json={"model": "nano-banana-2", "prompt": "a fox"})
        assert offer.status_code == 402
        assert httpx.get(first["facilitator"] + "/supported").status_code == 200
        assert up.poll() is None
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=30)
    assert up.returncode == 0, err
    assert "stopping" in out
