// Seeded randomness for everything that must be reproducible: episodes, augmentations, attack
// starts, initialisation. Never Math.random and never tfjs's own random ops: the same seed must
// give the same numbers on every backend and machine, and a resumed run must continue the stream.

/** xoshiro128** over four uint32 words; small, fast and with a serialisable state. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number | string | readonly number[]) {
    this.s = new Uint32Array(4);
    const words = typeof seed === 'number' ? [seed] : typeof seed === 'string' ? hashString(seed) : seed;
    // splitmix32 expands any seed into a well-mixed, non-zero state.
    let x = 0x9e3779b9;
    for (const w of words) x = mix32(x ^ (w >>> 0));
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.s[i] = mix32(x);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** An independent stream named by keys (e.g. step and task index): the same keys, the same stream. */
  fork(...keys: number[]): Rng {
    return new Rng([...this.s, ...keys]);
  }

  /** A uniform uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() * TWO_TO_MINUS_32;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills a new array with uniforms in [lo, hi): the numbers of n calls of next(), with nextU32's
   * steps on local int32 words and 2^-32 as a product (the same bits as the quotient). An attack's
   * random start draws 58,800 at 28x28x1; one at a time through the typed-array state took 4x
   * the CPU (profile of the 28x28x1 step).
   */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    const s = this.s;
    let [s0, s1, s2, s3] = [s[0] | 0, s[1] | 0, s[2] | 0, s[3] | 0];
    const width = hi - lo;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = lo + width * ((r >>> 0) * TWO_TO_MINUS_32);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return out;
  }

  normalArray(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * this.normal();
    return out;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** k distinct indices from [0, n), in random order. */
  choose(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot choose ${k} distinct items out of ${n}`);
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.slice(0, k);
  }

  getState(): number[] {
    return Array.from(this.s);
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4) throw new Error(`an Rng state has 4 words, got ${state.length}`);
    const r = new Rng(0);
    r.s = Uint32Array.from(state);
    return r;
  }
}

/** 1 / 2^32, exact: x * TWO_TO_MINUS_32 is x / 2^32 to the bit. */
const TWO_TO_MINUS_32 = 2 ** -32;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashString(s: string): number[] {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return [h >>> 0, s.length];
}
