"""The built-in tools and the call parser, without Qt: exact, bounded, and safe on hostile input.

Inputs are generated: random arithmetic trees checked against an independent evaluation,
random hostile expressions, random documents with planted passages, malformed call bodies.
"""

from __future__ import annotations

import json
import random
import string
import time
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from app.engine.conversation import Conversation, CountingModel, Turn
from app.engine.tools import calculator, doc_search
from app.engine.tools.calls import call_from_json, split_reply
from app.engine.tools.clock import now_text
from app.engine.tools.registry import (
    CALCULATOR,
    MAX_RESULT,
    SEARCH_DOCUMENT,
    ToolSettings,
    run_call,
)
from app.internlm2.chat_format import ToolCall
from app.internlm2.tokenizer import InternLM2Tokenizer

_OPS = ["+", "-", "*", "/", "//", "%"]


def _tree(rng: random.Random, depth: int) -> tuple[str, Fraction]:
    """A random expression and its value, computed here on Fractions (not by the calculator)."""
    if depth == 0 or rng.random() < 0.3:
        if rng.random() < 0.5:
            n = rng.randint(0, 10 ** rng.randint(1, 12))
            return str(n), Fraction(n)
        whole, frac = rng.randint(0, 999), rng.randint(0, 9999)
        return f"{whole}.{frac:04d}", Fraction(f"{whole}.{frac:04d}")
    op = rng.choice([*_OPS, "**", "neg"])
    if op == "neg":
        text, value = _tree(rng, depth - 1)
        return f"-({text})", -value
    if op == "**":
        text, value = _tree(rng, depth - 1)
        e = rng.randint(-3, 3)
        if value == 0 and e < 0:
            e = 2
        return f"({text})**{e}", value ** e
    (lt, lv), (rt, rv) = _tree(rng, depth - 1), _tree(rng, depth - 1)
    if op in ("/", "//", "%") and rv == 0:
        op = "+"
    value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else 0,
             "//": Fraction(lv // rv) if rv else 0, "%": lv % rv if rv else 0}[op]
    return f"({lt}) {op} ({rt})", Fraction(value)


def test_calculator_is_exact_on_generated_expressions() -> None:
    rng = random.Random(15)
    for _ in range(400):
        text, value = _tree(rng, 4)
        try:
            assert calculator.evaluate(text) == value, text
        except calculator.CalculatorError as exc:  # only the size bound may refuse
            assert "large" in str(exc), (text, exc)
    assert calculator.calculate("0.1 + 0.2") == "0.1 + 0.2 = 3/10 ≈ 0.3"
    assert calculator.calculate("2^10 × 3 ÷ 4") == "2^10 × 3 ÷ 4 = 768"
    assert calculator.format_value(Fraction(-1, 3)) == "-1/3 ≈ -0.333333333333333"


_HOSTILE_PIECES = ["__import__('os')", "open('/etc/passwd')", "().__class__", "lambda: 1", "[1, 2]",
                   "x", "1 if 1 else 2", "f'{1}'", "'a' * 9", "1 < 2", "1 and 2", "True", "1j", "a.b",
                   "(yield)", "1; 2", "exec('1')", "{}", "1 @ 2", "~1", "1 << 9999", "None"]


def test_calculator_refuses_everything_but_arithmetic_within_bounds() -> None:
    rng = random.Random(7)
    cases = list(_HOSTILE_PIECES)
    cases += [f"{rng.choice(['1 + ', '(2 * ', ''])}{piece}" for piece in _HOSTILE_PIECES]
    cases += ["".join(rng.choice(string.printable) for _ in range(rng.randint(1, 80))) for _ in range(300)]
    cases += ["9" * 5000, "(" * 400 + "1" + ")" * 400, "9**9**9**9", "10**10**6", "2**-99999", "1/0",
              "(2**20000)*(2**20000)", "1e999", "", "   ", "1" * 600]
    start = time.process_time()
    for text in cases:
        try:
            value = calculator.evaluate(text)
        except calculator.CalculatorError:
            continue
        assert isinstance(value, Fraction), text  # a random string may still be arithmetic
    assert time.process_time() - start < 10, "refusing hostile expressions must stay bounded"


def test_calculator_bounds_sizes() -> None:
    with pytest.raises(calculator.CalculatorError, match="exponent"):
        calculator.evaluate("2 ** 100000")
    with pytest.raises(calculator.CalculatorError, match="large"):
        calculator.evaluate("(10 ** 3000) * (10 ** 3000) * (10 ** 3000)")
    with pytest.raises(calculator.CalculatorError, match="division by zero"):
        calculator.evaluate("5 % (3 - 3)")


def test_clock_says_date_time_and_zone() -> None:
    moment = datetime(2026, 12, 1, 13, 5, 42, tzinfo=timezone(timedelta(hours=8)))
    text = now_text(moment)
    assert "time zone" in text and "(UTC" in text
    assert text.count(":") >= 3 and text[:4].isdigit()


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7))) for _ in range(n))


def test_document_search_finds_planted_passages_with_their_positions() -> None:
    rng = random.Random(3)
    for _ in range(30):
        parts = [_words(rng, rng.randint(50, 400)) for _ in range(4)]
        needle = "Zanzibar quokka"
        doc = f"{parts[0]} {needle} {parts[1]} 上海人工智能实验室 {parts[2]}"
        found = doc_search.search(doc, "quokka zanzibar")
        assert found, "the planted words are found"
        for p in found:
            assert doc[p.start:p.end] == p.text and p.end - p.start <= doc_search.PASSAGE_CHARS + 2 * doc_search.SNAP_CHARS
        assert any(needle in p.text for p in found)
        assert any("人工智能" in p.text for p in doc_search.search(doc, "人工智能"))
    with pytest.raises(doc_search.SearchError):
        doc_search.search("text", "!!! ?")
    assert "No document" in doc_search.search_text(None, "a.txt", "x y")
    assert "Nothing in a.txt" in doc_search.search_text("abc def", "a.txt", "zzz")


def _word_around(doc: str, at: int) -> int:
    """The length of the run of non-CJK letters and digits around position `at`."""
    left = at
    while left > 0 and doc[left - 1].isalnum() and not doc_search._CJK.match(doc[left - 1]):
        left -= 1
    right = at
    while right < len(doc) and doc[right].isalnum() and not doc_search._CJK.match(doc[right]):
        right += 1
    return right - left


def test_document_search_passages_start_and_end_between_words() -> None:
    rng = random.Random(17)
    seps = [" ", " ", " ", ", ", ". ", "\n", " - ", "; "]
    snap = doc_search.SNAP_CHARS
    checked = 0
    for _ in range(60):
        pieces = []
        for _ in range(rng.randint(200, 1500)):
            roll = rng.random()
            if roll < 0.02:
                word = "".join(rng.choice("xyzw") for _ in range(rng.randint(snap + 1, 3 * snap)))  # too long to keep whole
            elif roll < 0.05:
                word = "".join(rng.choice("上海人工智能实验室书生") for _ in range(rng.randint(2, 12)))
            else:
                word = "".join(rng.choice("abcdefghijklmnopqrstuv") for _ in range(rng.randint(1, 12)))
            pieces.append(word + rng.choice(seps))
        doc = "".join(pieces)
        query = " ".join(rng.choice(pieces).split()[0].strip(",.;-") or "ab" for _ in range(3))
        found = doc_search.search(doc, query)
        terms = doc_search.query_terms(query)
        for i, p in enumerate(found):
            assert doc[p.start:p.end] == p.text
            assert 0 < p.end - p.start <= doc_search.PASSAGE_CHARS + 2 * snap
            assert i == 0 or found[i - 1].end <= p.start  # in order, never overlapping
            assert any(t in p.text.lower() for t in terms), (query, p.text)
            for edge in (p.start, p.end):
                if doc_search._inside_word(doc, edge):  # only inside a word too long to keep whole
                    assert _word_around(doc, edge) > snap, (edge, doc[max(0, edge - 20):edge + 20])
                else:
                    checked += 1
    assert checked > 100


def test_document_search_is_bounded_on_a_large_document() -> None:
    doc = ("ab " * 2_000_000) + "needle"
    start = time.process_time()
    text = doc_search.search_text(doc, "big.txt", "ab " * 500 + " needle")
    assert time.process_time() - start < 10, "a search of 6 M characters must stay bounded"
    assert len(text) < MAX_RESULT + 200 and text.count("[characters") <= doc_search.MAX_PASSAGES


def test_run_call_turns_bad_arguments_into_a_sentence() -> None:
    hostile = [{"expression": 5}, {"expression": None}, {}, {"expression": ["1"]}, {"expression": "1+"},
               {"expression": "x" * 10_000}]
    for params in hostile:
        result = run_call(ToolCall("plugin", CALCULATOR, params, ""))
        assert isinstance(result.text, str) and len(result.text) <= MAX_RESULT + 100
    assert run_call(ToolCall("plugin", CALCULATOR, {"expression": 5}, "")).text == "5 = 5"
    assert run_call(ToolCall("plugin", "rm_rf", {}, "")).ran is False
    found = run_call(ToolCall("plugin", SEARCH_DOCUMENT, {"query": "cat"}, ""), document="a cat sat",
                     document_name="pets.txt")
    assert "[characters 0-9]" in found.text and "pets.txt" in found.text


def test_tool_settings_read_hostile_json() -> None:
    for value in [None, 1, "x", [], {"enabled": "calculator"}, {"enabled": [1, None, "rm"]},
                  {"enabled": ["calculator"], "always": ["calculator", "search_document"]}]:
        settings = ToolSettings.from_json(value)
        assert settings.always <= settings.enabled <= {"calculator", "current_date_time", "search_document"}
    s = ToolSettings().switched(CALCULATOR, True).allowed_always(CALCULATOR).allowed_always(SEARCH_DOCUMENT)
    assert s.to_json() == {"enabled": ["calculator"], "always": ["calculator"]}
    assert s.switched(CALCULATOR, False).to_json() == {"enabled": [], "always": []}
    assert ToolSettings().specs() is None


def test_split_reply_on_generated_malformed_bodies() -> None:
    rng = random.Random(5)
    good = split_reply('Sure.<|action_start|><|plugin|>\n{"name": "calculator", "parameters": {"expression": "1+1"}}'
                       '<|action_end|>')
    assert good.text == "Sure." and good.call is not None and good.call.name == "calculator"
    body = '{"name": "calculator", "parameters": {"expression": "1+1"}}'
    for _ in range(200):
        cut = body[:rng.randint(0, len(body) - 1)] + "".join(rng.choice('{}[]",:') for _ in range(3))
        parsed = split_reply(f"x<|action_start|><|plugin|>\n{cut}<|action_end|>")
        assert parsed.call is None or parsed.call.name  # never a crash; a call needs a name
        if parsed.call is None:
            assert parsed.malformed
    assert split_reply("no call here").text == "no call here"
    assert call_from_json({"name": "", "parameters": {}}) is None and call_from_json("x") is None
    assert call_from_json({"name": "calculator", "parameters": {"a": 1}}) is not None


def test_tool_turns_enter_the_prompt_in_order(tiny_model: Path) -> None:
    tok = InternLM2Tokenizer.from_folder(tiny_model)
    tools = ToolSettings.from_json({"enabled": ["calculator"]}).specs()
    call = ToolCall("plugin", CALCULATOR, {"expression": "1+1"},
                    json.dumps({"name": CALCULATOR, "parameters": {"expression": "1+1"}}))
    convo = Conversation(CountingModel(tok), system="S", tools=tools)
    turns = [Turn("user", "Q"), Turn("assistant", "A", call=call), Turn("environment", "1+1 = 2"),
             Turn("assistant", "Two."), Turn("user", "Next?")]
    built = convo.build(turns)
    text = tok.decode(list(built.request.prompt_ids), skip_special=False)
    assert text.index("system name=<|plugin|>") < text.index("<|im_start|>user\nQ")
    assert ("A<|action_start|><|plugin|>\n" + call.raw + "<|action_end|><|im_end|>\n"
            "<|im_start|>environment name=<|plugin|>\n1+1 = 2<|im_end|>\n") in text
    assert text.endswith("<|im_start|>user\nNext?<|im_end|>\n<|im_start|>assistant\n")
    assert len(built.pair_tokens) == 1  # the call, its result and the answer are one pair
    resumed = convo.build(turns[:3])  # after a result the assistant continues
    assert tok.decode(list(resumed.request.prompt_ids), skip_special=False).endswith(
        "1+1 = 2<|im_end|>\n<|im_start|>assistant\n")
    convo.turns = turns
    convo.drop_oldest_turns(1)
    assert [t.role for t in convo.turns] == ["user"]


def test_an_import_refuses_a_hostile_tool_field() -> None:
    from app.storage.errors import ImportFormatError
    from app.storage.export import FORMAT_NAME, FORMAT_VERSION, parse_archive

    def archive(tool: object) -> str:
        message = {"role": "environment", "text": "r", "created": "2026-01-01T00:00:00Z", "tool": tool}
        return json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                           "conversation": {"created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"},
                           "messages": [message]})

    ok = parse_archive(archive({"name": "calculator", "outcome": "ran"}))
    assert json.loads(ok.messages[0]["tool"]) == {"name": "calculator", "outcome": "ran"}
    for hostile in ([1, 2], "x", {"big": "y" * 300_000}):
        with pytest.raises(ImportFormatError):
            parse_archive(archive(hostile))
    with pytest.raises(ImportFormatError):
        parse_archive(archive({"n": 1}).replace('{"n": 1}', '{"n": NaN}'))


def _spell(rng: random.Random, digits: str) -> str:
    """The same digits as a person might type them: ASCII, full-width, Arabic-Indic or Devanagari."""
    zero = rng.choice([ord("0"), 0xFF10, 0x0660, 0x0966])
    return "".join(chr(zero + int(d)) for d in digits)


def test_calculator_reads_decimals_percentages_and_unicode_digits_exactly() -> None:
    rng = random.Random(151)
    for _ in range(300):
        whole, frac = str(rng.randint(0, 10 ** 6)), "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
        exact = Fraction(f"{whole}.{frac}")  # more digits than a float holds: read from the digits
        assert calculator.evaluate(f"{whole}.{frac}") == exact, (whole, frac)
        e = rng.randint(-3000, 3000)
        assert calculator.evaluate(f"{whole}.{frac}e{e}") == exact * Fraction(10) ** e
        a, b = rng.randint(0, 10 ** 5), rng.randint(1, 10 ** 5)
        assert calculator.evaluate(f"{a} * {b}%") == Fraction(a * b, 100)
        assert calculator.evaluate(f"({a}% + {b}%)") == Fraction(a + b, 100)
        assert calculator.evaluate(f"{a} % {b}") == a % b  # with an operand after it: the remainder
        spelled = f"{_spell(rng, str(a))} + {_spell(rng, str(b))}"
        assert calculator.evaluate(spelled) == a + b, spelled
        n = rng.randint(0, 9)
        assert calculator.evaluate(f"{b}{'⁰¹²³⁴⁵⁶⁷⁸⁹'[n]}") == b ** n
    assert calculator.calculate("1e-999").endswith("≈ 1.000000e-999")  # not 0
    assert calculator.calculate("200 * 15 %") == "200 * 15 % = 30"
    assert calculator.calculate("１２３＋４") == "１２３＋４ = 127"
    with pytest.raises(calculator.CalculatorError, match="exponent"):
        calculator.evaluate("1e-99999999")  # refused before 10**99999999 is computed
    for text in ("1/0", "5 // (2 - 2)", "0 ** -1", "7 % 0", "1 / 0%"):
        with pytest.raises(calculator.CalculatorError, match="division by zero"):
            calculator.evaluate(text)


def test_a_large_result_is_a_number_or_a_sentence_never_pythons_error() -> None:
    # Every result the bounds let through can be printed (Python refuses over 4,300 digits).
    for exponent in range(3850, 4400, 7):
        result = run_call(ToolCall("plugin", CALCULATOR, {"expression": f"10 ** {exponent}"}, ""))
        assert result.text.startswith(f"10 ** {exponent} = 1000") or "too large" in result.text, result.text
        assert "int_max_str_digits" not in result.text and "limit" not in result.text


def test_a_call_nested_too_deeply_is_text_never_a_crash() -> None:
    for depth in (1, 31, 33, 2_000, 200_000):
        for opener, closer in (("[", "]"), ('{"a":', "}")):
            body = '{"name": "calculator", "parameters": {"x": ' + opener * depth + "1" + closer * depth + "}}"
            parsed = split_reply(f"Hi<|action_start|><|plugin|>\n{body}<|action_end|>")
            if depth < 31:
                assert parsed.call is not None and parsed.call.name == "calculator"
            elif depth > 32:
                assert parsed.call is None and parsed.malformed and parsed.text.startswith("Hi")


def test_a_result_is_cut_to_the_room_the_context_has_left(tiny_model: Path) -> None:
    from app.engine.tools.registry import ToolResult, fit_to_context

    tok = InternLM2Tokenizer.from_folder(tiny_model)
    rng = random.Random(16)
    call = ToolCall("plugin", SEARCH_DOCUMENT, {"query": "x"}, '{"name": "search_document"}')
    turns = [Turn("user", "Q"), Turn("assistant", "", call=call)]
    for _ in range(20):
        alphabet = rng.choice([string.ascii_letters + " ", "上海人工智能实验室书生浦语", "😀🚀é中"])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, MAX_RESULT)))
        convo = Conversation(CountingModel(tok), system="S", turns=turns)
        n_ctx = rng.randint(400, 3000)
        fitted = fit_to_context(ToolResult(SEARCH_DOCUMENT, text, True), convo, n_ctx)
        built = convo.build([*turns, Turn("environment", fitted.text)])
        empty = convo.build([*turns, Turn("environment", "")])
        if empty.needed + 40 <= n_ctx:  # room for at least the note: the answer can go on
            assert built.fits(n_ctx), (n_ctx, len(text))
        if fitted.text != text:
            kept = fitted.text.rsplit("\n[…", 1)[0] if "\n[…" in fitted.text else ""
            assert text.startswith(kept) and fitted.text.endswith("the model's context is full]")


def test_the_markdown_export_shows_a_call_and_its_result_never_the_markup(tmp_path: Path) -> None:
    from app.engine.tools.calls import call_to_json
    from app.storage import ConversationStore, MessageState, Role

    params = {"expression": "(17+5)*3/4", "note": "上海 😀"}
    call = ToolCall("plugin", CALCULATOR, params, json.dumps({"name": CALCULATOR, "parameters": params}))
    with ConversationStore(tmp_path / "chat.sqlite3") as store:
        cid = store.conversations.create(title="Tools").id
        store.messages.add(cid, Role.USER, "Compute?")
        reply = store.messages.add(cid, Role.ASSISTANT, "", state=MessageState.STREAMING)
        assert store.messages.finish(reply, "Let me compute.", tool={"call": call_to_json(call)})
        store.messages.add(cid, Role.ENVIRONMENT, "(17+5)*3/4 = 33/2 ≈ 16.5",
                           tool={"name": CALCULATOR, "outcome": "ran"})
        text = store.export_markdown(cid)
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == {"name": CALCULATOR, "parameters": params}
    assert "## Tool output\n\n(17+5)*3/4 = 33/2 ≈ 16.5" in text and "<|" not in text
