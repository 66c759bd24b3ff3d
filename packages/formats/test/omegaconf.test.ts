import { describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { toPlain, unpickle } from '../src/index.js';

/** Builds an omegaconf-like pickle (DictConfig/ListConfig/AnyNode BUILD states with `_parent` links) of a JS tree. */
function omegaPickle(tree: Record<string, unknown>): Uint8Array {
  let memo = 0;
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return `X${n.toString('latin1')}${b.toString('latin1')}`;
  };
  const get = (i: number) => `j${Buffer.from(new Uint32Array([i]).buffer).toString('latin1')}`;
  const put = () => `r${Buffer.from(new Uint32Array([memo]).buffer).toString('latin1')}`;
  const value = (v: unknown, parent: number | null): string => {
    const parentRef = parent === null ? 'N' : get(parent);
    if (v !== null && typeof v === 'object') {
      const cls = Array.isArray(v) ? 'omegaconf.listconfig\nListConfig' : 'omegaconf.dictconfig\nDictConfig';
      const id = memo;
      let s = `c${cls}\n)\x81${put()}`;
      memo++;
      const content = Array.isArray(v)
        ? `](${v.map((x) => value(x, id)).join('')}e`
        : `}(${Object.entries(v)
            .map(([k, x]) => str(k) + value(x, id))
            .join('')}u`;
      s += `}(${str('_metadata')}N${str('_parent')}${parentRef}${str('_content')}${content}ub`;
      return s;
    }
    const leaf =
      typeof v === 'string'
        ? str(v)
        : typeof v === 'number'
          ? `G${Buffer.from(new Float64Array([v]).buffer)
              .reverse()
              .toString('latin1')}`
          : 'N';
    return `comegaconf.nodes\nAnyNode\n)\x81}(${str('_metadata')}N${str('_parent')}${parentRef}${str('_val')}${leaf}ub`;
  };
  return new Uint8Array(Buffer.from(`\x80\x02${value(tree, null)}.`, 'latin1'));
}

describe('omegaconf DictConfig/ListConfig conversion', () => {
  it('resolves absolute, relative, indexed and embedded interpolations', () => {
    const tree = {
      model: { learning_rate: 0.01, hidden: [16, 32], name: 'cnn', sub: { up: '${..name}' } },
      optimizer: {
        lr: '${model.learning_rate}',
        sibling: '${.lr}',
        first: '${model.hidden[1]}',
        text: 'lr=${model.learning_rate}, \\${literal}',
      },
      chain: '${optimizer.lr}',
      whole: '${model.hidden}',
    };
    const plain = toPlain(unpickle(omegaPickle(tree))) as Record<string, Record<string, unknown>>;
    expect(plain.optimizer).toEqual({ lr: 0.01, sibling: 0.01, first: 32, text: 'lr=0.01, ${literal}' });
    expect(plain.chain).toBe(0.01);
    expect(plain.whole).toEqual([16, 32]);
    expect(plain.model!.sub).toEqual({ up: 'cnn' });
  });

  it('refuses resolvers, missing keys and cycles with clear errors', () => {
    const check = (tree: Record<string, unknown>, pattern: RegExp) => {
      try {
        toPlain(unpickle(omegaPickle(tree)));
      } catch (e) {
        expect(isOpenRetinaError(e), String(e)).toBe(true);
        expect((e as Error).message).toMatch(pattern);
        return;
      }
      throw new Error('expected an error');
    };
    check({ home: '${oc.env:HOME}' }, /resolver interpolation "\$\{oc.env:HOME\}" is refused/);
    check({ a: 'x ${oc.env:HOME}' }, /refused/);
    check({ a: '${nope.b}' }, /key "nope.b" not found/);
    check({ a: '${b}', b: '${a}' }, /cyclic/);
  });
});
