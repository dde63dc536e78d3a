// Validates GitLab CI files against GitLab's published CI schema (the
// `ci.json` of gitlab.com/gitlab-org/gitlab, $id https://gitlab.com/.gitlab-ci.yml)
// as the pinned gitlab-ci-local package ships it, offline. gitlab-ci-local
// needs a newer Node.js than Debian's to run, so the schema object is read
// out of its bundle rather than by running it.
//
//   node check-gitlab-ci.js FILE...
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const yaml = require("js-yaml");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

function gitlabSchema() {
  const bundle = fs.readFileSync(
    path.join(__dirname, "node_modules/gitlab-ci-local/dist/index.js"), "utf8");
  const marker = '{$schema:"http://json-schema.org/draft-07/schema#",$id:"https://gitlab.com/.gitlab-ci.yml"';
  const start = bundle.indexOf(marker);
  if (start < 0) throw new Error("GitLab CI schema not found in gitlab-ci-local's bundle");
  // The end of the object literal: balanced braces outside strings.
  let depth = 0, quote = null;
  for (let i = start; i < bundle.length; ++i) {
    const c = bundle[i];
    if (quote) {
      if (c === "\\") ++i;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "{") ++depth;
    else if (c === "}" && --depth === 0) {
      return vm.runInNewContext("(" + bundle.slice(start, i + 1) + ")");
    }
  }
  throw new Error("GitLab CI schema in gitlab-ci-local's bundle is not complete");
}

const schema = gitlabSchema();
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);
let failed = 0;
for (const file of process.argv.slice(2)) {
  const doc = yaml.load(fs.readFileSync(file, "utf8"));
  if (validate(doc)) {
    console.log(`${file}: valid (GitLab CI schema)`);
  } else {
    ++failed;
    for (const e of validate.errors) {
      console.error(`${file}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
