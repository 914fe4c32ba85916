// Checking the ledger in the browser, trusting nothing the server computed: a C2SP signed note
// (the tree head) against the ledger's verifier key with WebCrypto Ed25519, and an RFC 9162
// inclusion proof recomputed with SHA-256 up to the signed root. The byte layouts are those of
// supplyline.trace.note and supplyline.trace.merkle. Every check throws ProofError saying why.

const utf8 = new TextEncoder();
const DASH = "\u2014 ";

export class ProofError extends Error {}

export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-f]/i.test(hex)) {
    throw new ProofError("a hash is not hexadecimal");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64ToBytes(text) {
  let binary;
  try {
    binary = atob(text);
  } catch {
    throw new ProofError("a signature or key is not base64");
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function equal(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function sha256(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

/** SHA-256(0x00 || data): the hash of a leaf whose data is this text (UTF-8). */
export function leafHash(text) {
  return sha256(Uint8Array.of(0), utf8.encode(text));
}

function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

/** The root an inclusion proof leads to from a leaf hash (RFC 9162 2.1.3.2). */
export async function inclusionRoot(leaf, index, size, proof) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new ProofError(`leaf ${index} is not in a tree of ${size} entries`);
  }
  const half = (n) => Math.floor(n / 2);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const hex of proof) {
    const p = hexToBytes(hex);
    if (p.length !== 32) throw new ProofError("a proof hash is not 32 bytes");
    if (sn === 0) throw new ProofError("the proof is longer than the path to the root");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn !== 0 && fn % 2 === 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError("the proof is shorter than the path to the root");
  return r;
}

/** The parts of a verifier key, name+hex(key id)+base64(0x01 || Ed25519 public key), checked. */
async function parseVerifier(text) {
  const [name, hexId, ...rest] = String(text).trim().split("+");
  const raw = base64ToBytes(rest.join("+")); // the base64 key may hold "+"
  if (!name || !hexId || raw.length !== 33 || raw[0] !== 1) {
    throw new ProofError("the ledger's public key is not an Ed25519 verifier key");
  }
  const key = raw.slice(1);
  const id = (await sha256(utf8.encode(`${name}\n`), Uint8Array.of(1), key)).slice(0, 4);
  if (bytesToHex(id) !== hexId.toLowerCase()) {
    throw new ProofError("the public key's id does not match its name and key");
  }
  return { name, id, key };
}

function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") {
    throw new ProofError("the tree head is not origin, size and root hash, a line each");
  }
  const [origin, size, root] = lines;
  const digest = base64ToBytes(root);
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size) || digest.length !== 32) {
    throw new ProofError("the tree head's size or root hash is malformed");
  }
  return { origin, size: Number(size), root: digest };
}

/**
 * The checkpoint of a signed note (C2SP signed-note) once the verifier key's Ed25519 signature
 * over its text (everything before the blank line, its last newline included) verifies.
 */
export async function openSignedHead(note, verifierKey) {
  const verifier = await parseVerifier(verifierKey);
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new ProofError("the tree head carries no signature lines");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  const publicKey = await crypto.subtle.importKey("raw", verifier.key, { name: "Ed25519" }, false, ["verify"]);
  for (const line of lines) {
    if (!line.startsWith(DASH)) throw new ProofError("a signature line of the tree head is malformed");
    const [name, encoded] = line.slice(DASH.length).split(" ");
    if (name !== verifier.name || !encoded) continue; // another key's line: not ours to judge
    const blob = base64ToBytes(encoded);
    if (blob.length !== 68 || !equal(blob.slice(0, 4), verifier.id)) continue;
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, blob.slice(4), utf8.encode(text));
    if (!ok) throw new ProofError(`the signature of ${name} on the tree head does not verify`);
    return parseCheckpoint(text);
  }
  throw new ProofError(`the tree head is not signed by ${verifier.name}`);
}

/**
 * Check an inclusion proof of the leaf whose data is ``leafData`` against a signed head:
 * the leaf hash recomputed from the data, the path recomputed to the root, the root compared.
 */
export async function checkInclusion(leafData, proof, head, expectedIndex = null) {
  if (proof.tree_size !== head.size) {
    throw new ProofError(`the proof is for a tree of ${proof.tree_size} entries, the signed head has ${head.size}`);
  }
  if (expectedIndex !== null && proof.leaf_index !== expectedIndex) {
    throw new ProofError(`the proof is for entry ${proof.leaf_index}, not ${expectedIndex}`);
  }
  const leaf = await leafHash(leafData);
  if (bytesToHex(leaf) !== String(proof.leaf_hash).toLowerCase()) {
    throw new ProofError("the proof's leaf is not the hash of this entry");
  }
  const root = await inclusionRoot(leaf, proof.leaf_index, proof.tree_size, proof.proof);
  if (!equal(root, head.root)) throw new ProofError("the proof does not lead to the signed root");
}
