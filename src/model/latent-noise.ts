/** The paper's latent noise: Gaussian noise on each latent fed back (Reasoner rollout, COCONUT steps). */
import { addGaussianNoise } from "../engine/ops/noise.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";

/** Gaussian noise on every latent: std = scale (absolute) or scale × the latent's largest |element|. */
export interface LatentNoise {
  scale: number;
  relativeToMax: boolean;
  rng: Rng;
}

/**
 * latent + N(0, σ²) per row, σ = scale × the row's largest |element| (relativeToMax) or scale:
 * the paper's latent noise, "σ × the maximum value of the latent vector".
 */
export function noisyLatent(latent: Tensor, noise: LatentNoise): Tensor {
  if (!noise.relativeToMax) return addGaussianNoise(latent, noise.scale, noise.rng);
  const D = latent.lastDim;
  const v = latent.view();
  const std = new Float32Array(v.length / D);
  for (let r = 0; r < std.length; r++) {
    let m = 0;
    for (let j = 0; j < D; j++) m = Math.max(m, Math.abs(v[r * D + j]));
    std[r] = noise.scale * m;
  }
  return addGaussianNoise(latent, std, noise.rng);
}
