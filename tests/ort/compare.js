#!/usr/bin/env node
// tests/ort/compare.js - checks that an ONNX model exported by qir loads in
// ONNX Runtime and gives the same outputs as the original model.
//
// usage: node compare.js ORIGINAL.onnx EXPORTED.onnx [name:1x3x64x64;...]
//
// Inputs are deterministic pseudo-random values in [0, 1) with the shapes of
// the exported model (whose inputs are static) or of the optional shape
// list.  Outputs are matched in order; each element must agree within
// 1e-5 relative (and 1e-5 absolute near zero).  Exit status 0 when all agree.
'use strict';
const ort = require('onnxruntime-node');

const RTOL = 1e-5;
const ATOL = 1e-5;

function parseShapes(spec) {
  const shapes = {};
  if (!spec) return shapes;
  for (const entry of spec.split(';').filter(Boolean)) {
    const colon = entry.lastIndexOf(':');
    shapes[entry.slice(0, colon)] = entry.slice(colon + 1).split('x').map(Number);
  }
  return shapes;
}

// A small linear congruential generator: the same inputs on every run.
function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function makeInput(meta, shape, random) {
  const n = shape.reduce((a, b) => a * b, 1);
  switch (meta.type) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from({length: n}, random), shape);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from({length: n}, () => BigInt(Math.floor(random() * 4))), shape);
    case 'int32': return new ort.Tensor('int32', Int32Array.from({length: n}, () => Math.floor(random() * 4)), shape);
    default: throw new Error(`input '${meta.name}' has type ${meta.type}, which compare.js does not generate`);
  }
}

function compareTensors(name, a, b) {
  if (a.dims.join('x') !== b.dims.join('x'))
    return `output '${name}': shape ${a.dims.join('x')} vs ${b.dims.join('x')}`;
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = Number(a.data[i]), y = Number(b.data[i]);
    const err = Math.abs(x - y);
    if (err > ATOL + RTOL * Math.abs(x)) worst = Math.max(worst, err);
    if (Number.isNaN(x) !== Number.isNaN(y)) return `output '${name}': NaN mismatch at ${i}`;
  }
  return worst ? `output '${name}': differs by up to ${worst}` : null;
}

async function main() {
  const [original, exported, spec] = process.argv.slice(2);
  if (!original || !exported) {
    console.error('usage: node compare.js ORIGINAL.onnx EXPORTED.onnx [name:dims;...]');
    process.exit(2);
  }
  ort.env.logLevel = 'error';
  const opts = {logSeverityLevel: 3};
  const a = await ort.InferenceSession.create(original, opts);
  const b = await ort.InferenceSession.create(exported, opts);
  const shapes = parseShapes(spec);
  const random = makeRandom(42);
  const feedsA = {}, feedsB = {};
  a.inputMetadata.forEach((meta, i) => {
    const metaB = b.inputMetadata[i];
    const shape = shapes[meta.name] || metaB.shape;
    if (shape.some((d) => typeof d !== 'number' || d < 0))
      throw new Error(`input '${meta.name}' needs a static shape`);
    const t = makeInput(meta, shape, random);
    feedsA[meta.name] = t;
    feedsB[b.inputNames[i]] = t;
  });
  const outA = await a.run(feedsA);
  const outB = await b.run(feedsB);
  let failed = false;
  a.outputNames.forEach((name, i) => {
    const err = compareTensors(name, outA[name], outB[b.outputNames[i]]);
    if (err) {
      console.log('MISMATCH ' + err);
      failed = true;
    }
  });
  console.log(`${failed ? 'FAIL' : 'OK'}: ${a.outputNames.length} outputs of ${exported} ` +
              `${failed ? 'differ from' : 'match'} ${original}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error('compare.js: error: ' + e.message);
  process.exit(1);
});
