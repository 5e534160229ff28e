// Runs ONNX Runtime on .npy inputs and writes each output as <name>.npy
// (float32, C order), for the differential tests of qir-run.
//   node ort-run.js [--graph-opt=all|basic|extended|disabled] MODEL.onnx
//        OUT-DIR IN0.npy [IN1.npy ...]
// (--graph-opt: ONNX Runtime's graph optimization level, default all)
// (one .npy per model input, in the model's input order; float32, or the
// int8/uint8/int16/uint16 storage of quantized inputs and outputs)
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// .npy descr <-> ONNX Runtime tensor type and typed array.
const DTYPES = [
  { descr: '<f4', type: 'float32', Array: Float32Array },
  { descr: '|i1', type: 'int8', Array: Int8Array },
  { descr: '|u1', type: 'uint8', Array: Uint8Array },
  { descr: '<i2', type: 'int16', Array: Int16Array },
  { descr: '<u2', type: 'uint16', Array: Uint16Array },
];

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not .npy');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const dt = DTYPES.find((d) => header.includes(`'${d.descr}'`));
  if (!dt) throw new Error(file + ': float32 or 8/16-bit integers only');
  if (header.includes('True')) throw new Error(file + ': C order only');
  const m = header.match(/'shape': \(([^)]*)\)/);
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const off = start + hlen;
  const data = new dt.Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length));
  return new ort.Tensor(dt.type, data, shape);
}

function writeNpy(file, tensor) {
  const dt = DTYPES.find((d) => d.type === tensor.type);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${dt.descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(dt.Array.from(tensor.data).buffer);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
}

// qir-run's file names: '/', ':', '\\' -> '_'; over 200 bytes, the first 180
// and '-' + the FNV-1a hash of the whole name.
function fileName(name) {
  let h = 2166136261;
  const bytes = Buffer.from(name, 'utf8');
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  let base = bytes.length > 200 ? bytes.subarray(0, 180).toString('latin1') : name;
  base = base.replace(/[/:\\]/g, '_');
  if (bytes.length > 200) base += '-' + h.toString(16).padStart(8, '0');
  return base + '.npy';
}

async function main() {
  const args = process.argv.slice(2);
  let graphOpt = 'all';
  if (args.length && args[0].startsWith('--graph-opt=')) graphOpt = args.shift().slice(12);
  if (!['all', 'basic', 'extended', 'disabled'].includes(graphOpt))
    throw new Error(`unknown --graph-opt level '${graphOpt}'`);
  const [model, outDir, ...inputs] = args;
  const session = await ort.InferenceSession.create(
    model, { logSeverityLevel: 3, graphOptimizationLevel: graphOpt });
  const feeds = {};
  inputs.forEach((f, k) => { feeds[session.inputNames[k]] = readNpy(f); });
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames) {
    if (!DTYPES.some((d) => d.type === results[name].type)) continue;
    const file = path.join(outDir, fileName(name));
    writeNpy(file, results[name]);
    console.log(name + ' -> ' + file);
  }
}

main().catch((e) => {
  console.error('ort-run: ' + e.message);
  process.exit(1);
});
