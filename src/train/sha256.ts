/** SHA-256 with the Web Crypto API, which browsers (in secure contexts) and Node 20 both provide. */

/** The SHA-256 of bytes as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error("cannot verify checksums: the Web Crypto API is unavailable here (open the page at http://127.0.0.1 or http://localhost, which browsers treat as secure)");
  }
  // File bytes live in an ordinary ArrayBuffer; digest() refuses shared memory, so copy in that case.
  const plain = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await subtle.digest("SHA-256", plain));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
