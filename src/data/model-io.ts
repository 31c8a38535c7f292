/**
 * Saving and loading TensorFlow.js models in a folder, without `@tensorflow/tfjs-node`.
 *
 * The files are TensorFlow.js' own layers-model format, the one `model.save("file://dir")` writes
 * under tfjs-node: `model.json` (topology, training config and a weights manifest) and
 * `weights.bin` (every weight, float32, in manifest order). So a model saved here loads with
 * `tf.loadLayersModel` in a browser or under tfjs-node, and the reverse.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { DataError, ErrorCode } from "../core/errors";

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

/** What {@link saveModel} wrote. */
export interface SavedModelInfo {
  /** Absolute path of `model.json`. */
  readonly modelPath: string;
  /** Absolute path of `weights.bin`. */
  readonly weightsPath: string;
  /** Bytes of weights written. */
  readonly weightBytes: number;
  /** Number of weight tensors. */
  readonly weightCount: number;
}

/**
 * Saves a model as `dir/model.json` and `dir/weights.bin`, creating `dir` when needed and
 * replacing an earlier save there.
 *
 * @example
 * ```ts
 * const info = await saveModel(model, "out/models/skin-cancer");
 * info.weightBytes;   // 21018792 for the tutorial's CNN (5,254,698 float32 weights)
 * ```
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<SavedModelInfo> {
  const root = path.resolve(dir);
  let info: SavedModelInfo | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined || artifacts.weightData === undefined) {
        throw new DataError(ErrorCode.INVALID_ARGUMENT, `saveModel: the model gave no topology or weights to save (is it a tf.LayersModel?).`);
      }
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
        ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: artifacts.userDefinedMetadata }),
      };
      fs.mkdirSync(root, { recursive: true });
      const modelPath = path.join(root, MODEL_JSON);
      const weightsPath = path.join(root, WEIGHTS_BIN);
      // Weights first, then the json that points at them: a crash midway never leaves a json over stale weights.
      writeAtomically(weightsPath, weights);
      writeAtomically(modelPath, JSON.stringify(modelJson));
      info = { modelPath, weightsPath, weightBytes: weights.byteLength, weightCount: artifacts.weightSpecs.length };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(modelJson) };
    }),
  );
  return info!;
}

/**
 * Loads a model that {@link saveModel} (or tfjs-node's `model.save("file://dir")`) wrote to
 * `dir`. Throws a `DataError` (`TSYFT_ERR_DATA_MISSING`) naming the folder when `model.json`
 * or a weights file it lists is absent.
 *
 * @example
 * ```ts
 * const model = await loadModel("out/models/skin-cancer");
 * model.predict(tf.zeros([1, 32, 32, 3]));
 * ```
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const root = path.resolve(dir);
  const modelPath = path.join(root, MODEL_JSON);
  if (!fs.existsSync(modelPath)) {
    throw new DataError(ErrorCode.DATA_MISSING, `loadModel: there is no ${MODEL_JSON} in ${root}. Save a model there first (saveModel(model, dir)).`, {
      path: modelPath,
    });
  }
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(fs.readFileSync(modelPath, "utf8")) as tf.io.ModelJSON;
  } catch (error) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `loadModel: ${modelPath} is not valid JSON (${(error as Error).message}).`, { path: modelPath });
  }
  if (modelJson === null || typeof modelJson !== "object" || modelJson.modelTopology === undefined) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `loadModel: ${modelPath} has no modelTopology; it is not a TensorFlow.js layers model.`, { path: modelPath });
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const buffers = manifest.flatMap((group) =>
      group.paths.map((relative) => {
        const file = path.resolve(root, relative);
        if (!fs.existsSync(file)) {
          throw new DataError(ErrorCode.DATA_MISSING, `loadModel: ${modelPath} lists the weights file ${relative}, which is not in ${root}.`, { path: file });
        }
        const bytes = fs.readFileSync(file);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      }),
    );
    return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}
