// Gradients of the demo's test surfaces at the parameter (x, y), one invocation. SURFACE picks the
// surface; its numbering is the order of SURFACES in surfaces.ts (a GPU test checks each gradient
// against finite differences of the JavaScript f).
@group(0) @binding(0) var<storage, read> position: array<f32>;
@group(0) @binding(1) var<storage, read_write> gradient: array<f32>;

override SURFACE: u32 = 0u;

// x²/20 + y²: a long, narrow bowl.
fn bowl(x: f32, y: f32) -> vec2<f32> {
  return vec2<f32>(x / 10.0, 2.0 * y);
}

// (1 − x)² + 100 (y − x²)²: a curved valley, minimum at (1, 1).
fn rosenbrock(x: f32, y: f32) -> vec2<f32> {
  let r = y - x * x;
  return vec2<f32>(-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r);
}

// (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: flat plateaus, minimum at (3, 0.5).
fn beale(x: f32, y: f32) -> vec2<f32> {
  let a = 1.5 - x + x * y;
  let b = 2.25 - x + x * y * y;
  let c = 2.625 - x + x * y * y * y;
  return vec2<f32>(
    2.0 * a * (y - 1.0) + 2.0 * b * (y * y - 1.0) + 2.0 * c * (y * y * y - 1.0),
    2.0 * a * x + 4.0 * b * x * y + 6.0 * c * x * y * y,
  );
}

// x² − y²: a saddle; the start sits almost on the ridge, and the question is who leaves it.
fn saddle(x: f32, y: f32) -> vec2<f32> {
  return vec2<f32>(2.0 * x, -2.0 * y);
}

// (x² + y − 11)² + (x + y² − 7)²: four minima; which one a method finds depends on its path.
fn himmelblau(x: f32, y: f32) -> vec2<f32> {
  let a = x * x + y - 11.0;
  let b = x + y * y - 7.0;
  return vec2<f32>(4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b);
}

@compute @workgroup_size(1)
fn main() {
  if (arrayLength(&position) < 2u || arrayLength(&gradient) < 2u) {
    return;
  }
  let x = position[0];
  let y = position[1];
  var g: vec2<f32>;
  switch SURFACE {
    case 0u: { g = bowl(x, y); }
    case 1u: { g = rosenbrock(x, y); }
    case 2u: { g = beale(x, y); }
    case 3u: { g = saddle(x, y); }
    default: { g = himmelblau(x, y); }
  }
  gradient[0] = g.x;
  gradient[1] = g.y;
}
