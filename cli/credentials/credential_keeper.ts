/**
 * The credentials a resident process holds, refreshed in the background: one fetch at a time
 * (callers asking during a refresh share it; a request that arrives while one runs, such as a
 * certificate rotation, runs once more right after), on the schedule of refresh_schedule.ts.
 * Readers always get the credentials held now, never wait for a refresh; a reader arriving after
 * the refresh point starts the refresh when its timer has not (timers count monotonic time, which
 * stands still while a machine or VM is suspended; expiry is wall-clock), and every reader arriving
 * meanwhile shares that one fetch. A failed refresh is
 * logged on one line and retried with backoff while the held credentials keep being handed out
 * until their hand-out floor; after that `usable()` is undefined (the server answers 503).
 */
import { messageOf } from "../errors.ts";
import type { SessionCredentials } from "../rolesanywhere/create_session.ts";
import type { IdentityLabel } from "./identity_source.ts";
import { isUsable, metadataTime, type RefreshPlan, refreshPlan, retryDelayMs } from "./refresh_schedule.ts";

export interface Held {
  readonly credentials: SessionCredentials;
  readonly plan: RefreshPlan;
  /** The certificate the credentials were issued to. */
  readonly certificate: IdentityLabel;
}

export interface Fetched {
  readonly credentials: SessionCredentials;
  readonly certificate: IdentityLabel;
}

export interface KeeperOptions {
  /** Loads the identity (as the files are now) and calls CreateSession. */
  readonly fetch: () => Promise<Fetched>;
  /** One line per event; never given a secret. */
  readonly log: (line: string) => void;
  /** Runs after each successful fetch, before readers see the new credentials (update writes the file). */
  readonly onFetched?: (held: Held) => Promise<void>;
  readonly now?: () => Date;
  readonly random?: () => number;
}

export class CredentialKeeper {
  #held?: Held;
  #inflight?: Promise<boolean>;
  #again?: string;
  #failures = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #reportedUnusable = false;
  readonly #now: () => Date;
  readonly #random: () => number;

  constructor(private readonly options: KeeperOptions) {
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
  }

  /** The first fetch. Its failure is thrown: a server without credentials does not start. */
  async start(): Promise<Held> {
    const held = await this.#fetch();
    this.#schedule(held.plan.refreshAt.getTime() - this.#now().getTime());
    return held;
  }

  /** The credentials to hand out now, or undefined when none have enough time left. */
  usable(): Held | undefined {
    const held = this.#held;
    const now = this.#now();
    // Past the refresh point with no retry pending: the timer is late. A failed refresh keeps its backoff.
    if (held && this.#failures === 0 && now >= held.plan.refreshAt) void this.#startRefresh("due");
    if (held && isUsable(held.plan, now)) return held;
    if (held && !this.#reportedUnusable) {
      this.#reportedUnusable = true;
      this.options.log(
        `credentials of access key ${held.credentials.accessKeyId} are within their hand-out floor ` +
          `(expire ${metadataTime(held.plan.expiresAt)}) and no refresh has succeeded: answering 503`,
      );
    }
    return undefined;
  }

  get held(): Held | undefined {
    return this.#held;
  }

  /**
   * Fetches new credentials now unless a fetch is running; one already running is followed by
   * another (its identity may predate the reason for this one). Resolves false on failure.
   */
  refresh(reason: string): Promise<boolean> {
    if (this.#inflight) {
      this.#again = reason;
      return this.#inflight;
    }
    return this.#startRefresh(reason);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Single flight: a fetch unless one is running, which every caller then shares. */
  #startRefresh(reason: string): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    if (this.#inflight) return this.#inflight;
    clearTimeout(this.#timer);
    const run = (async () => {
      let ok = await this.#attempt(reason);
      while (this.#again !== undefined && !this.#stopped) {
        const next = this.#again;
        this.#again = undefined;
        ok = await this.#attempt(next);
      }
      return ok;
    })();
    this.#inflight = run.finally(() => this.#inflight = undefined);
    return this.#inflight;
  }

  async #fetch(): Promise<Held> {
    const fetched = await this.options.fetch();
    const plan = refreshPlan(this.#now(), new Date(fetched.credentials.expiration), this.#random());
    const held = { ...fetched, plan };
    await this.options.onFetched?.(held);
    this.#held = held;
    this.#reportedUnusable = false;
    return held;
  }

  async #attempt(reason: string): Promise<boolean> {
    const started = this.#now().getTime();
    try {
      const held = await this.#fetch();
      this.#failures = 0;
      this.options.log(
        `refreshed (${reason}) in ${this.#now().getTime() - started} ms: access key ${held.credentials.accessKeyId}, ` +
          `expires ${metadataTime(held.plan.expiresAt)}, certificate serial ${held.certificate.serial}, ` +
          `next refresh ${metadataTime(held.plan.refreshAt)}`,
      );
      this.#schedule(held.plan.refreshAt.getTime() - this.#now().getTime());
      return true;
    } catch (error) {
      this.#failures++;
      const held = this.#held;
      const left = held ? held.plan.usableUntil.getTime() - this.#now().getTime() : undefined;
      const delay = retryDelayMs(this.#failures, this.#random(), left);
      this.options.log(
        `refresh failed (${reason}, attempt ${this.#failures}): ${messageOf(error)}; ` +
          (left !== undefined && left > 0
            ? `still handing out access key ${held!.credentials.accessKeyId} until ${
              metadataTime(held!.plan.usableUntil)
            }`
            : "no usable credentials held (answering 503)") +
          `; retrying in ${(delay / 1000).toFixed(1)} s`,
      );
      this.#schedule(delay, "retry");
      return false;
    }
  }

  #schedule(delayMs: number, reason = "scheduled"): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh(reason), Math.max(0, delayMs));
  }
}
