/**
 * SIGTERM and SIGINT for resident commands (`serve`, `update`). Once running they stop cleanly
 * (the command drains and exits 0); while still starting (a CreateSession may wait on a slow
 * endpoint) a stop signal ends the process at once with 128 + the signal's number, as the
 * signal's default action would, which PID 1 in a container does not get from the kernel.
 * SIGHUP asks for a refresh (re-read the files, fetch new credentials). Each of the three has a
 * listener from the start: as PID 1, Deno's own handler would end in SIGSEGV.
 */

const NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof NUMBERS;

export interface StopSignals {
  /** Resolves with the first stop signal received. */
  readonly stopped: Promise<StopSignal>;
  /** What SIGHUP does once running (before: nothing). */
  onHangup(handler: () => void): void;
  /** Runs start-up; a stop signal before it finishes exits the process. */
  starting<T>(work: Promise<T>): Promise<T>;
  dispose(): void;
}

export function listenForStop(): StopSignals {
  const { promise: stopped, resolve } = Promise.withResolvers<StopSignal>();
  const listeners = (Object.keys(NUMBERS) as StopSignal[]).map((signal) => [signal, () => resolve(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  let hangup = () => {};
  const onSighup = () => hangup();
  Deno.addSignalListener("SIGHUP", onSighup);
  return {
    stopped,
    onHangup(handler) {
      hangup = handler;
    },
    async starting<T>(work: Promise<T>): Promise<T> {
      const first = await Promise.race([work.then((value) => ({ value })), stopped.then((signal) => ({ signal }))]);
      if ("signal" in first) Deno.exit(128 + NUMBERS[first.signal]);
      return first.value;
    },
    dispose() {
      // Replaced by no-ops rather than removed: a late signal must not reach Deno's handler.
      hangup = () => {};
    },
  };
}
