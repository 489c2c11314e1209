#!/usr/bin/env node
// Reference outputs of the nsfwjs Inception v3 from TensorFlow.js itself, for section 08's Go check.
//
//   node scripts/inception_reference.js        (needs `make data`, npm and the npm registry; about 3 minutes)
//
// 1. Installs @tensorflow/tfjs@4.22.0 and nsfwjs@4.4.0 into a temporary npm folder.
// 2. Has Go write the preprocessed photos (pretrained.Preprocess: pixels / 255, bilinear resize to 299×299 with
//    align_corners, as nsfwjs's infer does) as raw little-endian float32 files, so both sides see identical inputs.
// 3. Loads the model through nsfwjs's own loader (nsfwjs.load("InceptionV3"), which reads the bundled
//    model.min.js and shards) on the pure-JavaScript CPU backend (tf.setBackend("cpu")), and runs each input.
// 4. Writes gomlx_models/pretrained/testdata/nsfwjs_reference.json: per photo the input's SHA-256, the logits
//    (dense_3 before its softmax: dense_2's output · W + b), the probabilities (the model's own softmax output)
//    and strided samples of the mixed2, mixed7, mixed10, flatten_1 and dense_2 activations.
"use strict";
const { execFileSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { createRequire } = require("module");

const TFJS = "4.22.0";
const NSFWJS = "4.4.0";
const PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png"];
const SIZE = 299;
// Keras layer → Go tap (models.InceptionV3WithTaps) and the stride of the sample taken from the flattened NHWC
// activation (primes, so that the samples visit many channels and positions).
const TAPS = [
  { keras: "mixed2", tap: "mixed2", stride: 701 },
  { keras: "mixed7", tap: "mixed7", stride: 443 },
  { keras: "mixed10", tap: "mixed10", stride: 263 },
  { keras: "flatten_1", tap: "avg_pool", stride: 4 },
  { keras: "dense_2", tap: "dense2", stride: 1 },
];

const root = path.resolve(__dirname, "..");
const out = path.join(root, "gomlx_models", "pretrained", "testdata", "nsfwjs_reference.json");

function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "convnotes-tfjs-"));
  try {
    fs.writeFileSync(path.join(tmp, "package.json"), JSON.stringify({ private: true }));
    console.log(`installing @tensorflow/tfjs@${TFJS} nsfwjs@${NSFWJS} into ${tmp}`);
    execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", `@tensorflow/tfjs@${TFJS}`, `nsfwjs@${NSFWJS}`],
      { cwd: tmp, stdio: "inherit" });
    const inputs = path.join(tmp, "inputs");
    fs.mkdirSync(inputs);
    console.log("writing the preprocessed inputs from Go");
    execFileSync("go", ["test", "-count=1", "-run", "TestNSFWJSMatchesTFJS", "./gomlx_models/pretrained/"],
      { cwd: root, stdio: "inherit", env: { ...process.env, CONVNOTES_WRITE_INCEPTION_INPUTS: inputs } });
    return run(createRequire(path.join(tmp, "package.json")), inputs).finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function run(req, inputs) {
  const tf = req("@tensorflow/tfjs");
  const nsfwjs = req("nsfwjs");
  await tf.setBackend("cpu");
  await tf.ready();
  if (tf.version.tfjs !== TFJS || tf.getBackend() !== "cpu") {
    throw new Error(`got tfjs ${tf.version.tfjs} on ${tf.getBackend()}, want ${TFJS} on cpu`);
  }
  const clf = await nsfwjs.load("InceptionV3", { size: SIZE });
  const lm = clf.model;
  const outputs = TAPS.map((t) => lm.getLayer(t.keras).output).concat([lm.outputs[0]]);
  const probe = tf.model({ inputs: lm.inputs, outputs });
  const [w3, b3] = lm.getLayer("dense_3").getWeights();
  const images = [];
  for (const name of PHOTOS) {
    const raw = fs.readFileSync(path.join(inputs, name + ".f32"));
    const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (x.length !== SIZE * SIZE * 3) throw new Error(`${name}.f32: ${x.length} values`);
    const t0 = Date.now();
    const res = tf.tidy(() => {
      const ys = probe.predict(tf.tensor4d(x, [1, SIZE, SIZE, 3]));
      const dense2 = ys[TAPS.findIndex((t) => t.keras === "dense_2")];
      return ys.concat([tf.add(tf.matMul(dense2, w3), b3)]);
    });
    const taps = TAPS.map((t, i) => {
      const all = res[i].dataSync();
      const values = [];
      for (let k = 0; k < all.length; k += t.stride) values.push(all[k]);
      return { keras: t.keras, tap: t.tap, shape: res[i].shape, stride: t.stride, values };
    });
    const probabilities = Array.from(res[TAPS.length].dataSync());
    const logits = Array.from(res[TAPS.length + 1].dataSync());
    tf.dispose(res);
    console.log(`${name}: ${Date.now() - t0} ms, logits ${logits.map((v) => v.toFixed(4)).join(" ")}`);
    images.push({
      name,
      input_sha256: crypto.createHash("sha256").update(raw).digest("hex"),
      logits, probabilities, taps,
    });
  }
  const fixture = {
    tfjs_version: tf.version.tfjs, nsfwjs_version: NSFWJS, backend: tf.getBackend(),
    preprocessing: "pretrained.Preprocess: RGB / 255, tf.image.resizeBilinear to 299x299 with alignCorners=true (nsfwjs infer); float32 NHWC written by Go",
    images,
  };
  fs.writeFileSync(out, JSON.stringify(fixture) + "\n");
  console.log(`wrote ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
}

Promise.resolve().then(main).catch((e) => {
  console.error(`inception_reference: ${e.message}`);
  process.exit(1);
});
