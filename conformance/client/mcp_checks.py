"""The client checks of the MCP transport (transports-v2__mcp.md), read from the tool calls an MCP
client made; not applicable to a client run over HTTP."""

from __future__ import annotations

from conformance.catalog import (
    Verdict,
    catalog,
    error,
    failed,
    not_applicable,
    passed,
    spec_must,
    spec_should,
)
from conformance.client.mcp_calls import ToolCall
from conformance.client.session import ClientSession
from x402_core.tools import PAYMENT_META, payment_in_meta, tool_name_of_path

MCP = "transports-v2__mcp.md"
MCP_ONLY = frozenset({"CLI-053", "CLI-054"})
"""Checks graded only when the client is run over MCP."""


def _paid_tool_calls(session: ClientSession) -> list[ToolCall] | Verdict:
    """The MCP client's calls of the paid tool, in order, or why there is nothing to judge."""
    calls = [
        call
        for run in session.runs.values()
        for call in run.tool_calls
        if call.name == tool_name_of_path(run.endpoint_path)
    ]
    if calls:
        return calls
    if not session.made_requests:
        return error("the client made no request in any scenario: nothing to judge")
    return not_applicable("the client made no MCP call of the paid tool (an HTTP client)")


@catalog.check(
    "CLI-053",
    'the paid call carries its payment as a PaymentPayload object in _meta["x402/payment"] '
    "(not as text, not in the arguments)",
    spec_must(MCP + " Payment Payload Transmission"),
)
def payment_in_meta_object(session: ClientSession) -> Verdict:
    calls = _paid_tool_calls(session)
    if not isinstance(calls, list):
        return calls
    carrying = [
        c
        for c in calls
        if PAYMENT_META in c.meta or (isinstance(c.arguments, dict) and PAYMENT_META in c.arguments)
    ]
    if not carrying:
        return not_applicable("the client never sent a payment")
    for call in carrying:
        if isinstance(call.arguments, dict) and PAYMENT_META in call.arguments:
            return failed("the payment was sent in the arguments", sent=call.arguments)
        try:
            payment_in_meta(call.meta)
        except ValueError as exc:
            return failed(str(exc), sent=call.meta)
    return passed(f"{len(carrying)} paid call(s)")


@catalog.check(
    "CLI-054",
    "the paid call repeats the tool call that was answered with PaymentRequired (same arguments)",
    spec_should(MCP + " Payment Flow Overview, steps 1 and 4"),
)
def retries_the_same_call(session: ClientSession) -> Verdict:
    calls = _paid_tool_calls(session)
    if not isinstance(calls, list):
        return calls
    last_unpaid = None
    judged = 0
    for call in calls:
        if PAYMENT_META not in call.meta:
            last_unpaid = call
            continue
        if last_unpaid is None:
            continue
        judged += 1
        if call.arguments != last_unpaid.arguments:
            return failed(
                "the paid call's arguments differ from the call it answers",
                sent={"unpaid": last_unpaid.arguments, "paid": call.arguments},
            )
    if not judged:
        return not_applicable("no unpaid-then-paid pair of calls")
    return passed(f"{judged} paid call(s), each repeating its call")
