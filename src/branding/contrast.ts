/**
 * WCAG 2.x contrast: relative luminance of sRGB colours and the ratio between two of them
 * (https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio). AA asks 4.5:1 for normal text.
 */
export const AA_TEXT_CONTRAST = 4.5;

/** `#rgb` or `#rrggbb` -> [r, g, b] in 0..255; undefined for anything else. */
export function parseHexColor(hex: string): [number, number, number] | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return undefined;
  const digits = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c) : m[1]!.match(/../g)!;
  return digits.map((d) => parseInt(d, 16)) as [number, number, number];
}

export function relativeLuminance([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
