// The package's README, as installed: its "JS API" block is the shipped index.d.ts, word for word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = dirname(createRequire(import.meta.url).resolve('pondsocket-wasm/package.json'));

test("the README's JS API section is a part of index.d.ts", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const types = readFileSync(join(root, 'index.d.ts'), 'utf8');
  const section = readme.split('\n## JS API')[1]?.split('\n## ')[0];
  assert.ok(section, 'the README has a "JS API" section');
  const block = section.match(/```ts\n([\s\S]*?)\n```/)?.[1];
  assert.ok(block && block.includes('export declare class PondClient'), 'its ts block declares PondClient');
  assert.ok(types.includes(block), 'the block is not index.d.ts as shipped: copy it again from pkg-template/index.d.ts');
});
