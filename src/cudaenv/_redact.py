"""Redaction: what a shared report or snapshot must not carry.

Two kinds, applied to a JSON tree (every string in it):

* secrets — always, in every format, unless ``--no-redact``: credentials in URLs
  (``https://user:token@host``), conda's ``/t/<token>/`` channel URLs, ``token=`` query
  values, and the values of variables whose names say they are secrets (``*_TOKEN``,
  ``*_KEY``, ``*_SECRET``, ``*PASSWORD*`` ...), wherever they appear (as keys, or as
  ``NAME=value`` in evidence);
* identity — by default in Markdown reports and snapshots: the home directory becomes ``~``,
  the user name ``<user>``, the host name ``<host>``.

A redacted snapshot still diagnoses: :func:`unredact_paths` turns ``~`` back into an absolute
placeholder (``/~``) for the checks, and :func:`redact_text` turns it into ``~`` again in
what they say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

from ._records import record
from .findings import Finding, Report
from .snapshot import Snapshot

__all__ = [
    "Redaction",
    "identity_rules",
    "redact_report",
    "redact_text",
    "redact_tree",
    "rules_for",
    "secret_literals",
    "secret_name",
    "unredact_paths",
]

REDACTED = "<redacted>"
HOME_MARK = "~"
HOME_PLACEHOLDER = "/~"
_SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|_KEY$|^KEY$|"
    r"_AUTH|AUTH_|SESSION)",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'\"]+@")
_CONDA_TOKEN = re.compile(r"(/t/)[A-Za-z0-9][A-Za-z0-9._-]{5,}(?=/)")
_QUERY_TOKEN = re.compile(
    r"([?&](?:token|access_token|api_key|apikey|key|password|secret)=)[^&\s'\"]+", re.IGNORECASE
)
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=([^\s'\"]+)")
_USER_KEYS = frozenset({"USER", "LOGNAME", "USERNAME"})
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""Keys that are environment variable names (record fields are lower case)."""


def secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


@record
class Redaction:
    """What to replace: ``home``, ``user``, ``host`` (None: keep them); secrets always."""

    home: Optional[str] = None
    user: Optional[str] = None
    host: Optional[str] = None
    secrets: bool = True
    literals: tuple[str, ...] = ()
    """Secrets found in whole variable values (see :func:`secret_literals`), redacted
    wherever a piece of them turns up: a value split on ``:`` no longer looks like a URL."""

    @property
    def identity(self) -> bool:
        return bool(self.home or self.user or self.host)

    def kinds(self) -> tuple[str, ...]:
        kinds = ("secrets",) if self.secrets else ()
        return kinds + tuple(
            k for k, v in (("home", self.home), ("user", self.user), ("host", self.host)) if v
        )


def _secrets(text: str) -> str:
    text = _URL_USERINFO.sub(r"\g<1>***@", text)
    text = _CONDA_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = _QUERY_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    return _ASSIGNMENT.sub(
        lambda m: f"{m.group(1)}={REDACTED}" if secret_name(m.group(1)) else m.group(0), text
    )


_SHORT_SECRET = 4
"""Shorter secrets are redacted only where they stand before an ``@`` (``pw@host``):
replacing two letters everywhere would garble the report."""


def secret_literals(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The secrets in the environment's values, each value taken whole before any splitting:
    URL passwords (``https://user:pw@host``) and the values of secret-named variables."""
    found: set[str] = set()
    for name, value in environ.items():
        if secret_name(name) and len(value) >= _SHORT_SECRET:
            found.add(value)
        for match in _URL_USERINFO.finditer(value):
            userinfo = match.group(0)[len(match.group(1)) : -1]
            _, colon, password = userinfo.partition(":")
            found.add(password if colon else userinfo)
    return tuple(sorted((f for f in found if f), key=len, reverse=True))


def _literal_secrets(text: str, literals: tuple[str, ...]) -> str:
    for literal in literals:
        if literal in text:
            pattern = re.escape(literal) + ("" if len(literal) >= _SHORT_SECRET else "(?=@)")
            text = re.sub(pattern, REDACTED, text)
    return text


def redact_text(text: str, rules: Redaction) -> str:
    if rules.secrets:
        text = _literal_secrets(_secrets(text), rules.literals)
    if rules.home and rules.home not in ("/", ""):
        home = re.escape(rules.home.rstrip("/"))
        text = re.sub(rf"{home}(?=/|$|[:\s'\",)\]])", HOME_MARK, text)
    if HOME_PLACEHOLDER in text:
        text = re.sub(rf"{re.escape(HOME_PLACEHOLDER)}(?=/|$|[:\s'\",)\]])", HOME_MARK, text)
    if rules.user and len(rules.user) > 1:  # as a path component: /data/ana/envs
        user = re.escape(rules.user)
        text = re.sub(rf"(?<=/){user}(?=/|$|[:\s'\",)\]])", "<user>", text)
    if rules.host and len(rules.host) > 1:
        text = re.sub(rf"(?<![\w.-]){re.escape(rules.host)}(?![\w-])", "<host>", text)
    return text


def redact_tree(value: Any, rules: Redaction, key: Optional[str] = None) -> Any:  # noqa: ANN401
    """A copy of a JSON tree with every string redacted, and secret-named values replaced."""
    if isinstance(value, dict):
        return {redact_text(str(k), rules): redact_tree(v, rules, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v, rules, key) for v in value]
    if isinstance(value, str):
        if rules.secrets and key is not None and _VARIABLE.match(key) and secret_name(key):
            return REDACTED if value else value
        if rules.user and key in _USER_KEYS and value == rules.user:
            return "<user>"
        if rules.host and key == "hostname" and value:
            return "<host>"
        return redact_text(value, rules)
    return value


_HOME_TOKEN = re.compile(r"(?<![\w./~-])~(?=/|$|[:\s'\",)\]])")


def unredact_paths(value: Any) -> Any:  # noqa: ANN401
    """``~`` (a redacted home) → ``/~``: an absolute path again, for the checks."""
    if isinstance(value, dict):
        return {unredact_paths(k): unredact_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unredact_paths(v) for v in value]
    if isinstance(value, str) and "~" in value:
        return _HOME_TOKEN.sub(HOME_PLACEHOLDER, value)
    return value


def rules_for(snapshot: Snapshot, *, identity: bool, secrets: bool = True) -> Redaction:
    """The redaction of one machine's identity (its home, user and host) and secrets."""
    if not identity:
        return Redaction(secrets=secrets, literals=secret_literals(snapshot.environ))
    return identity_rules(snapshot.home, snapshot.environ, snapshot.hostname, secrets=secrets)


def identity_rules(
    home: Optional[str],
    environ: Mapping[str, str],
    hostname: Optional[str],
    *,
    secrets: bool = True,
) -> Redaction:
    """Redact this home, user and host name (and, with ``secrets``, credentials)."""
    home = home or environ.get("HOME")
    user = environ.get("USER") or environ.get("LOGNAME")
    if user is None and home and home.startswith("/home/"):
        user = home.rstrip("/").rsplit("/", 1)[-1]
    return Redaction(
        home=home if home and home != "/" else None,
        user=user if user and user != "root" else None,
        host=hostname,
        secrets=secrets,
        literals=secret_literals(environ),
    )


def redact_report(report: Report, rules: Redaction, *, facts: bool = True) -> Report:
    """The report with its findings (and, with ``facts``, its snapshot) redacted."""
    from ._serial import from_json, to_json  # noqa: PLC0415

    findings = tuple(from_json(Finding, redact_tree(to_json(f), rules)) for f in report.findings)
    snapshot = report.snapshot
    if facts:
        data = redact_tree(snapshot.to_dict(), rules)
        data["redacted"] = list(rules.kinds())
        snapshot = Snapshot.from_dict(data)
    return Report(snapshot, findings)
