/** Images as the CNN takes them: the demo's digits and the benchmark's random images share this shape. */
import type * as tf from '@tensorflow/tfjs-core';

export interface ImageSet {
  /** Images [n, side, side, 1]. */
  x: tf.Tensor4D;
  /** One-hot labels [n, 10]. */
  y: tf.Tensor2D;
  /** The labels, for the page's sample predictions. */
  labels: Uint32Array;
}
