#!/usr/bin/env node
// Offline check of the Kubernetes manifests in a directory (default
// deploy/kubernetes):
//  1. every object validates against the Kubernetes OpenAPI schemas carried by
//     kubernetes-models (types, required fields, enums);
//  2. no unknown field anywhere (a typo such as `livenesProbe` is otherwise
//     ignored by the API server), using the field lists of
//     @kubernetes/client-node's models;
//  3. the properties bobsync relies on: one replica, Recreate, probes on
//     /healthz and /readyz, Prometheus annotations, the Secret / ConfigMap /
//     PVC the Deployment names exist and hold what it reads.
// Prints one line per problem and exits 1 if there is any.
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
// Only the generated models (field lists), not the API client: the client's
// dependencies want a newer Node.js than Debian 12's.
const k8s = require('@kubernetes/client-node/dist/gen/model/models');

const dir = process.argv[2] || path.join(__dirname, '..', '..', 'deploy', 'kubernetes');
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

// --- 1. schemas -------------------------------------------------------------

function loadModel(apiVersion, kind) {
  const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    return require(modulePath)[kind];
  } catch (e) {
    return null;
  }
}

// --- 2. unknown fields ------------------------------------------------------

function modelClass(apiVersion, kind) {
  const version = apiVersion.split('/').pop(); // "apps/v1" -> "v1"
  const name = version.charAt(0).toUpperCase() + version.slice(1) + kind;
  return k8s[name] || null;
}

function checkFields(where, value, type) {
  if (value === null || value === undefined) {
    return;
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) {
      problem(where, `expected a list (${type})`);
      return;
    }
    value.forEach((item, i) => checkFields(`${where}[${i}]`, item, array[1]));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      problem(where, `expected a map (${type})`);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      checkFields(`${where}.${key}`, item, map[1]);
    }
    return;
  }
  const cls = k8s[type];
  if (cls && typeof cls.getAttributeTypeMap === 'function') {
    if (typeof value !== 'object' || Array.isArray(value)) {
      problem(where, `expected an object (${type})`);
      return;
    }
    const known = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [key, item] of Object.entries(value)) {
      if (!known.has(key)) {
        problem(where, `unknown field "${key}" (${type} has: ${[...known.keys()].join(', ')})`);
        continue;
      }
      checkFields(`${where}.${key}`, item, known.get(key));
    }
  }
  // Scalars, IntOrString, Quantity, object/any: the schema check covers them.
}

// --- load -------------------------------------------------------------------

const objects = [];
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
let kustomization = null;
for (const file of files) {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  let docs;
  try {
    docs = yaml.loadAll(text);
  } catch (e) {
    problem(file, `not YAML: ${e.message}`);
    continue;
  }
  for (const doc of docs.filter((d) => d !== null && d !== undefined)) {
    if (doc.kind === 'Kustomization') {
      kustomization = { file, doc };
      continue;
    }
    objects.push({ file, doc });
  }
}

if (kustomization) {
  const listed = kustomization.doc.resources || [];
  for (const resource of listed) {
    if (!files.includes(resource)) {
      problem(kustomization.file, `lists ${resource}, which does not exist`);
    }
  }
  for (const file of files) {
    if (file !== kustomization.file && !listed.includes(file)) {
      problem(kustomization.file, `does not list ${file}`);
    }
  }
}

for (const { file, doc } of objects) {
  const where = `${file} ${doc.kind}/${(doc.metadata || {}).name}`;
  if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    problem(file, 'an object without apiVersion or kind');
    continue;
  }
  const Model = loadModel(doc.apiVersion, doc.kind);
  if (!Model) {
    problem(where, `unknown apiVersion/kind ${doc.apiVersion}/${doc.kind}`);
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    problem(where, `schema: ${e.message}`);
  }
  const cls = modelClass(doc.apiVersion, doc.kind);
  if (!cls) {
    problem(where, `no field list for ${doc.apiVersion}/${doc.kind}`);
  } else {
    checkFields(where, doc, cls.name);
  }
}

// --- 3. what bobsync relies on ------------------------------------------------

const byKind = (kind) => objects.filter((o) => o.doc.kind === kind).map((o) => o.doc);
const deployments = byKind('Deployment');
if (deployments.length !== 1) {
  problem(dir, `expected exactly one Deployment, found ${deployments.length}`);
}
const secrets = byKind('Secret');
const configMaps = byKind('ConfigMap');
const claims = byKind('PersistentVolumeClaim');
const services = byKind('Service');
if (secrets.length !== 1) problem(dir, 'expected one Secret');
if (configMaps.length !== 1) problem(dir, 'expected one ConfigMap');
if (claims.length !== 1) problem(dir, 'expected one PersistentVolumeClaim');

const k_secret_keys = ['BOB_SERVICE_USER_ID', 'BOB_SERVICE_USER_TOKEN', 'BOB_WEBHOOK_SECRET', 'JUMPCLOUD_API_KEY'];
for (const secret of secrets) {
  const data = Object.assign({}, secret.stringData || {}, secret.data || {});
  for (const key of k_secret_keys) {
    if (!(key in data)) problem(`Secret/${secret.metadata.name}`, `no key ${key}`);
  }
  for (const [key, value] of Object.entries(secret.stringData || {})) {
    if (!String(value).startsWith('replace-with-')) {
      problem(`Secret/${secret.metadata.name}`, `${key} must be a placeholder (replace-with-...), not a value`);
    }
  }
  if (secret.data && Object.keys(secret.data).length > 0) {
    problem(`Secret/${secret.metadata.name}`, 'use stringData placeholders, never base64 data, in git');
  }
}

for (const d of deployments) {
  const where = `Deployment/${d.metadata.name}`;
  const spec = d.spec || {};
  if (spec.replicas !== 1) problem(where, 'replicas must be 1 (one controller per database)');
  if (!spec.strategy || spec.strategy.type !== 'Recreate') {
    problem(where, 'strategy.type must be Recreate (the old pod must let go of the database first)');
  }
  const template = spec.template || {};
  const pod = template.spec || {};
  const annotations = (template.metadata || {}).annotations || {};
  const containers = pod.containers || [];
  if (containers.length !== 1) problem(where, 'expected one container');
  const c = containers[0] || {};
  const ports = c.ports || [];
  const port = ports.length > 0 ? ports[0].containerPort : undefined;
  if (annotations['prometheus.io/scrape'] !== 'true') problem(where, 'pod annotation prometheus.io/scrape must be "true"');
  if (annotations['prometheus.io/path'] !== '/metrics') problem(where, 'pod annotation prometheus.io/path must be /metrics');
  if (String(annotations['prometheus.io/port']) !== String(port)) {
    problem(where, `pod annotation prometheus.io/port (${annotations['prometheus.io/port']}) must be the container port (${port})`);
  }
  const probePath = (probe) => probe && probe.httpGet && probe.httpGet.path;
  if (probePath(c.livenessProbe) !== '/healthz') problem(where, 'livenessProbe must GET /healthz');
  if (probePath(c.readinessProbe) !== '/readyz') problem(where, 'readinessProbe must GET /readyz');
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    if (probe && probe.httpGet) {
      const p = probe.httpGet.port;
      if (p !== port && !ports.some((x) => x.name === p)) problem(where, `probe port ${p} is not a container port`);
    }
  }
  const args = c.args || [];
  const listen = args[args.indexOf('--listen') + 1];
  if (args[0] !== 'run') problem(where, 'the container must run `bobsync run`');
  if (!listen || !listen.endsWith(`:${port}`)) problem(where, `--listen (${listen}) must use the container port ${port}`);
  const policyPath = args[args.indexOf('-f') + 1];

  const volumes = Object.fromEntries((pod.volumes || []).map((v) => [v.name, v]));
  const mounts = c.volumeMounts || [];
  const mountOf = (predicate) => mounts.find((m) => volumes[m.name] && predicate(volumes[m.name]));
  const claimMount = mountOf((v) => v.persistentVolumeClaim);
  const configMount = mountOf((v) => v.configMap);
  const secretMount = mountOf((v) => v.secret);
  if (!claimMount) {
    problem(where, 'the database volume (PVC) is not mounted');
  } else if (!claims.some((p) => p.metadata.name === volumes[claimMount.name].persistentVolumeClaim.claimName)) {
    problem(where, 'the mounted PVC is not defined here');
  }
  if (!configMount) {
    problem(where, 'the policy ConfigMap is not mounted');
  } else {
    const cm = configMaps.find((m) => m.metadata.name === volumes[configMount.name].configMap.name);
    if (!cm) problem(where, 'the mounted ConfigMap is not defined here');
    else if (!policyPath || !cm.data || !(path.posix.relative(configMount.mountPath, policyPath) in cm.data)) {
      problem(where, `-f ${policyPath} is not a key of the mounted ConfigMap`);
    }
  }
  const env = Object.fromEntries((c.env || []).map((e) => [e.name, e.value]));
  if (!env.BOBSYNC_DB || !claimMount || !env.BOBSYNC_DB.startsWith(claimMount.mountPath + '/')) {
    problem(where, 'BOBSYNC_DB must be a file on the PVC');
  }
  for (const key of k_secret_keys) {
    const file = env[`${key}_FILE`];
    if (!secretMount || !file || file !== `${secretMount.mountPath}/${key}`) {
      problem(where, `${key}_FILE must name ${key} in the mounted Secret`);
    }
  }
  if (secretMount && !secrets.some((s) => s.metadata.name === volumes[secretMount.name].secret.secretName)) {
    problem(where, 'the mounted Secret is not defined here');
  }
  const sc = c.securityContext || {};
  if (sc.allowPrivilegeEscalation !== false) problem(where, 'allowPrivilegeEscalation must be false');
  if (!(pod.securityContext || {}).runAsNonRoot) problem(where, 'runAsNonRoot must be true');

  for (const s of services) {
    const labels = (template.metadata || {}).labels || {};
    for (const [k, v] of Object.entries(s.spec.selector || {})) {
      if (labels[k] !== v) problem(`Service/${s.metadata.name}`, `selector ${k}=${v} does not match the pod`);
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`kubernetes: ${p}`);
  process.exit(1);
}
console.log(`kubernetes: ${objects.length} objects in ${dir} valid`);
