"""Signed tokens of the public asset and page routes, keyed like every other link by the
instance secret (the :class:`~trellis.domains.emails.links.LinkSigner` of the process).

- the contact token ``ct``: ``<contact id in base 36>.<mac>``, appended to asset and page links
  sent to a known contact, so that a download or a visit is the contact's;
- the download token ``dl``: ``<asset>.<contact or 0>.<expiry, epoch seconds>.<mac>`` (base 36),
  given after the gate form of an asset is filled in; it works until it expires.

The MAC input starts with a purpose of its own ("ct" / "dl"), so that no email link token can
be replayed as one of these, nor one of these as the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from trellis.domains.emails.links import LinkSigner

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def b36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = _DIGITS[rest] + out
        if not number:
            return out


def _int36(text: str) -> int | None:
    if not text or len(text) > 13:
        return None
    try:
        return int(text, 36)
    except ValueError:
        return None


@dataclass(frozen=True)
class DownloadGrant:
    asset_id: int
    contact_id: int | None
    expires: int


@dataclass(frozen=True)
class AssetLinks:
    signer: LinkSigner

    @property
    def base_url(self) -> str:
        return self.signer.base_url.rstrip("/")

    def _mac(self, purpose: str, payload: str) -> str:
        message = f"{purpose}|{payload}".encode()
        digest = hmac.new(self.signer.secret, message, hashlib.sha256).digest()[:15]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    # -- known contacts -------------------------------------------------------------------------

    def contact_token(self, contact_id: int) -> str:
        head = b36(contact_id)
        return f"{head}.{self._mac('ct', head)}"

    def contact_of(self, token: str | None) -> int | None:
        """The contact a ``ct`` token names; None for a missing, forged or altered one."""
        if not token or len(token) > 64:
            return None
        head, dot, mac = token.partition(".")
        contact_id = _int36(head)
        if not dot or contact_id is None or contact_id < 1:
            return None
        if not hmac.compare_digest(mac, self._mac("ct", head)):
            return None
        return contact_id

    def with_contact(self, url: str, contact_id: int | None) -> str:
        if contact_id is None:
            return url
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}{urlencode({'ct': self.contact_token(contact_id)})}"

    # -- gated downloads ------------------------------------------------------------------------

    def download_token(self, asset_id: int, contact_id: int | None, expires: datetime) -> str:
        payload = f"{b36(asset_id)}.{b36(contact_id or 0)}.{b36(int(expires.timestamp()))}"
        return f"{payload}.{self._mac('dl', payload)}"

    def grant(self, token: str | None, *, asset_id: int, now: datetime) -> DownloadGrant | None:
        """The grant of a ``dl`` token for this asset, if it is genuine and not expired."""
        if not token or len(token) > 96:
            return None
        parts = token.split(".")
        if len(parts) != 4:
            return None
        numbers = [_int36(p) for p in parts[:3]]
        if any(n is None for n in numbers):
            return None
        signed_asset, contact, expires = (int(n or 0) for n in numbers)
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._mac("dl", payload)):
            return None
        if signed_asset != asset_id or expires < int(now.timestamp()):
            return None
        return DownloadGrant(asset_id, contact or None, expires)
