"""Signed tree heads as C2SP checkpoints in signed notes, so transparency-log tooling reads them.

A checkpoint (c2sp.org/tlog-checkpoint) is a short text: the log's origin line, the tree size
in decimal, the root hash in standard base64, then optional extension lines, each line ending
in a newline. A signed note (c2sp.org/signed-note) is that text, a blank line, and one line per
signature: an em dash (U+2014), a space, the key's name, a space, and base64 of the 4-byte key
id followed by the Ed25519 signature of the text (the text including its final newline). The
key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), 0x01 naming
Ed25519; a verifier key is shared as ``name+<key id in hex>+<base64(0x01 || public key)>``.

``open_note`` checks a note against one verifier key and returns its text, or raises
``NoteError``: a note is trusted only through a signature of the key it is checked with, and
lines from other keys (a witness's cosignature, say) are ignored, as the format requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014 "
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """The note is malformed, or not signed by the key it was checked with."""


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key under a name."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The text a verifier is given: ``name+hex(key id)+base64(0x01 || public key)``."""
    raw = raw_public_key(public_key)
    return f"{name}+{key_id(name, raw).hex()}+{base64.b64encode(ED25519 + raw).decode()}"


@dataclass(frozen=True)
class Verifier:
    name: str
    id: bytes
    key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # the base64 key may hold "+"
        if len(parts) != 3 or not _valid_name(parts[0]):
            raise NoteError("a verifier key is name+keyid+key")
        name, hex_id, encoded = parts
        try:
            kid, raw = bytes.fromhex(hex_id), base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("the verifier key's id or key is not hex and base64") from None
        if len(kid) != 4 or len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        if key_id(name, raw[1:]) != kid:
            raise NoteError("the verifier key's id does not match its name and key")
        return cls(name, kid, Ed25519PublicKey.from_public_bytes(raw[1:]))


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("a note's text is non-empty lines, each ending in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note's text holds no control characters")


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """``text`` signed by ``key`` under ``name``, as a signed note."""
    if not _valid_name(name):
        raise NoteError(f"{name!r} is not a key name (non-empty, no spaces, no '+')")
    _check_text(text)
    kid = key_id(name, raw_public_key(key.public_key()))
    signature = key.sign(text.encode())
    return f"{text}\n{DASH}{name} {base64.b64encode(kid + signature).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` when it carries a valid signature of ``verifier``; else NoteError."""
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("no signature lines")
    text, lines = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not lines.endswith("\n"):
        raise NoteError("the signature lines do not end in a newline")
    signatures = lines[:-1].split("\n")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    for line in signatures:
        name, sep, encoded = line.removeprefix(DASH).partition(" ")
        if not line.startswith(DASH) or not sep or not _valid_name(name):
            raise NoteError(f"a malformed signature line: {line[:80]!r}")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("a signature is not base64") from None
        if len(blob) < 5:
            raise NoteError("a signature is too short")
        if name != verifier.name or blob[:4] != verifier.id:
            continue  # another key's line: not ours to judge
        try:
            verifier.key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {name} does not verify") from None
        return text
    raise NoteError(f"not signed by {verifier.name}")


@dataclass(frozen=True)
class TreeHead:
    """A tree head as a C2SP checkpoint: the log's origin, its size and root hash, and any
    extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> TreeHead:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is origin, size and root hash, a line each")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("the checkpoint's origin or size is malformed")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise NoteError("the checkpoint's root hash is not base64") from None
        if len(digest) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(origin, int(size), digest, tuple(extensions))

    def signed(self, name: str, key: Ed25519PrivateKey) -> str:
        return sign_note(self.text(), name, key)

    @classmethod
    def open(cls, note: str, verifier: Verifier) -> TreeHead:
        """The checkpoint of a signed note, after its signature has been checked."""
        return cls.parse(open_note(note, verifier))
