// deno publish reads deno.json and ignores jsr.json, so the two must say the same; package.json follows them.

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

  it("package.json has the same name, version and license, and exports mod.ts", () => {
    const deno = readJson("deno.json");
    const pkg = readJson("package.json");
    assert.equal(pkg.name, deno.name);
    assert.equal(pkg.version, deno.version);
    assert.equal(pkg.license, deno.license);
    assert.deepEqual(pkg.exports, deno.exports);
  });
});
