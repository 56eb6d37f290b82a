"""Needle in a haystack: hide one sentence in a long filler text and ask the model for it.

`build_haystack(chars, depth, needle)` makes a document of exactly `chars` characters from
plain filler paragraphs with the needle sentence placed at `depth` percent (at a sentence
boundary). `run_needle(backend, ...)` asks for the passphrase once per (length, depth): each
haystack is read through the same path as any document (Conversation + PrefixReader, so the
prompt is the one the app builds), then the question, greedy, with a short answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from app.engine.backend import Backend
from app.engine.conversation import Conversation
from app.engine.read_ahead import PrefixReader
from app.engine.types import Event, Finished
from app.internlm2.chat_format import Sampling

NEEDLE_QUESTION = "What is the secret passphrase mentioned in the document? Answer with the passphrase only."
ANSWER_TOKENS = 24
_WORDS = ("amber", "basalt", "cobalt", "dahlia", "ember", "fjord", "garnet", "harbor", "indigo",
          "juniper", "kestrel", "lantern", "meadow", "nimbus", "orchid", "pebble", "quartz",
          "raven", "saffron", "thistle", "umber", "velvet", "willow", "zephyr")
_FILLER = (
    "The river bends twice before it reaches the old mill, and the path beside it is lined with "
    "willows that were planted a century ago. ",
    "Farmers in the valley grow barley and beans, and on market days the square fills with carts "
    "from the surrounding villages. ",
    "In winter the lake freezes from the edges inward, and children test the ice with long poles "
    "before anyone walks on it. ",
    "The library keeps its maps in wide flat drawers, each labelled by hand with the year the survey "
    "was made. ",
    "A good bridge is designed for the heaviest load it will ever carry, not for the traffic of an "
    "ordinary day. ",
    "Clockmakers learn patience first: a single gear cut too deep can stop the whole movement. ",
    "Every spring the swallows return to the barn, rebuilding the same nests under the same beams. ",
    "The committee met on Tuesdays, read the minutes aloud, and rarely finished before the lamps "
    "were lit. ",
)


def needle_sentence(word: str) -> str:
    return f"The secret passphrase is {word}. "


def random_word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def build_haystack(chars: int, depth: float, needle: str, seed: int = 0) -> str:
    """Filler of exactly `chars` characters with `needle` at `depth` percent (0 start, 100 end)."""
    if chars < len(needle) + 1:
        raise ValueError(f"a haystack of {chars} characters cannot hold the needle")
    rng = random.Random(seed)
    room = chars - len(needle)
    parts: list[str] = []
    size = 0
    while size < room:
        sentence = rng.choice(_FILLER)
        parts.append(sentence)
        size += len(sentence)
    filler = "".join(parts)[:room]
    at = int(room * max(0.0, min(100.0, depth)) / 100)
    boundary = filler.rfind(". ", 0, at)  # after a whole sentence (or at the start)
    at = 0 if boundary < 0 or at == 0 else boundary + 2
    if depth >= 100:
        at = room
    return filler[:at] + needle + filler[at:]


@dataclass(frozen=True)
class NeedleCell:
    """One (length, depth) result."""

    chars: int
    depth: float
    word: str
    found: bool
    answer: str
    prompt_tokens: int
    document_tokens: int
    cached_tokens: int


def needle_found(word: str, answer: str) -> bool:
    return word.lower() in answer.lower()


def run_needle(backend: Backend, lengths: Sequence[int], depths: Sequence[float], *, seed: int = 0,
               on_event: Callable[[int, float, Event], None] | None = None) -> Iterator[NeedleCell]:
    """Ask for the needle once per (length, depth); yields each result as it is known."""
    rng = random.Random(seed)
    sampling = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=ANSWER_TOKENS)
    for chars in lengths:
        for depth in depths:
            word = random_word(rng)
            text = build_haystack(chars, depth, needle_sentence(word), seed=rng.randrange(1 << 30))
            convo = Conversation(backend, document=text, document_name="haystack.txt")
            for event in PrefixReader(backend, convo).run():
                if on_event:
                    on_event(chars, depth, event)
            done: Finished | None = None
            for event in backend.generate(convo.ask(NEEDLE_QUESTION, sampling)):
                if isinstance(event, Finished):
                    done = event
            assert done is not None
            yield NeedleCell(chars, depth, word, needle_found(word, done.text), done.text.strip(),
                             done.stats.prompt_tokens, convo.document_tokens(), done.stats.cached_tokens)
