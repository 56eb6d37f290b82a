"""The stored conversation as the engine's Conversation (Qt-free): the window's one way to a prompt.

`conversation_for(model, chat, messages, document)` turns the rows of the store into
`app.engine.conversation.Conversation` (system prompt, document, the path of turns with each
reply's exact ids, sampling); the window then calls its `build()` on a helper thread, exactly
as `ask` does on its own thread. The oldest pairs the user chose to leave out are left out
here, so the fit check and the reply see the same turns. Tool turns come too: a reply with
its call (`Message.tool["call"]`), the tool's result as an `environment` turn, and the
conversation's enabled tools as the `<|plugin|>` system turn. With the document search on,
the document is not in the prompt whole: the tool's description names it and the model
searches it (so a document that does not fit the context can still be asked about).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.engine.conversation import Conversation, ModelLike, Turn, drop_pairs
from app.engine.tools.calls import call_from_json
from app.engine.tools.registry import ToolSettings
from app.internlm2.chat_format import Sampling
from app.storage import Document, Message, MessageState, Role
from app.storage import models as storage_models


def turns_from(messages: Sequence[Message]) -> list[Turn]:
    """The turns that go into a prompt: questions, replies (with their stored ids and calls) and
    tools' results; an empty reply that did not complete is left out."""
    turns: list[Turn] = []
    for msg in messages:
        if msg.role is Role.USER:
            turns.append(Turn("user", msg.text, key=msg.id))
        elif msg.role is Role.ASSISTANT:
            if not msg.text and msg.state is not MessageState.COMPLETE:
                continue
            call = call_from_json((msg.tool or {}).get("call"))
            turns.append(Turn("assistant", msg.text, msg.token_ids, msg.token_vocab, key=msg.id, call=call))
        elif msg.role is Role.ENVIRONMENT:
            turns.append(Turn("environment", msg.text, key=msg.id))
    return turns


def conversation_for(model: ModelLike, chat: storage_models.Conversation, messages: Sequence[Message],
                     document: Document | None, sampling: Sampling) -> Conversation:
    """The engine's conversation for a stored one (`messages`: the path before the question)."""
    turns = drop_pairs(turns_from(messages), max(0, chat.drop_turns))
    tools = ToolSettings.from_json(chat.tools)
    whole = document if document is not None and tools.sends_document_whole else None
    return Conversation(model, system=chat.system_prompt, document=whole.text if whole else None,
                        document_name=whole.name if whole else None, turns=turns, sampling=sampling,
                        tools=tools.specs(*((document.name, len(document.text)) if document else ())))
