/**
 * Differential privacy: the RDP accountant of the sampled Gaussian mechanism (as Opacus and TF Privacy compute
 * it), Gaussian noise from a cryptographic source, DP-SGD's clip-and-noise step, and private-data annotations.
 * Above the grid in the layer order and usable alone: it imports only core.
 *
 * @example
 * ```ts
 * const accountant = new sy.dp.RDPAccountant();
 * accountant.step({ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: 1000 });
 * accountant.getEpsilon(1e-5);
 * const images = sy.dp.private(x, { min: 0, max: 1, dataSubjects: patientIds });
 * ```
 */
export { RDPAccountant, getNoiseMultiplier, type MechanismSteps, type PrivacySpentOptions } from "./accountant";
export { computeLogA, computeRdp, DEFAULT_ORDERS, rdpToEpsilon, type PrivacySpent, type RdpConversion } from "./rdp";
export { GaussianMechanism, gaussianNoise, standardNormal, type GaussianMechanismOptions } from "./noise";
export {
  PrivateTensor,
  privateTensor,
  privateTensor as private,
  type DataSubject,
  type PrivateOptions,
} from "./private";
export { clipAndNoise, type ClipAndNoiseOptions, type ClippedGradients } from "./clip";
