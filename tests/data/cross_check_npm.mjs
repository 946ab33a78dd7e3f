// Cross-check tests/data/vectors.json against the npm package
// @aws/bedrock-token-generator (the JavaScript sibling of the Python reference).
//
// How to run (node_modules stays outside the repository):
//
//   mkdir -p /tmp/npmcheck && cd /tmp/npmcheck && npm init -y >/dev/null
//   npm install @aws/bedrock-token-generator@1.1.0
//   node /path/to/repo/tests/data/cross_check_npm.mjs        # run from /tmp/npmcheck
//   node /path/to/repo/tests/data/cross_check_npm.mjs --write  # also (re)writes vectors_npm.json
//
// The package is resolved from the current working directory (or from
// $BEDROCK_TOKEN_GENERATOR_JS_DIR if set).
//
// Freezing the clock: the package's createToken() calls
// `new SignatureV4(...).presign(request, { expiresIn })` from @smithy/signature-v4,
// and presign() takes the signing time from its documented `signingDate`
// option (default `new Date()`). We wrap SignatureV4.prototype.presign of the
// very module instance the package loads and fill in `signingDate` with the
// vector's signing time. Nothing else is changed; every produced token is
// decoded to check that X-Amz-Date really is the frozen time.
//
// Output: one line per vector, then a summary:
//   IDENTICAL  the npm token is byte-identical to the Python reference token;
//   REORDERED  not byte-identical, but the decoded URLs carry exactly the same
//              query parameters with the same values (so the same
//              X-Amz-Signature) and differ only in parameter order;
//   DIFFERENT  anything else (shows the first difference).
// Exit code 1 if any vector is DIFFERENT, else 0.
//
// Result with @aws/bedrock-token-generator 1.1.0 / @smithy/signature-v4 5.7.5:
// every vector is REORDERED. Signatures agree; the JS library serialises the
// query parameters sorted by name (@smithy's query-string builder sorts keys:
// ...X-Amz-Expires, X-Amz-Security-Token, X-Amz-Signature,
// X-Amz-SignedHeaders, then &Version=1), while botocore keeps insertion order
// (...X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token,
// X-Amz-Signature, &Version=1). vectors.json follows the Python reference.

import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const baseDir = process.env.BEDROCK_TOKEN_GENERATOR_JS_DIR ?? process.cwd();
const requireFromBase = createRequire(join(baseDir, "noop.js"));

const pkgEntry = requireFromBase.resolve("@aws/bedrock-token-generator");
const pkgJsonPath = requireFromBase.resolve("@aws/bedrock-token-generator/package.json");
const pkgVersion = JSON.parse(readFileSync(pkgJsonPath, "utf8")).version;
const requireFromPkg = createRequire(pkgEntry);
const { getToken } = requireFromPkg(pkgEntry);
// Same module instance the package's token.js uses.
const { SignatureV4 } = requireFromPkg("@smithy/signature-v4");
const sigv4Version = JSON.parse(
  readFileSync(requireFromPkg.resolve("@smithy/signature-v4/package.json"), "utf8"),
).version;

let frozen = null;
const originalPresign = SignatureV4.prototype.presign;
SignatureV4.prototype.presign = function (request, options = {}) {
  if (frozen === null) throw new Error("clock not frozen");
  if (options.signingDate !== undefined) throw new Error("package passed its own signingDate");
  return originalPresign.call(this, request, { ...options, signingDate: frozen });
};

const PREFIX = "bedrock-api-key-";
const decode = (tok) => Buffer.from(tok.slice(PREFIX.length), "base64").toString("utf8");
const amzStamp = (iso) => iso.replace(/[-:]/g, "").replace(/\.\d+/, ""); // 2026-11-25T13:00:00Z -> 20261125T130000Z

const data = JSON.parse(readFileSync(join(here, "vectors.json"), "utf8"));
let same = 0;
let reordered = 0;
let diff = 0;
let printedExample = false;
const exampleLines = [];
const npmTokens = {};
console.log(
  `npm @aws/bedrock-token-generator ${pkgVersion} (@smithy/signature-v4 ${sigv4Version}) vs ${data.generator}`,
);
for (const v of data.vectors) {
  frozen = new Date(v.signing_time);
  const credentials = { accessKeyId: v.access_key_id, secretAccessKey: v.secret_access_key };
  if (v.session_token !== null) credentials.sessionToken = v.session_token;
  const token = await getToken({ credentials, region: v.region, expiresInSeconds: v.expires_in });
  frozen = null;
  npmTokens[v.name] = token;

  const url = decode(token);
  const stamp = new URLSearchParams(url.split("?")[1]).get("X-Amz-Date");
  if (stamp !== amzStamp(v.signing_time)) {
    throw new Error(`${v.name}: X-Amz-Date ${stamp} is not the frozen time ${v.signing_time}`);
  }

  const want = decode(v.token);
  const norm = (u) =>
    [...new URLSearchParams(u.split("?")[1])].map(([k, x]) => `${k}=${x}`).sort().join("&");
  if (token === v.token) {
    same++;
    console.log(`IDENTICAL  ${v.name}`);
  } else if (norm(url) === norm(want)) {
    reordered++;
    console.log(`REORDERED  ${v.name}`);
  } else {
    diff++;
    let i = 0;
    while (i < url.length && url[i] === want[i]) i++;
    console.log(`DIFFERENT  ${v.name}`);
    console.log(`  python: ...${want.slice(Math.max(0, i - 20), i + 60)}`);
    console.log(`  npm:    ...${url.slice(Math.max(0, i - 20), i + 60)}`);
  }
  if (!printedExample && token !== v.token) {
    printedExample = true;
    exampleLines.push(`example (${v.name}):`, `  python: ${want}`, `  npm:    ${url}`);
  }
}
for (const line of exampleLines) console.log(line);
// With --write, also record the npm tokens: tests/conformance.rs checks ours against them too.
if (process.argv.includes("--write")) {
  const out = {
    generator: `npm @aws/bedrock-token-generator ${pkgVersion} (@smithy/signature-v4 ${sigv4Version})`,
    tokens: npmTokens,
  };
  writeFileSync(join(here, "vectors_npm.json"), JSON.stringify(out, null, 2) + "\n");
  console.log("wrote tests/data/vectors_npm.json");
}
console.log(`${same} identical, ${reordered} reordered (same parameters and signature), ${diff} different`);
process.exit(diff === 0 ? 0 : 1);
