"""Secrets: argon2 password hashes, and random tokens of which only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown email equal to a known one.
# A constant made with the hasher's parameters (argon2id, m=64 MiB, t=3, p=4), not hashed at
# import: that took a second from the start of every process, every CLI command included. The test
# of this module checks that the parameters still match the hasher's.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$jZUXFME9NkGb8JOqHRRcxw"
    "$jetIUR3CE4v0ZuYSXSdsTrJGPh6YJsAtuLpgLkCHO90"
)

TOKEN_PREFIX = "trl_"  # noqa: S105 - a public marker, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


PASSWORD_MIN_LENGTH = 10


def password_problems(password: str, *, email: str = "") -> list[str]:
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > 1024:
        problems.append("Use at most 1024 characters.")
    if email and password.lower() == email.lower():
        problems.append("The password may not be the email address.")
    return problems
