"""The calculator tool: exact arithmetic on an expression, parsed by the app (never evaluated as code).

The expression is parsed with `ast` in "eval" mode only to get a tree; the tree is then
walked here, and any node that is not a number, a parenthesised group, + - * / // % ** or a
sign is refused. Numbers are exact fractions (0.1 + 0.2 is 3/10), so the result is exact.
Bounds keep a hostile expression cheap: its length, the depth of the tree, the exponent, and
the size of every intermediate number (below Python's 4,300-digit limit for printing one).
Written as people and models write it: a decimal is read from its digits (never through a
float, so 1e-999 is not 0), `15%` is a percentage (15/100; `7 % 3` with an operand after it
is the remainder), full-width digits and other scripts' digits are digits, `2³` is a power.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction

MAX_EXPRESSION = 500  # characters
MAX_DEPTH = 60  # nested operations
MAX_BITS = 13_000  # of any numerator or denominator (about 3,900 digits: Python prints up to 4,300)
MAX_EXPONENT = 10_000
MAX_DECIMAL_EXPONENT = 4_000  # of a literal such as 1e-400
_DECIMALS = 15  # digits after the point in the decimal form of a fraction


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or too large to compute."""


_SIGNS = str.maketrans({"×": "*", "÷": "/", "−": "-", "^": "**", "·": "*", "∙": "*"})
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_POWER = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
# A percentage: a number, then % and nothing more or a closing parenthesis, or a number directly
# followed by % and an operator (`7 % 3` and `7%3` stay the remainder).
_NUMBER = r"((?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)"
_PERCENT = re.compile(_NUMBER + r"(?:\s*%(?=\s*(?:$|\)))|%(?=\s*[*/+\-]))")
_EXPONENT = re.compile(r"[eE]([+-]?\d+)$")


def _normalise(expression: str) -> str:
    """The expression in ASCII arithmetic: superscripts as powers, full-width forms (NFKC) and
    any script's decimal digits as 0-9, the usual signs as operators, percentages as /100."""
    text = _POWER.sub(lambda m: "**" + m.group().translate(_SUPERSCRIPTS), expression)
    text = unicodedata.normalize("NFKC", text).translate(_SIGNS)
    text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch
                   for ch in text)
    return _PERCENT.sub(r"(\1/100)", text).strip()


def _decimal(source: str | None) -> Fraction:
    """A decimal literal's exact value, read from its digits."""
    if source is None:
        raise CalculatorError("the expression is not arithmetic")
    exponent = _EXPONENT.search(source)
    if exponent and abs(int(exponent.group(1))) > MAX_DECIMAL_EXPONENT:
        raise CalculatorError(f"a number's exponent is over {MAX_DECIMAL_EXPONENT:,}")
    return Fraction(source.replace("_", ""))


def _check(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise CalculatorError("the numbers get too large (over 3,900 digits)")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise CalculatorError("only whole-number exponents are exact")
    n = exponent.numerator
    if abs(n) > MAX_EXPONENT:
        raise CalculatorError(f"the exponent is over {MAX_EXPONENT:,}")
    if base == 0 and n < 0:
        raise CalculatorError("division by zero")
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    if bits * abs(n) > MAX_BITS:
        raise CalculatorError("the result gets too large (over 3,900 digits)")
    return base ** n


def _eval(node: ast.AST, depth: int, text: str) -> Fraction:
    if depth > MAX_DEPTH:
        raise CalculatorError("the expression is nested too deeply")
    if isinstance(node, ast.Expression):
        return _eval(node.body, depth + 1, text)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CalculatorError("only numbers are allowed")
        if isinstance(value, int):
            return _check(Fraction(value))
        return _check(_decimal(ast.get_source_segment(text, node)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        inner = _eval(node.operand, depth + 1, text)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, depth + 1, text), _eval(node.right, depth + 1, text)
        op = node.op
        if isinstance(op, ast.Add):
            return _check(left + right)
        if isinstance(op, ast.Sub):
            return _check(left - right)
        if isinstance(op, ast.Mult):
            return _check(left * right)
        if isinstance(op, ast.Pow):
            return _check(_power(left, right))
        if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)):
            if right == 0:
                raise CalculatorError("division by zero")
            if isinstance(op, ast.Div):
                return _check(left / right)
            return _check(Fraction(left // right) if isinstance(op, ast.FloorDiv) else left % right)
    raise CalculatorError("only numbers, parentheses and + - * / // % ** are allowed")


def _literal_digits(text: str) -> None:
    """Python's int() refuses literals over 4,300 digits with its own error: say it as ours."""
    run = 0
    for ch in text:
        run = run + 1 if ch.isdigit() else 0
        if run > 1000:
            raise CalculatorError("a number in the expression has over 1,000 digits")


def evaluate(expression: str) -> Fraction:
    """The exact value of an arithmetic expression; CalculatorError says what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("the expression is empty")
    if len(expression) > MAX_EXPRESSION:
        raise CalculatorError(f"the expression is over {MAX_EXPRESSION} characters")
    text = _normalise(expression)
    _literal_digits(text)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise CalculatorError("the expression is not arithmetic") from None
    return _eval(tree, 0, text)


def format_value(value: Fraction) -> str:
    """An integer as itself; a fraction as `p/q ≈ decimal`."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    size = abs(value)
    digits = str(size.numerator * 10 ** _DECIMALS // size.denominator).rjust(_DECIMALS + 1, "0")
    decimal = f"{sign}{digits[:-_DECIMALS]}.{digits[-_DECIMALS:]}".rstrip("0").rstrip(".")
    if decimal.lstrip("-") == "0":  # too small for fixed decimals: in powers of ten
        with localcontext() as context:
            context.prec = _DECIMALS
            decimal = f"{Decimal(value.numerator) / Decimal(value.denominator):.6e}"
    return f"{value.numerator}/{value.denominator} ≈ {decimal}"


def calculate(expression: str) -> str:
    """The tool's answer: `expression = value`."""
    return f"{expression.strip()} = {format_value(evaluate(expression))}"
