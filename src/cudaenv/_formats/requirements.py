"""The common shape of a ``Requires-Dist`` line, without packaging's requirement parser.

``name[extras] <specifiers>`` with no marker is most of what CUDA wheels declare
(``nvidia-cublas-cu12==12.4.5.8``, ``cuda-pathfinder==1.*,>=1.3.4``); checking those needs
only ``packaging.version`` (a few ms to import) instead of ``packaging.requirements`` (about
20 ms, most of a diagnosis).  Anything else — a marker, a URL, an unusual spelling — returns
``None`` and the caller asks packaging.  ``contains`` follows PEP 440's specifier rules with
pre-releases allowed, as ``SpecifierSet.contains(v, prereleases=True)``; a property test
compares the two on generated versions (tests/test_fuzz_parsers.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["Simple", "contains", "evaluate_marker", "simple_requirement"]

_SPEC = r"(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9_.!+*-]+)"
_SIMPLE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[A-Za-z0-9._,\s-]*)\])?\s*"
    rf"(?P<open>\(?)\s*(?P<specs>(?:{_SPEC}\s*(?:,\s*{_SPEC}\s*)*)?)\s*(?P<close>\)?)\s*"
    r"(?:;(?P<marker>.*))?$"
)
_ONE = re.compile(_SPEC)


class Simple(NamedTuple):
    name: str
    extras: tuple[str, ...]
    specifiers: tuple[tuple[str, str], ...]
    marker: Optional[str] = None

    def __str__(self) -> str:
        """Extras and specifiers sorted, as packaging writes a requirement."""
        extras = f"[{','.join(sorted(set(self.extras)))}]" if self.extras else ""
        return self.name + extras + ",".join(sorted({op + v for op, v in self.specifiers}))


def simple_requirement(text: str) -> Optional[Simple]:
    """The name, extras, ``(operator, version)`` pairs and marker text of a requirement
    without a URL; None for anything else."""
    found = _SIMPLE.match(text)
    if found is None or bool(found["open"]) != bool(found["close"]):
        return None
    extras = tuple(e.strip() for e in (found["extras"] or "").split(",") if e.strip())
    marker = found["marker"].strip() if found["marker"] is not None else None
    return Simple(found["name"], extras, tuple(_ONE.findall(found["specs"])), marker)


_CLAUSE = re.compile(
    r"""^(?:(?P<var>[a-z_]+)\s*(?P<op>==|!=|<=|>=|~=|<|>|not\s+in|in)\s*(?P<q>['"])(?P<lit>[^'"]*)(?P=q)"""
    r"""|(?P<q2>['"])(?P<lit2>[^'"]*)(?P=q2)\s*(?P<op2>==|!=|not\s+in|in)\s*(?P<var2>[a-z_]+))$"""
)
_VERSION_VARIABLES = frozenset({"python_version", "python_full_version", "implementation_version"})
_VERSION_LIKE = re.compile(r"^\s*v?[0-9]")


def evaluate_marker(marker: str, environment: Mapping[str, str]) -> Optional[bool]:
    """A PEP 508 marker of ``and``-joined comparisons (parenthesised groups of them too) in
    ``environment``; None for what it does not decide (``or``, unknown variables, ordering
    of non-version values), which is then packaging's to evaluate."""
    parts = _top_level_and(marker)
    if parts is None:
        return None
    verdicts = []
    for part in parts:
        inner = _unwrapped(part)
        if inner != part:
            verdicts.append(evaluate_marker(inner, environment))
        else:
            verdicts.append(_clause(part, environment))
    if None in verdicts:
        return None  # packaging evaluates every clause, and may refuse one: let it
    return all(verdicts)


def _unwrapped(text: str) -> str:
    """``text`` without parentheses around all of it."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _top_level_and(text[1:-1]) is not None:
        depth = 0
        for index, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and index < len(text) - 1:
                return text  # "(a) and (b)": the outer parentheses are two groups
        text = text[1:-1].strip()
    return text


def _top_level_and(text: str) -> Optional[list[str]]:
    """The ``and``-joined parts outside parentheses; None with a top-level ``or``, unbalanced
    parentheses or quotes."""
    parts, depth, start, quote = [], 0, 0, ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return None
        elif depth == 0 and re.match(r"\s(and|or)\s", text[index : index + 5]):
            if text[index + 1 : index + 3] == "or":
                return None
            parts.append(text[start:index])
            start = index + 4
        index += 1
    if depth or quote:
        return None
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _clause(text: str, environment: Mapping[str, str]) -> Optional[bool]:
    found = _CLAUSE.match(text.strip())
    if found is None:
        return None
    if found["var"] is not None:
        variable, op, literal, value_left = found["var"], found["op"], found["lit"], True
    else:
        variable, op, literal, value_left = found["var2"], found["op2"], found["lit2"], False
    if variable not in environment:
        return None
    value = environment[variable]
    op = " ".join(op.split())
    if variable == "extra":
        value, literal = _normal_extra(value), _normal_extra(literal)
    if op in ("in", "not in"):
        inside = value in literal if value_left else literal in value
        return inside if op == "in" else not inside
    if variable in _VERSION_VARIABLES:
        if not value_left:
            return None  # "3.8" < python_version: rare, and packaging's to judge
        try:
            return contains(((op, literal),), value)
        except ValueError:
            return None
    if _VERSION_LIKE.match(literal):
        return None  # packaging compares such a literal as a version specifier
    if op in ("==", "!="):
        return (value == literal) == (op == "==")
    return None


def _normal_extra(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def contains(specifiers: tuple[tuple[str, str], ...], candidate: str) -> bool:
    """Whether ``candidate`` satisfies every specifier; ``ValueError`` on an invalid version."""
    from packaging.version import Version  # noqa: PLC0415 - only when versions are compared

    have = Version(candidate)
    return all(_one(op, spec, have) for op, spec in specifiers)


def _one(op: str, spec: str, have: Version) -> bool:
    from packaging.version import Version  # noqa: PLC0415 - contains() imported it already

    if op == "===":
        raise ValueError("=== compares strings as packaging spells them: left to packaging")
    if spec.endswith(".*"):
        if op not in ("==", "!="):
            raise ValueError(f"{op}{spec}: a wildcard goes only with == and !=")
        prefix = Version(spec[:-2])
        if prefix.pre or prefix.post is not None or prefix.dev is not None or prefix.local:
            raise ValueError(f"{op}{spec}: an unusual prefix")  # left to packaging
        matches = _release_prefix(have, prefix)
        return matches if op == "==" else not matches
    wanted = Version(spec)
    public = Version(have.public)
    if op in ("==", "!="):
        equal = (have if wanted.local else public) == wanted
        return equal if op == "==" else not equal
    if wanted.local:
        raise ValueError(f"{op}{spec}: a local version goes only with == and !=")
    if op == ">=":
        return public >= wanted
    if op == "<=":
        return public <= wanted
    if op in ("<", ">"):
        # <V and >V leave out parts of V's own family (its pre-, post- and local releases);
        # packaging versions disagree on the details, so those cases are packaging's to judge
        family = have.epoch == wanted.epoch and _trimmed(have.release) == _trimmed(wanted.release)
        if family or have.local is not None:
            raise ValueError(f"{op}{spec} and {have}: left to packaging")
        return have < wanted if op == "<" else have > wanted
    release = wanted.release  # ~=V: >= V, and V without its last release part as a prefix
    if len(release) < 2:
        raise ValueError(f"~={spec}: needs at least two release parts")
    head = ".".join(str(part) for part in release[:-1])
    prefix = Version(f"{wanted.epoch}!{head}" if wanted.epoch else head)
    return public >= wanted and _release_prefix(have, prefix)


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _release_prefix(have: Version, prefix: Version) -> bool:
    """``have`` == ``prefix``.* : the same epoch, and its release starts with prefix's."""
    if have.epoch != prefix.epoch:
        return False
    wanted = prefix.release
    release = have.release + (0,) * max(0, len(wanted) - len(have.release))
    return bool(release[: len(wanted)] == wanted)
