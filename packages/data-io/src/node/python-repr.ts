// Python's text forms of numbers, so that files we write where OpenRetina writes JSON come out byte-identical.

/** `repr(float(x))` as Python writes it in JSON: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const point = Number(exp) + 1; // the decimal point sits after this many digits
  if (point <= -4 || point > 16) {
    const e = Number(exp);
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A JSON value whose numbers know whether Python holds them as int or float. */
export type PythonJson =
  | null
  | boolean
  | string
  | { int: number | bigint }
  | { float: number }
  | PythonJson[]
  | { dict: [string, PythonJson][] };

/** `json.dumps(value, ensure_ascii=False)` with Python's default separators (`", "` and `": "`). */
export function pythonJsonDumps(value: PythonJson): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if ('int' in value) return String(value.int);
  if ('float' in value) return pythonFloatRepr(value.float);
  return `{${value.dict.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
}
