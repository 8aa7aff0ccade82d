"""Password hashing and tokens."""

from webui import security


def test_hash_is_argon2id_salted_and_verifies():
    first, second = security.hash_password("s3cret pass"), security.hash_password("s3cret pass")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert security.verify_password(first, "s3cret pass")
    assert not security.verify_password(first, "s3cret pasS")


def test_verify_without_hash_or_with_garbage_is_false():
    assert not security.verify_password(None, "anything")
    assert not security.verify_password("not-a-hash", "anything")


def test_tokens_are_unique_and_stored_only_as_digest():
    tokens = {security.new_token() for _ in range(50)}
    assert len(tokens) == 50
    token = tokens.pop()
    assert len(token) >= 40
    digest = security.token_digest(token)
    assert digest != token and len(digest) == 64
