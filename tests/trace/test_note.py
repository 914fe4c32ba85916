"""C2SP signed notes and tlog checkpoints: the format's published example, and tampering."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from supplyline.trace.merkle import root_hash
from supplyline.trace.note import NoteError, TreeHead, Verifier, key_id, open_note, sign_note, verifier_key

# The example of the signed-note format (Go's sumdb/note documentation and its ports): a key
# given as PRIVATE+KEY+name+id+base64(0x01 || seed), a text, and the note it gives. Ed25519 is
# deterministic, so signing the text again must give exactly that note.
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
NOTE = (
    TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def example_key() -> tuple[str, Ed25519PrivateKey]:
    _, _, name, hex_id, encoded = SKEY.split("+", 4)  # base64 may hold "+"
    raw = base64.b64decode(encoded)
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    assert key_id(name, key.public_key().public_bytes_raw()).hex() == hex_id
    return name, key


def test_the_published_example_is_reproduced_and_opens() -> None:
    name, key = example_key()
    assert sign_note(TEXT, name, key) == NOTE
    verifier = Verifier.parse(verifier_key(name, key.public_key()))
    assert verifier_key(name, key.public_key()).startswith("PeterNeumann+c74f20a3+")
    assert open_note(NOTE, verifier) == TEXT


def test_a_checkpoint_is_a_signed_note_that_verifies_with_the_public_key_alone() -> None:
    key = Ed25519PrivateKey.generate()
    root = root_hash([b"a", b"b", b"c"])
    head = TreeHead("supplyline.example/acme", 3, root)
    assert head.text() == f"supplyline.example/acme\n3\n{base64.b64encode(root).decode()}\n"
    note = head.signed("supplyline.example/acme", key)
    vkey = verifier_key("supplyline.example/acme", key.public_key())
    assert TreeHead.open(note, Verifier.parse(vkey)) == head
    # A witness's cosignature (another key) is ignored, not an error.
    witness = sign_note(head.text(), "witness.example", Ed25519PrivateKey.generate())
    both = note + witness.split("\n\n", 1)[1]
    assert TreeHead.open(both, Verifier.parse(vkey)) == head


def test_any_change_to_a_signed_checkpoint_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    origin = "supplyline.example/acme"
    note = TreeHead(origin, 10, root_hash([b"x"] * 10)).signed(origin, key)
    verifier = Verifier.parse(verifier_key(origin, key.public_key()))
    text, signature = note.split("\n\n")
    older = TreeHead(origin, 9, root_hash([b"x"] * 9)).text()
    for bad in [
        note.replace("\n10\n", "\n11\n"),  # another size
        older + "\n" + signature,  # another tree's head under this signature
        text + "\n\n\n" + signature,  # an empty line in the text
        note.replace("\u2014", "-"),
        note[:-5] + "AAAA\n",
        "",
        text + "\n",
    ]:
        with pytest.raises(NoteError):
            TreeHead.open(bad, verifier)
    other = Verifier.parse(verifier_key(origin, Ed25519PrivateKey.generate().public_key()))
    with pytest.raises(NoteError, match="not signed by"):
        TreeHead.open(note, other)


@pytest.mark.parametrize(
    "vkey", ["", "a+b", "name+zz+AA==", "name+00000000+" + base64.b64encode(b"\x01" + b"k" * 32).decode()]
)
def test_a_malformed_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)
