// wgsl-preprocessor ships one JS file without types.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  export function wgsl(strings: readonly string[] | TemplateStringsArray, ...values: unknown[]): string;
}

// Vite (and Vitest) import shader sources as strings.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
