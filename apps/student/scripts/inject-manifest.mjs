// Writes the precache list into dist/sw.js (what workbox-build's injectManifest does, without its
// dependencies): every file of the built app shell with a content hash as its revision.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const skip = new Set(['sw.js', 'config.json']);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const manifest = files(dist)
  .map((path) => relative(dist, path).split('\\').join('/'))
  .filter((rel) => !skip.has(rel) && !rel.endsWith('.map'))
  .sort()
  .map((rel) => ({ url: `/${rel}`, revision: createHash('sha256').update(readFileSync(join(dist, rel))).digest('hex').slice(0, 16) }));
const sw = join(dist, 'sw.js');
const code = readFileSync(sw, 'utf8');
if (!code.includes('self.__WB_MANIFEST')) throw new Error('dist/sw.js has no self.__WB_MANIFEST to replace');
writeFileSync(sw, code.replace('self.__WB_MANIFEST', JSON.stringify(manifest)));
console.log(`precache: ${manifest.length} files written into dist/sw.js`);
