"""``kit.stack.faults``: set the running stack's fault rules from Python.

    with kit.stack.faults.add({"match": {"service": "storage", "method": "GET"},
                               "when": {"in_flight_at_least": 4},
                               "effect": {"html_page": "cloudflare-520"}}) as active:
        ...                                   # the rules are removed when the block ends
    kit.stack.faults.clear()

The stack runs in its own process, so this talks to its admin route (``/_kit/faults``)
with the service_role key from ``kit.stack.status()``. Rules are checked here first,
so a bad rule fails with one line before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, final

import httpx

from kit.errors import StackNotRunning
from kit.faults.errors import FaultAdminError, FaultRuleError
from kit.faults.rules import FaultRule, RuleLike, RulesLike, parse_rules
from kit.targets import Target


@final
class ActiveFaults:
    """Rules added by one ``add`` call; a context manager that removes them on exit."""

    def __init__(self, client: FaultsClient, rules: list[FaultRule]) -> None:
        self.client = client
        self.rules = rules

    @property
    def ids(self) -> list[str]:
        return [rule.id for rule in self.rules]

    def remove(self) -> list[str]:
        """Remove these rules from the stack (rules already gone are skipped)."""
        return self.client.remove(*self.ids)

    def __enter__(self) -> ActiveFaults:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<ActiveFaults {', '.join(self.ids) or '(none)'}>"


class FaultsClient:
    """The fault rules of a running stack: ``FaultsClient(target)``, or the default stack."""

    def __init__(self, target: Target | None = None, *, data_dir: str | os.PathLike[str] | None = None,
                 timeout: float = 10.0) -> None:
        self._target = target
        self._data_dir = data_dir
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def _http(self, url: str) -> httpx.Client:
        # one client, kept: building one loads the CA bundle (~0.1 s), which plain http never uses
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, verify=url.startswith("https://"))
        return self._client

    def _resolve(self) -> Target:
        if self._target is not None:
            return self._target
        from kit.stack.process import status

        return status(self._data_dir)

    def _call(self, method: str, path: str, body: Any = None, *, missing: Any = None) -> Any:
        target = self._resolve()
        if not target.is_embedded or not target.service_role_key:  # never send a key elsewhere
            raise FaultAdminError(f"{target!r} is not the kit's embedded stack",
                                  fix="fault rules are set on the embedded stack; for other targets "
                                      "use client-side rules: kit.clients(target, faults=[...])")
        try:
            response = self._http(target.url).request(method, f"{target.url}/_kit/faults{path}", json=body,
                                             headers={"apikey": target.service_role_key})
        except httpx.HTTPError as exc:
            raise StackNotRunning(f"the stack at {target.url} did not answer ({type(exc).__name__})",
                                  fix="start it with `python -m kit stack up`") from exc
        payload = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else {}
        if response.status_code == 400:
            raise FaultRuleError(payload.get("message", "rule refused"), fix=payload.get("hint", ""))
        if response.status_code == 404 and missing is not None:
            return missing
        if response.is_error:
            raise FaultAdminError(f"the fault admin route answered {response.status_code}: "
                                  f"{payload.get('message', response.reason_phrase)}",
                                  fix="this route needs the stack's own service_role key")
        return payload

    def add(self, *rules: RulesLike) -> ActiveFaults:
        """Set rules on the stack (all or none); returns a handle that can remove them.

        >>> kit.stack.faults.add({"effect": {"json_status": 503}}).ids   # doctest: +SKIP
        ['json_status-0b8f1e']
        """
        flat: list[RuleLike] = []
        for group in rules:
            flat.extend([group] if isinstance(group, (FaultRule, Mapping)) else group)
        parsed = parse_rules(flat)
        self._call("POST", "", [rule.to_dict() for rule in parsed])
        return ActiveFaults(self, parsed)

    def remove(self, *ids: str) -> list[str]:
        """Remove rules by id; returns the ids that were set."""
        removed: list[str] = []
        for rule_id in ids:
            removed += self._call("DELETE", f"/{rule_id}", missing={"removed": []})["removed"]
        return removed

    def clear(self) -> list[str]:
        """Remove every rule; returns their ids."""
        return list(self._call("DELETE", "")["removed"])

    def rules(self) -> list[FaultRule]:
        """The rules set now, in the order they are tried."""
        return [FaultRule.from_dict(data) for data in self._call("GET", "")["rules"]]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per rule id: ``{"matched": n, "fired": k}``."""
        return dict(self._call("GET", "")["counts"])

    def log(self) -> list[dict[str, Any]]:
        """The stack's recent injections, oldest first (rule id, effect, method, path, status, Ray ID)."""
        return list(self._call("GET", "/log")["injections"])

    def mark_header(self, enabled: bool = True) -> bool:
        """Turn the ``x-kit-fault`` response header on or off (off for fidelity tests)."""
        return bool(self._call("PUT", "/settings", {"mark_header": bool(enabled)})["mark_header"])

    def __repr__(self) -> str:
        where = repr(self._target) if self._target is not None else "the default stack"
        return f"<FaultsClient {where}>"
