/**
 * Running a command on a pseudo-terminal, as a person at a shell would: Python's pty module
 * (python3 is on every machine here) forks the command onto a pty, waits for each expected
 * prompt before typing the answer, and returns everything the terminal showed. What the
 * terminal shows includes any echo, so tests can prove a passphrase was not echoed.
 */
import { baseEnv, run } from "./run.ts";

export interface TerminalStep {
  /** Regular expression (Python syntax) to wait for in the output. */
  readonly expect: string;
  /** Bytes to type once it appeared, e.g. "secret\r". */
  readonly send: string;
}

export interface TerminalResult {
  readonly code: number;
  /** Everything written to the terminal (stdout and stderr interleaved). */
  readonly screen: string;
}

const DRIVER = `
import json, os, pty, re, select, sys, time
spec = json.loads(sys.stdin.read())
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
screen = b""
def pump(deadline):
    global screen
    ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
    if not ready:
        return False
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return None
    if not chunk:
        return None
    screen += chunk
    return True
start = 0
for step in spec["steps"]:
    deadline = time.time() + 30
    pattern = re.compile(step["expect"].encode())
    while not pattern.search(screen, start):
        if time.time() > deadline or pump(deadline) is None:
            sys.stderr.write("never saw %r in %r\\n" % (step["expect"], screen))
            sys.exit(99)
    start = pattern.search(screen, start).end()
    os.write(fd, step["send"].encode())
while pump(time.time() + 30) is True:
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "screen": screen.decode("utf-8", "replace")}))
`;

export async function runInTerminal(
  argv: readonly string[],
  steps: readonly TerminalStep[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<TerminalResult> {
  const spec = { argv, steps, env: { ...baseEnv(), ...options.env }, cwd: options.cwd ?? Deno.cwd() };
  const result = await run("python3", ["-c", DRIVER], { stdin: JSON.stringify(spec) });
  if (result.code !== 0) throw new Error(`terminal driver failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}
