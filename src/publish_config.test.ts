// deno publish reads deno.json and ignores jsr.json, so the two must say the same; package.json follows them.

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../${name}`, import.meta.url), "utf8")) as Record<string, unknown>;
}

describe("publishing metadata", () => {
  it("deno.json and jsr.json carry the same name, version, exports and license", () => {
    const deno = readJson("deno.json");
    const jsr = readJson("jsr.json");
    for (const key of ["name", "version", "exports", "license"]) {
      assert.deepEqual(jsr[key], deno[key], `${key} differs between jsr.json and deno.json`);
    }
  });

  it("package.json has the same name, version and license, and exports the compiled counterpart of each export", () => {
    const deno = readJson("deno.json");
    const pkg = readJson("package.json");
    assert.equal(pkg.name, deno.name);
    assert.equal(pkg.version, deno.version);
    assert.equal(pkg.license, deno.license);
    // Each JSR export `./x.ts` is `./dist/x.js` (with `./dist/x.d.ts` for types) in the npm package.
    const compiled = Object.fromEntries(
      Object.entries(deno.exports as Record<string, string>).map(([key, path]) => {
        const base = path.replace(/^\.\//, "./dist/").replace(/\.ts$/, "");
        return [key, { types: `${base}.d.ts`, default: `${base}.js` }];
      }),
    );
    assert.deepEqual(pkg.exports, { ...compiled, "./package.json": "./package.json" });
    assert.equal(pkg.private, undefined, "package.json must not be private");
  });
});
