// The shared kernel's public surface: other modules import from here only.
export * from './brand.js';
export * from './checkDigit.js';
export * from './clock.js';
export * from './errors.js';
export * from './flexDate.js';
export * from './ids.js';
export * from './kana.js';
export * from './plainDate.js';
export * from './relationship.js';
export * from './actor.js';
