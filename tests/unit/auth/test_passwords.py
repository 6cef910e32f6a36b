from app.auth import service


def test_hash_is_argon2id_and_verifies():
    h = service.hash_password("a long password")
    assert h.startswith("$argon2id$")
    assert service.verify_password(h, "a long password")
    assert not service.verify_password(h, "another password")
    assert not service.verify_password("not a hash", "a long password")


def test_token_digest_is_sha256_hex():
    assert len(service.token_digest("x")) == 64
    assert service.token_digest("x") != service.token_digest("y")
