"""RFC 9162 Merkle tree: the reference vectors, every proof of trees of 1 to 64 leaves, and
single-bit mutations of proofs, roots, indexes and sizes, none of which may verify."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from supplyline.trace import merkle
from supplyline.trace.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    root_of_hashes,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference leaves and the root of each prefix (RFC 6962's test
# vectors, as the transparency logs publish them): data only.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
MAX = 64
DATA = [f"event {i}".encode() for i in range(MAX)]
HASHES = [leaf_hash(d) for d in DATA]
ROOTS = [root_of_hashes(HASHES[:n]) for n in range(MAX + 1)]


def flips(value: bytes, every_bit: bool) -> Iterator[bytes]:
    """``value`` with one bit flipped: every bit, or one bit of each byte (a different one
    from byte to byte), which keeps the 64-leaf sweep to seconds."""
    for i in range(len(value)):
        for bit in range(8) if every_bit else (i % 8,):
            mutated = bytearray(value)
            mutated[i] ^= 1 << bit
            yield bytes(mutated)


def int_flips(value: int) -> Iterator[int]:
    for bit in range(8):
        yield value ^ (1 << bit)


def inclusion_shape(index: int, size: int, length: int) -> tuple[str, ...] | None:
    """The side each proof hash is hashed on, as RFC 9162's verification walks a proof of
    ``length`` for (index, size); None where such a proof cannot verify."""
    if not 0 <= index < size:
        return None
    fn, sn, sides = index, size - 1, []
    for _ in range(length):
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            sides.append("left")
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sides.append("right")
        fn, sn = fn >> 1, sn >> 1
    return tuple(sides) if sn == 0 else None


def consistency_shape(size1: int, size2: int, length: int) -> tuple[str, ...] | None:
    """The same for a consistency proof of ``length`` from size1 to size2."""
    if not 0 < size1 < size2:
        return None
    length += 1 if size1 & (size1 - 1) == 0 else 0
    fn, sn, sides = size1 - 1, size2 - 1, []
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    for _ in range(length - 1):
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            sides.append("both")
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sides.append("second")
        fn, sn = fn >> 1, sn >> 1
    return tuple(sides) if sn == 0 else None


def test_the_reference_roots_and_proofs() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0] == root_hash([]).hex()
    for n in range(len(CT_LEAVES) + 1):
        assert root_hash(CT_LEAVES[:n]).hex() == CT_ROOTS[n], n
    hashes = [leaf_hash(d) for d in CT_LEAVES]
    root = bytes.fromhex(CT_ROOTS[8])
    for (index, size), want in CT_INCLUSION.items():
        assert [p.hex() for p in inclusion_proof(index, hashes[:size])] == want
        assert verify_inclusion(hashes[index], index, size, [bytes.fromhex(h) for h in want], root)


def _recursive_root(hashes: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 writes it, to check the bottom-up construction against."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return merkle.node_hash(_recursive_root(hashes[:k]), _recursive_root(hashes[k:]))


def test_the_root_is_the_recursive_definition_for_every_size() -> None:
    for n in range(MAX + 1):
        assert ROOTS[n] == _recursive_root(HASHES[:n]), n


def test_every_inclusion_proof_verifies_and_no_mutation_of_it_does() -> None:
    checked = 0
    for n in range(1, MAX + 1):
        root = ROOTS[n]
        for i in range(n):
            proof = inclusion_proof(i, HASHES[:n])
            assert verify_inclusion(HASHES[i], i, n, proof, root), (i, n)
            every_bit = n <= 8
            for k, p in enumerate(proof):
                for bad in flips(p, every_bit):
                    assert not verify_inclusion(HASHES[i], i, n, [*proof[:k], bad, *proof[k + 1 :]], root)
            for bad in flips(root, every_bit):
                assert not verify_inclusion(HASHES[i], i, n, proof, bad)
            for bad in flips(HASHES[i], every_bit):
                assert not verify_inclusion(bad, i, n, proof, root)
            for other in int_flips(i):
                assert not verify_inclusion(HASHES[i], other, n, proof, root), (i, other, n)
            for other in int_flips(n):
                # RFC 9162 binds a proof to its tree size only through the path's shape: leaf 0
                # of 5 and of 7 leaves have the same one. The signed checkpoint binds the size
                # to the root, so a size with the same shape is the one case that may verify.
                if inclusion_shape(i, other, len(proof)) != inclusion_shape(i, n, len(proof)):
                    assert not verify_inclusion(HASHES[i], i, other, proof, root), (i, n, other)
            assert not verify_inclusion(HASHES[i], i, n, proof[:-1], root) or not proof
            assert not verify_inclusion(HASHES[i], i, n, [*proof, root], root)
            checked += 1
    assert checked == MAX * (MAX + 1) // 2


def test_every_consistency_proof_verifies_and_no_mutation_of_it_does() -> None:
    for n in range(1, MAX + 1):
        for m in range(0, n + 1):
            proof = consistency_proof(m, HASHES[:n])
            r1, r2 = ROOTS[m], ROOTS[n]
            assert verify_consistency(m, n, proof, r1, r2), (m, n)
            every_bit = n <= 8
            for k, p in enumerate(proof):
                for bad in flips(p, every_bit):
                    assert not verify_consistency(m, n, [*proof[:k], bad, *proof[k + 1 :]], r1, r2), (m, n, k)
            for bad in flips(r1, every_bit):
                assert not verify_consistency(m, n, proof, bad, r2)
            for bad in flips(r2, every_bit) if m else ():  # every tree extends the empty one
                assert not verify_consistency(m, n, proof, r1, bad)
            for other in int_flips(m):
                assert not verify_consistency(other, n, proof, r1, r2), (m, other, n)
            for other in int_flips(n) if m else ():  # the empty tree is a prefix of any
                if consistency_shape(m, other, len(proof)) != consistency_shape(m, n, len(proof)):
                    assert not verify_consistency(m, other, proof, r1, r2), (m, n, other)
            if proof:
                assert not verify_consistency(m, n, proof[:-1], r1, r2)
            assert not verify_consistency(m, n, [*proof, r2], r1, r2)


def test_an_older_tree_presented_as_current_or_a_rewritten_history_is_caught() -> None:
    rewritten = [*HASHES[:10], leaf_hash(b"changed"), *HASHES[11:20]]
    proof = consistency_proof(12, rewritten)
    assert not verify_consistency(12, 20, proof, ROOTS[12], root_of_hashes(rewritten))
    # Going backwards is never consistent.
    assert not verify_consistency(20, 12, consistency_proof(12, HASHES[:20]), ROOTS[20], ROOTS[12])


MALFORMED: list[tuple[Any, ...]] = [
    (HASHES[0][:31], 0, 1, [], ROOTS[1]),
    (HASHES[0], -1, 1, [], ROOTS[1]),
    (HASHES[0], 0, -1, [], ROOTS[1]),
    (HASHES[0], 1, 1, [], ROOTS[1]),
    (HASHES[0], 0, 0, [], EMPTY_ROOT),
    (HASHES[0], True, 2, [HASHES[1]], ROOTS[2]),
    (HASHES[0], 0.0, 1, [], ROOTS[1]),
    (HASHES[0], 0, 2, [HASHES[1][:5]], ROOTS[2]),
    (HASHES[0], 0, 2, "x" * 32, ROOTS[2]),
    (HASHES[0], 0, 2, None, ROOTS[2]),
    (HASHES[0].hex(), 0, 1, [], ROOTS[1]),
    (HASHES[0], 0, 1, [], None),
    (HASHES[0], 0, 2**64, [HASHES[1]], ROOTS[2]),
]


@pytest.mark.parametrize("args", MALFORMED)
def test_malformed_inclusion_input_is_false_never_an_exception(args: tuple[Any, ...]) -> None:
    assert verify_inclusion(*args) is False


@pytest.mark.parametrize(
    "args",
    [
        (-1, 2, [], EMPTY_ROOT, ROOTS[2]),
        (1, 2, [HASHES[1]], ROOTS[1][:31], ROOTS[2]),
        (1, 2, [HASHES[1]], ROOTS[1], b""),
        (1, 2, [HASHES[1][:-1]], ROOTS[1], ROOTS[2]),
        (1, 2, None, ROOTS[1], ROOTS[2]),
        (1, 2, [], ROOTS[1], ROOTS[2]),
        (0, 2, [HASHES[0]], EMPTY_ROOT, ROOTS[2]),
        (0, 2, [], ROOTS[1], ROOTS[2]),
        (2, 2, [HASHES[0]], ROOTS[2], ROOTS[2]),
        (3, 2, [], ROOTS[2], ROOTS[2]),
        (True, 2, [HASHES[1]], ROOTS[1], ROOTS[2]),
        ("1", 2, [HASHES[1]], ROOTS[1], ROOTS[2]),
        (1, 2**70, [HASHES[1]], ROOTS[1], ROOTS[2]),
    ],
)
def test_malformed_consistency_input_is_false_never_an_exception(args: tuple[Any, ...]) -> None:
    assert verify_consistency(*args) is False


def test_proofs_of_what_is_not_in_the_tree_are_refused() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, HASHES[:3])
    with pytest.raises(ValueError):
        consistency_proof(4, HASHES[:3])
