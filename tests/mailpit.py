"""Reading the real mail catcher (Mailpit, started by infra/ for `make test`) through its HTTP API,
and making its SMTP side refuse on purpose (Mailpit's chaos triggers), as a real server would."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import eventually


def api_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('WERKPLEK_MAILPIT_HTTP_PORT', '29126')}/api/v1"


def smtp_port() -> int:
    return int(os.environ.get("WERKPLEK_MAILPIT_SMTP_PORT", "29125"))


@dataclass(frozen=True)
class Mail:
    id: str
    message_id: str
    to: list[str]
    subject: str
    text: str
    html: str
    headers: dict[str, list[str]]


class Mailpit:
    def __init__(self, base: str | None = None) -> None:
        self.base = base or api_url()

    async def _get(self, path: str, **params: Any) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.get(f"{self.base}{path}", params=params)
            r.raise_for_status()
            return r.json()

    async def to(self, address: str) -> list[Mail]:
        """Every mail to `address`, oldest first (tests use addresses of their own: nothing else matches)."""
        found = await self._get("/search", query=f'to:"{address}"', limit=100)
        mails = []
        for m in sorted(found["messages"], key=lambda m: m["Created"]):
            full = await self._get(f"/message/{m['ID']}")
            headers = await self._get(f"/message/{m['ID']}/headers")
            mails.append(Mail(m["ID"], full["MessageID"], [t["Address"] for t in full["To"]], full["Subject"],
                              full["Text"], full["HTML"], headers))
        return mails

    async def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[Mail]:
        """Poll until `count` mails to `address` are there (fails at the deadline, or when more are)."""
        seen: list[Mail] = []

        async def arrived() -> bool:
            seen[:] = await self.to(address)
            assert len(seen) <= count, f"{len(seen)} mails to {address}, expected {count}"
            return len(seen) == count

        await eventually(arrived, timeout=timeout, what=f"{count} mail(s) to {address} in Mailpit")
        return seen

    async def chaos(self, recipient_error: int | None) -> None:
        """Make the SMTP server refuse every recipient with this code (None: accept again)."""
        trigger = {"ErrorCode": recipient_error or 451, "Probability": 100 if recipient_error else 0}
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.put(f"{self.base}/chaos", json={"Recipient": trigger})
            r.raise_for_status()
