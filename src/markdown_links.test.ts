// The repository's Markdown stays linked: every relative link reaches a file inside the repository, every `#anchor`
// a heading of the Markdown file it names (GitHub's slugs), and every rule id the code cites has its entry in
// docs/rules.md.

import "./_test_guard.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// Not part of the repository (.gitignore, and the shared install): never scanned, never a link target.
const OUTSIDE = new Set([".git", "node_modules", "scratch"]);
// Generated output: scanned for nothing, but a fine link target (the README shows its chart).
const GENERATED = new Set(["bench/results"]);
const EXTERNAL_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/** Files under the repository root whose names `keep` accepts, as `/`-separated paths relative to the root. */
function repositoryFiles(keep: (name: string) => boolean, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!OUTSIDE.has(entry.name) && !GENERATED.has(path)) out.push(...repositoryFiles(keep, path));
    } else if (entry.isFile() && keep(entry.name)) {
      out.push(path);
    }
  }
  return out.sort();
}

// --- Markdown, as far as links and headings need it -----------------------------------------------------------

interface Line {
  readonly number: number;
  readonly text: string;
}

/** The lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): Line[] {
  const out: Line[] = [];
  let fence: string | undefined;
  markdown.split(/\r?\n/).forEach((text, i) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence === undefined) {
      if (marker !== undefined) fence = marker;
      else out.push({ number: i + 1, text });
    } else if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
      if (/^ {0,3}[`~]+\s*$/.test(text)) fence = undefined;
    }
  });
  return out;
}

/** `text` with its code spans replaced by what `code` makes of each span's content. */
function replaceCodeSpans(text: string, code: (content: string) => string): string {
  return text.replace(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (_, _ticks, content: string) => {
    const trimmed = /^ .* $/.test(content) && content.trim() !== "" ? content.slice(1, -1) : content;
    return code(trimmed);
  });
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"' };

/** A heading's text as GitHub renders it: code without backticks, link text, no tags, emphasis or escapes. */
function renderedText(heading: string): string {
  const spans: string[] = [];
  let text = replaceCodeSpans(heading, (content) => `\uE000${spans.push(content) - 1}\uE001`);
  text = text
    .replace(/!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])?/g, "$1")
    .replace(/<\/?[A-Za-z][^>]*>/g, "")
    .replace(/(?<![\p{L}\p{N}_\\])(\*+|_+)(?=\S)(.+?)(?<=\S)\1(?![\p{L}\p{N}_])/gu, "$2")
    .replace(/\*+/g, "")
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/&(amp|lt|gt|quot|#(\d+)|#[xX]([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) => {
      if (dec !== undefined) return String.fromCodePoint(Number(dec));
      if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
      return ENTITIES[name] ?? "";
    });
  return text.replace(/\uE000(\d+)\uE001/g, (_, i: string) => spans[Number(i)]).trim();
}

// github-slugger's rule, which GitHub follows: drop punctuation, symbols, separators and control characters, except
// letters (alphabetic symbols are letters), `-` and the space, which becomes `-`. `_` (connector punctuation) stays.
const DROPPED = /[\p{No}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Po}\p{S}\p{Z}\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu;

/** The anchor GitHub gives a heading whose rendered text is `text`, before duplicates get `-1`, `-2`, … */
function githubSlug(text: string): string {
  return text.toLowerCase()
    .replace(DROPPED, (c) => c === " " || c === "-" || /\p{Alphabetic}/u.test(c) ? c : "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown file: its headings' slugs (repeats numbered as GitHub does) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const add = (slug: string) => {
    let anchor = slug;
    while (seen.has(anchor)) {
      const count = seen.get(slug)! + 1;
      seen.set(slug, count);
      anchor = `${slug}-${count}`;
    }
    seen.set(anchor, 0);
    anchors.add(anchor);
  };
  const lines = proseLines(markdown);
  lines.forEach(({ number, text }, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(text);
    if (atx !== null) return add(githubSlug(renderedText(atx[1] ?? "")));
    const previous = lines[i - 1];
    if (
      /^ {0,3}(=+|-+)[ \t]*$/.test(text) && previous !== undefined && previous.number === number - 1 &&
      previous.text.trim() !== "" && !/^ {0,3}([-+*]\s|\d+[.)]\s|>|#|\|)/.test(previous.text) &&
      !/^ {0,3}(=+|-+)[ \t]*$/.test(previous.text)
    ) {
      add(githubSlug(renderedText(previous.text)));
    }
  });
  for (const { text } of lines) {
    for (const m of text.matchAll(/<[A-Za-z][^>]*?\s(?:id|name)\s*=\s*(["'])(.*?)\1/g)) anchors.add(m[2]);
  }
  return anchors;
}

interface Link {
  readonly line: number;
  readonly target: string;
}

/** The links of a Markdown file outside code: inline links and images, reference definitions, HTML href and src. */
function linksOf(markdown: string): Link[] {
  const out: Link[] = [];
  for (const { number, text: raw } of proseLines(markdown)) {
    const text = replaceCodeSpans(raw, () => "code");
    const definition = /^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)/.exec(text);
    if (definition !== null) out.push({ line: number, target: definition[1].replace(/^<(.*)>$/, "$1") });
    for (const m of text.matchAll(/\]\(/g)) {
      const target = destination(text.slice(m.index! + 2));
      if (target !== undefined) out.push({ line: number, target });
    }
    for (const m of text.matchAll(/<(?:a|img)\b[^>]*?\s(?:href|src)\s*=\s*(["'])(.*?)\1/gi)) {
      out.push({ line: number, target: m[2] });
    }
  }
  return out;
}

/** The destination at the start of `rest` (what follows `](`): `<…>`, or up to a space or the closing `)`. */
function destination(rest: string): string | undefined {
  const text = rest.replace(/^[ \t]+/, "");
  if (text.startsWith("<")) {
    const end = text.indexOf(">");
    return end < 0 ? undefined : text.slice(1, end);
  }
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && depth-- === 0) return text.slice(0, i);
    else if (c === " " || c === "\t") return text.slice(0, i);
  }
  return undefined;
}

// --- The check --------------------------------------------------------------------------------------------------

const anchorCache = new Map<string, Set<string>>();

function anchorsOfFile(path: string): Set<string> {
  let anchors = anchorCache.get(path);
  if (anchors === undefined) anchorCache.set(path, anchors = anchorsOf(readFileSync(path, "utf8")));
  return anchors;
}

/** Whether `path` (absolute) lies inside the repository: under its root, outside the parts it does not own. */
function insideRepository(path: string): boolean {
  const rel = relative(ROOT, path);
  if (rel === "") return true;
  if (rel.startsWith("..") || isAbsolute(rel)) return false;
  return !rel.split(/[\\/]/).some((part) => OUTSIDE.has(part));
}

/** What is wrong with each link of `markdown`, read as the repository file `file`; empty when nothing is. */
function linkProblems(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    const problem = linkProblem(file, markdown, target);
    if (problem !== undefined) problems.push(`${file}:${line}: ${target}: ${problem}`);
  }
  return problems;
}

function linkProblem(file: string, markdown: string, target: string): string | undefined {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(target)?.[0].toLowerCase();
  if (scheme !== undefined) {
    if (EXTERNAL_SCHEMES.has(scheme)) return undefined;
    return `a ${scheme.slice(0, -1)} link: only http(s) and mailto links may leave the repository`;
  }
  if (target.startsWith("//")) return "a protocol-relative link: write https://";
  const hash = target.indexOf("#");
  const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, "");
  const fragment = hash < 0 ? undefined : target.slice(hash + 1);
  if (pathPart.startsWith("/")) return "a root-relative link works on GitHub only: make it relative to this file";
  let decodedPath: string;
  let decodedFragment: string | undefined;
  try {
    decodedPath = decodeURIComponent(pathPart);
    decodedFragment = fragment === undefined ? undefined : decodeURIComponent(fragment);
  } catch {
    return "not a valid percent-encoded link";
  }
  const absolute = decodedPath === "" ? join(ROOT, file) : join(ROOT, dirname(file), decodedPath);
  if (!insideRepository(absolute)) return "leaves the repository: link to a file in it";
  if (!existsSync(absolute)) return "no such file in the repository";
  const real = relative(realpathSync(ROOT), realpathSync(absolute));
  if (real.startsWith("..") || isAbsolute(real)) return "leaves the repository through a symbolic link";
  if (decodedFragment === undefined || decodedFragment === "" || !/\.md$/i.test(absolute)) return undefined;
  if (statSync(absolute).isDirectory()) return undefined;
  const anchors = decodedPath === "" ? anchorsOf(markdown) : anchorsOfFile(absolute);
  if (anchors.has(decodedFragment)) return undefined;
  const near = [...anchors].filter((a) => a.startsWith(decodedFragment.slice(0, 3)));
  return `no heading with this anchor in ${relative(ROOT, absolute).replaceAll("\\", "/")}` +
    (near.length > 0 ? ` (similar: ${near.map((a) => `#${a}`).join(", ")})` : "");
}

// --- Tests ------------------------------------------------------------------------------------------------------

describe("Markdown links", () => {
  it("githubSlug() makes GitHub's anchors: lowercase, - and _ kept, other punctuation dropped, spaces to -", () => {
    const cases: [string, string][] = [
      ["R4: Future states", "r4-future-states"],
      ["R4 — Future states", "r4--future-states"],
      [
        "Big values: typed arrays, buffers, shared memory, transfer()",
        "big-values-typed-arrays-buffers-shared-memory-transfer",
      ],
      ["heading with a - dash", "heading-with-a---dash"],
      ["heading with an _ underscore", "heading-with-an-_-underscore"],
      [
        "exchange.bind_headers(exchange, routing [, bindCallback])",
        "exchangebind_headersexchange-routing--bindcallback",
      ],
      ["apostrophe’s should be trimmed", "apostrophes-should-be-trimmed"],
      ["I ♥ unicode", "i--unicode"],
      ["Привет non-latin 你好", "привет-non-latin-你好"],
    ];
    for (const [text, slug] of cases) assert.equal(githubSlug(text), slug, text);
  });

  it("anchorsOf() reads headings as rendered (code, links, emphasis), numbers repeats, and skips code blocks", () => {
    const markdown = [
      "# The `result()` method",
      "## [Links](x.md) and **bold** and _emphasis_ and snake_case",
      "Setext heading",
      "--------------",
      "```md",
      "# not a heading",
      "```",
      "## echo",
      "## echo",
      "## echo 1",
      '<a id="custom-anchor"></a>',
      "- a list item",
      "---",
    ].join("\n");
    assert.deepEqual([...anchorsOf(markdown)].sort(), [
      "custom-anchor",
      "echo",
      "echo-1",
      "echo-1-1",
      "links-and-bold-and-emphasis-and-snake_case",
      "setext-heading",
      "the-result-method",
    ]);
  });

  it("linkProblems() rejects links outside the repository, missing files, unknown anchors and odd schemes", () => {
    const markdown = [
      "The rule book: [semantics](../shared/spec/semantics.md).",
      "[missing](docs/no-such-file.md), [bad anchor](docs/rules.md#r4-no-such-rule), [self](#nowhere)",
      "[installed](node_modules/fast-check/package.json), [root](/docs/rules.md), [file](file:///etc/passwd)",
      '<img src="../outside.svg">',
      "[ok](docs/rules.md#r4-future-states), [ok](https://example.com/x#y), [ok](#the-heading), `[code](../x.md)`",
      '[ok](bench/results/chart.svg), [ok](<docs/rules.md> "title"), [ok](src/), [ok](README.md#procpool)',
      "## The heading",
      "```",
      "[in a code block](../nowhere.md)",
      "```",
    ].join("\n");
    const problems = linkProblems("README.md", markdown);
    assert.deepEqual(problems.map((p) => p.split(": ")[0] + ": " + p.split(": ")[1]), [
      "README.md:1: ../shared/spec/semantics.md",
      "README.md:2: docs/no-such-file.md",
      "README.md:2: docs/rules.md#r4-no-such-rule",
      "README.md:2: #nowhere",
      "README.md:3: node_modules/fast-check/package.json",
      "README.md:3: /docs/rules.md",
      "README.md:3: file:///etc/passwd",
      "README.md:4: ../outside.svg",
    ]);
    assert.match(problems[0], /leaves the repository/);
    assert.match(problems[2], /no heading with this anchor in docs\/rules\.md \(similar: #r4-future-states\)/);
  });

  const markdownFiles = repositoryFiles((name) => name.endsWith(".md"));

  it("finds the repository's Markdown files, docs/rules.md among them", () => {
    assert.ok(markdownFiles.includes("README.md") && markdownFiles.includes("docs/rules.md"), markdownFiles.join());
  });

  for (const file of markdownFiles) {
    it(`${file}: every relative link reaches a file in the repository, every #anchor a heading`, () => {
      assert.deepEqual(linkProblems(file, readFileSync(join(ROOT, file), "utf8")), []);
    });
  }
});

describe("docs/rules.md", () => {
  const rules = readFileSync(join(ROOT, "docs/rules.md"), "utf8");
  const defined = [
    ...[...rules.matchAll(/^## (R\d+): /gm)].map((m) => m[1]),
    ...[...rules.matchAll(/^- \*\*(R\d+\.\d+)\*\* /gm)].map((m) => m[1]),
  ];

  it("R1–R10 each have a heading whose anchor is #rN-…, and every point an id of its own", () => {
    const headings = defined.filter((id) => !id.includes("."));
    assert.deepEqual(headings, Array.from({ length: 10 }, (_, i) => `R${i + 1}`));
    assert.equal(new Set(defined).size, defined.length, "an id is defined twice");
    const anchors = anchorsOf(rules);
    for (const id of headings) {
      assert.ok([...anchors].some((a) => a.startsWith(`${id.toLowerCase()}-`)), `no #${id.toLowerCase()}-… anchor`);
    }
    for (const id of defined.filter((id) => id.includes("."))) {
      assert.ok(headings.includes(id.split(".")[0]), `${id} has no rule heading`);
    }
  });

  it("every rule id that code, tests and docs cite (R7.4, …) has its entry", () => {
    const known = new Set(defined);
    const missing: string[] = [];
    for (const file of repositoryFiles((name) => /\.(ts|mjs|md|yml)$/.test(name))) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const m of text.matchAll(/\bR\d+(?:\.\d+)?\b/g)) {
        if (!known.has(m[0])) missing.push(`${file}: ${m[0]}`);
      }
    }
    assert.deepEqual([...new Set(missing)], []);
  });
});
