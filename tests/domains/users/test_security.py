"""The stand-in hash verified for unknown emails must cost what a real one costs."""

from __future__ import annotations

from trellis.domains.users import security


def test_the_stand_in_hash_has_the_hashers_parameters() -> None:
    # Equal parameters mean equal verification work: a login for an unknown email takes as
    # long as one for a known email. A library update that changes the defaults fails here.
    stand_in = security._DUMMY_HASH
    assert not security.needs_rehash(stand_in)
    assert stand_in.split("$")[1:4] == security.hash_password("x").split("$")[1:4]
    assert not security.verify_password(None, "not a real password")
