// Times ONNX Runtime (node binding) on one model: median and min ms per
// inference over N runs after a warm-up, and the peak RSS.
//   node ort-bench.js MODEL.onnx RUNS THREADS 1x3x640x640 [...]
// (one shape per model input, in the model's input order)
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, runs, threads, ...shapes] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    executionMode: 'sequential',
  });
  const feeds = {};
  let seed = 1;
  for (let k = 0; k < shapes.length; k++) {
    const name = session.inputNames[k];
    const shape = shapes[k].split('x').map(Number);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = (seed >>> 8) / 8388608 - 1;
    }
    feeds[name] = new ort.Tensor('float32', data, shape);
  }
  await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const m = times.length;
  const median = m % 2 ? times[(m - 1) / 2] : (times[m / 2 - 1] + times[m / 2]) / 2;
  const rss = process.resourceUsage().maxRSS; // KiB
  console.log(JSON.stringify({ median, min: times[0], rss_kib: rss }));
}

main().catch((e) => {
  console.error('ort-bench: ' + e.message);
  process.exit(1);
});
