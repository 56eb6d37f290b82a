"""Function calling in the window: a reply's tool call -> permission -> the tool -> its result -> the reply goes on.

Owned by the ChatController (which owns the app's one activity), as the DocumentController is.
When a reply ends with a call (`Message.tool["call"]`, parsed from its ids by
app/engine/tools/calls.py):

- a tool the conversation does not offer runs nothing: its result says so;
- an offered tool runs only once the user allowed it: "Allow once", "Always for this
  conversation" (stored in `conversations.tools`) or "Deny" (its result says the user did not
  allow it). The question is the view's, as links with the view's token (chat_view.py);
- the result is stored as an `environment` turn (cut, saying so, to the room the context has
  left) and the assistant continues after it;
- at most MAX_TOOL_ROUNDS calls run for one question; a further one is left unanswered.

Which call waits for the user is read from the store (`pending`): the last message of the
conversation, a complete reply with a call and no result after it. So it holds after a restart,
and a new question simply leaves the call unanswered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.engine.tools.calls import call_from_json, call_to_json, split_reply
from app.engine.tools.registry import (
    MAX_RESULT,
    MAX_TOOL_ROUNDS,
    ToolResult,
    ToolSettings,
    denied,
    fit_to_context,
    not_offered,
    run_call,
)
from app.internlm2.chat_format import ToolCall
from app.internlm2.tokenizer import ACTION_END, ACTION_START, INTERPRETER
from app.storage import Message, MessageState, Role
from app.ui.chat.prompting import conversation_for

if TYPE_CHECKING:
    from app.ui.chat.chat_controller import ChatController

ALLOW_ONCE, ALLOW_ALWAYS, DENY = "once", "always", "deny"
DECISIONS = (ALLOW_ONCE, ALLOW_ALWAYS, DENY)
TOOL_KEYS = (("Alt+Y", ALLOW_ONCE), ("Alt+A", ALLOW_ALWAYS), ("Alt+N", DENY))  # the window's shortcuts


def stored_call(msg: Message) -> ToolCall | None:
    """The call a stored reply ends with (None for any other message)."""
    if msg.role is not Role.ASSISTANT or msg.state is not MessageState.COMPLETE or not msg.tool:
        return None
    return call_from_json(msg.tool.get("call"))


def rounds_used(messages: Sequence[Message]) -> int:
    """Tool results since the last question: the calls this answer has made."""
    used = 0
    for msg in reversed(messages):
        if msg.role is Role.USER:
            break
        used += msg.role is Role.ENVIRONMENT
    return used


class ToolController(QObject):
    """Decides what a reply's call does; `permissionNeeded(cid, message_id)` asks the user."""

    permissionNeeded = Signal(int, int)  # conversation id, the reply's message id
    resultAdded = Signal(int, int)  # conversation id, the environment turn's message id
    settingsChanged = Signal(int)  # conversation id whose tools changed

    def __init__(self, chat: ChatController) -> None:
        super().__init__(chat)
        self.chat = chat

    # -- settings --------------------------------------------------------------------------
    def settings(self, cid: int) -> ToolSettings:
        if not cid:
            return ToolSettings()
        return ToolSettings.from_json(self.chat.store.conversations.get(cid).tools)

    def switch(self, cid: int, name: str, on: bool) -> None:
        """The side panel's switch: the next prompt describes (or no longer describes) the tool."""
        if cid and self.chat.writable():
            new = self.settings(cid).switched(name, on)
            self.chat.store.conversations.update(cid, tools=new.to_json())
            self.settingsChanged.emit(cid)

    # -- a call ------------------------------------------------------------------------------
    def pending(self, cid: int, path: list[Message] | None = None) -> int:
        """The reply whose call waits for the user's answer (0: none). `path`: the current
        path when the caller has just read it (a long tree is not read again)."""
        if not cid:
            return 0
        messages = self.chat.store.messages.list_for(cid) if path is None else path
        last = messages[-1] if messages else None
        if last is None or (call := stored_call(last)) is None:
            return 0
        if call.name not in self.settings(cid).enabled or rounds_used(messages) >= MAX_TOOL_ROUNDS:
            return 0
        return last.id

    def reply_ended(self, cid: int, message_id: int) -> None:
        """A reply was stored: if it ends with a call, answer it, run it, or ask first."""
        msg = self.chat.store.messages.get(message_id)
        call = stored_call(msg)
        if call is None:
            return
        messages = self.chat.store.messages.list_for(cid)
        if rounds_used(messages) >= MAX_TOOL_ROUNDS:
            self.chat.notice.emit(self.tr("This answer has already made %1 tool calls: the next one was "
                                          "not run. Ask again to go on.").replace("%1", str(MAX_TOOL_ROUNDS)))
            return
        tools = self.settings(cid)
        if call.name not in tools.enabled:
            self._answer(cid, not_offered(call), "unavailable")
        elif call.name in tools.always:
            self._run(cid, call)
        else:
            self.permissionNeeded.emit(cid, message_id)

    def decide(self, message_id: int, decision: str) -> bool:
        """The user's answer to a waiting call; False when that call no longer waits."""
        if decision not in DECISIONS:
            return False
        cid = self.chat.conversation_id
        if not cid or self.pending(cid) != message_id:
            return False
        if not self.chat.activity.can_send:
            self.chat.notice.emit(self.tr("Wait for the current reply to end, then answer the tool call."))
            return False
        call = stored_call(self.chat.store.messages.get(message_id))
        if call is None or not self.chat.writable():
            return False
        if decision == DENY:
            self._answer(cid, denied(call), "denied")
            return True
        if decision == ALLOW_ALWAYS:
            allowed = self.settings(cid).allowed_always(call.name)
            self.chat.store.conversations.update(cid, tools=allowed.to_json())
            self.settingsChanged.emit(cid)
        self._run(cid, call)
        return True

    def _run(self, cid: int, call: ToolCall) -> None:
        """Run the tool off the GUI thread (a search of a long document takes a moment)."""
        document = self.chat.documents.document(cid)
        text = document.text if document else None
        name = document.name if document else ""
        model = self.chat.model
        convo = None if model is None else conversation_for(
            model, self.chat.store.conversations.get(cid), self.chat.store.messages.list_for(cid), document,
            replace(self.chat.sampling()))

        def work() -> ToolResult:
            result = run_call(call, document=text, document_name=name)
            # Cut to the context's room (said in the result), so the answer can go on after it.
            return result if convo is None or model is None else fit_to_context(result, convo, model.n_ctx)

        def done(result: object) -> None:
            assert isinstance(result, ToolResult)
            self._answer(cid, result, "ran" if result.ran else "unavailable")

        self.chat.run_tool(cid, work, done)

    def _answer(self, cid: int, result: ToolResult, outcome: str) -> None:
        """Store the result as the environment turn, then let the assistant continue."""
        tool: dict[str, Any] = {"name": result.name, "outcome": outcome}
        env_id = self.chat.store.messages.add(cid, Role.ENVIRONMENT, result.text, tool=tool)
        self.resultAdded.emit(cid, env_id)
        self.chat.continue_reply(cid)


def reply_tool(tokenizer: Any, token_ids: Sequence[int],
               ended_by_stop: bool = False) -> tuple[str, dict[str, Any], list[int]] | None:
    """A finished reply that holds call markup: its text to store, its `tool` field (the call, or
    the markup of a call that could not be read, shown as text) and its ids. A reply stopped by
    `<|action_end|>` (`ended_by_stop`: a stop token ended it inside a call) gets that token back
    in its ids, as the model wrote it. None: no markup."""
    by_name = tokenizer.special.by_name
    start, end = by_name.get(ACTION_START, -1), by_name.get(ACTION_END, -1)
    if start < 0 or start not in token_ids:
        return None
    ids = list(token_ids)
    last_start = len(ids) - 1 - ids[::-1].index(start)
    if ended_by_stop and end >= 0 and end not in ids[last_start:]:
        ids.append(end)
    parsed = split_reply(tokenizer.decode(ids, skip_special=False))
    if parsed.call is not None:
        return parsed.text, {"call": call_to_json(parsed.call)}, ids
    tool: dict[str, Any] = {"malformed": parsed.malformed[:MAX_RESULT]}
    if by_name.get(INTERPRETER, -1) in ids[last_start:]:
        tool["interpreter"] = True  # the code interpreter is not offered (docs/security.md)
    return parsed.text, tool, ids
