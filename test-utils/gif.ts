/** Minimal GIF reader for tests: logical screen size and the number of image frames. */
export function readGifInfo(bytes: Uint8Array): { width: number; height: number; frames: number } {
  const sig = String.fromCharCode(...bytes.subarray(0, 6));
  if (sig !== 'GIF89a' && sig !== 'GIF87a') throw new Error(`not a GIF: ${sig}`);
  const width = bytes[6]! | (bytes[7]! << 8);
  const height = bytes[8]! | (bytes[9]! << 8);
  const packed = bytes[10]!;
  let p = 13;
  if (packed & 0x80) p += 3 * (1 << ((packed & 7) + 1));
  const skipSubBlocks = () => {
    while (bytes[p]! !== 0) p += bytes[p]! + 1;
    p += 1;
  };
  let frames = 0;
  for (;;) {
    const b = bytes[p++];
    if (b === 0x3b) break;
    if (b === 0x21) {
      p += 1;
      skipSubBlocks();
    } else if (b === 0x2c) {
      frames++;
      const lp = bytes[p + 8]!;
      p += 9;
      if (lp & 0x80) p += 3 * (1 << ((lp & 7) + 1));
      p += 1; // LZW minimum code size
      skipSubBlocks();
    } else throw new Error(`bad GIF block 0x${b?.toString(16)} at ${p - 1}`);
  }
  return { width, height, frames };
}
