// Gradient of f(x, y) = x²/20 + y² at the parameter (x, y): (x/10, 2y). One invocation.
@group(0) @binding(0) var<storage, read> position: array<f32>;
@group(0) @binding(1) var<storage, read_write> gradient: array<f32>;

@compute @workgroup_size(1)
fn main() {
  if (arrayLength(&position) < 2u || arrayLength(&gradient) < 2u) {
    return;
  }
  gradient[0] = position[0] / 10.0;
  gradient[1] = 2.0 * position[1];
}
