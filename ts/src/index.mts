// The ES module entry: the same implementation as the CommonJS one (one copy of
// every class, so `instanceof GarError` holds whichever way the package is loaded).
export * from './index.js';
