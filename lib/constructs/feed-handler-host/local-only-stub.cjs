/* global module */
// Stands in for modules that never run on the feed handler host (see bundle.ts).
module.exports = {};
