"""What the NVIDIA container runtime checks before it starts a container: the image's
``NVIDIA_REQUIRE_*`` constraints against the host's driver and GPUs.

Modelled on libnvidia-container (``src/cli/dsl.c`` ``dsl_evaluate``, ``src/cli/configure.c``)
and nvidia-container-toolkit (``internal/config/image/cuda_image.go`` ``GetRequirements``):

* each ``NVIDIA_REQUIRE_*`` variable (but ``NVIDIA_REQUIRE_JETPACK``) is one requirement, and
  every requirement must hold; an image that sets ``CUDA_VERSION`` and no
  ``NVIDIA_REQUIRE_CUDA`` (a "legacy" image) requires ``cuda>=MAJOR.MINOR`` of it;
* inside a requirement, spaces separate alternatives (any one suffices) and commas separate
  the terms of an alternative (all must hold);
* keys: ``cuda`` (the driver's CUDA version, as NVML reports it), ``driver`` (its version),
  ``arch`` (a GPU's compute capability), ``brand`` (a GPU's NVML brand, compared without
  case); ``arch`` and ``brand`` are checked on every visible GPU, and hold where none is;
* versions compare component by component, missing components counting as 0;
* ``NVIDIA_DISABLE_REQUIRE`` set to a Go true value (``1``, ``t``, ``true`` ...) skips it all.

The files on disk do not say a GPU's NVML brand for sure (a GeForce RTX board may report
``GeForce`` or ``GeForceRTX``, by driver): a term that is true for some readings and false for
others is unknown, and a requirement is only called refused when every alternative is false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal, Optional

from .drivers import parse_version

__all__ = [
    "GpuFacts",
    "Verdict",
    "brands_of_model",
    "disables_require",
    "evaluate",
    "requirements",
]

Verdict = Literal["satisfied", "refused", "unknown"]
GpuFacts = tuple[Optional[str], frozenset[str]]
"""One GPU: its compute capability and the NVML brands it may report (lower case)."""

_TERM = re.compile(r"^([A-Za-z]+)(>=|<=|!=|=|<|>)(.+)$")
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})

# NVML brand names (libnvidia-container's src/driver.c), by what the board's model says.
_BRANDS: tuple[tuple[str, frozenset[str]], ...] = (
    (r"TITAN RTX", frozenset({"titan", "titanrtx"})),
    (r"TITAN", frozenset({"titan"})),
    (r"GeForce RTX", frozenset({"geforce", "geforcertx"})),
    (r"GeForce", frozenset({"geforce"})),
    (r"Quadro RTX", frozenset({"quadro", "quadrortx"})),
    (r"Quadro", frozenset({"quadro"})),
    (r"^(NVIDIA )?RTX", frozenset({"quadro", "nvidiartx", "nvidia"})),
    (r"Tesla", frozenset({"tesla"})),
    (r"\b[ABHLT]\d{1,3}\b|GH200|GB200|B200", frozenset({"tesla", "nvidia"})),
)


def brands_of_model(model: Optional[str]) -> frozenset[str]:
    """The NVML brands a board of this model may report; empty when unknown."""
    if model:
        for pattern, brands in _BRANDS:
            if re.search(pattern, model, re.IGNORECASE):
                return brands
    return frozenset()


def disables_require(value: Optional[str]) -> bool:
    """Whether ``NVIDIA_DISABLE_REQUIRE`` turns the checks off (Go's ``strconv.ParseBool``)."""
    return value is not None and value.strip() in _GO_TRUE


def requirements(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every requirement the runtime checks, as (variable, constraint)."""
    found = [
        (name, value)
        for name, value in sorted(environ.items())
        if name.startswith("NVIDIA_REQUIRE_") and name != "NVIDIA_REQUIRE_JETPACK"
    ]
    legacy = environ.get("CUDA_VERSION")
    if legacy and "NVIDIA_REQUIRE_CUDA" not in environ:
        match = re.match(r"v?(\d+)\.(\d+)", legacy.strip())
        if match:
            found.append(("CUDA_VERSION", f"cuda>={match.group(1)}.{match.group(2)}"))
    return found


def _compare(left: str, op: str, right: str) -> Optional[bool]:
    a, b = parse_version(left), parse_version(right)
    if not a or not b:
        return None  # not a version: the runtime fails on it; the files cannot say more
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return {
        "=": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def _term(
    term: str, cuda: Optional[str], driver: Optional[str], gpu: Optional[GpuFacts]
) -> Optional[bool]:
    match = _TERM.match(term)
    if match is None:
        return False  # the runtime rejects an invalid expression: the container fails
    key, op, value = match.group(1).lower(), match.group(2), match.group(3)
    if key in ("cuda", "driver"):
        have = cuda if key == "cuda" else driver
        return _compare(have, op, value) if have else None
    if key not in ("arch", "brand"):
        return False
    if gpu is None:
        return True  # no visible GPU: device terms hold
    capability, brands = gpu
    if key == "arch":
        return _compare(capability, op, value) if capability else None
    if op not in ("=", "!="):
        return False
    if not brands:
        return None
    answers = {(b == value.lower()) == (op == "=") for b in brands}
    return answers.pop() if len(answers) == 1 else None


def _alternative(
    terms: Sequence[str], cuda: Optional[str], driver: Optional[str], gpu: Optional[GpuFacts]
) -> Optional[bool]:
    result: Optional[bool] = True
    for term in terms:
        value = _term(term, cuda, driver, gpu)
        if value is False:
            return False
        if value is None:
            result = None
    return result


def evaluate(
    constraint: str, *, cuda: Optional[str], driver: Optional[str], gpus: Sequence[GpuFacts]
) -> Verdict:
    """Whether the runtime lets a container with this one requirement start."""
    alternatives = [[t for t in alt.split(",") if t] for alt in constraint.split(" ") if alt]
    if not alternatives:
        return "satisfied"
    verdicts: list[Optional[bool]] = []
    candidates: list[Optional[GpuFacts]] = [*gpus] if gpus else [None]
    for gpu in candidates:
        answers = [_alternative(terms, cuda, driver, gpu) for terms in alternatives]
        if any(a is True for a in answers):
            verdicts.append(True)
        elif all(a is False for a in answers):
            verdicts.append(False)
        else:
            verdicts.append(None)
    if all(v is True for v in verdicts):
        return "satisfied"
    if any(v is False for v in verdicts):
        return "refused"
    return "unknown"
