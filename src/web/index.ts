// The live local web dashboard (`hotpath web`): the model fed by the sampler, its HTTP server and page.
export * from './live-profile.js';
export * from './dashboard-server.js';
export * from './snapshot.js';
export { findTokenProblem } from './request-guard.js';
