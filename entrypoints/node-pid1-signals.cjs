/**
 * Preloaded into Node.js in the certrole-node image (NODE_OPTIONS=--require ...).
 *
 * `certrole exec` replaces itself with the application, so in a container Node.js is PID 1, and the
 * kernel drops every signal PID 1 has no handler for: Node.js installs none for SIGTERM or SIGINT,
 * so `docker stop` would wait its whole timeout and then SIGKILL. This handler does what the
 * default action would do for a process that is not PID 1 (end with 128 + the signal's number),
 * and only when the application has not installed a handler of its own.
 */
"use strict";

const { isMainThread } = require("node:worker_threads");
const { constants } = require("node:os");

if (process.pid === 1 && isMainThread) {
  for (const signal of ["SIGTERM", "SIGINT"]) {
    const exitLikeTheDefault = () => {
      if (process.listenerCount(signal) === 1) process.exit(128 + constants.signals[signal]);
    };
    process.on(signal, exitLikeTheDefault);
  }
}
