// A real redis-server for the distributed tests, on a free loopback port with its files in
// a temp dir, and worker hosts: the `mproc worker` command line in OS processes of the
// runtime the tests run on.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "../../_runtime/mod.ts";

/** Why the tests cannot run here, or `null` when redis-server is installed. */
export const redisMissing: string | null = (() => {
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return found.error === undefined && found.status === 0
    ? null
    : "redis-server is not installed (apt-get install -y redis-server)";
})();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolve once `child` has printed a line containing `text`; reject if it exits first. */
function printed(child: ChildProcess, text: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes(text)) {
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before "${text}":\n${out}`)));
  });
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** Start redis-server on a free port, without persistence, in a temp dir. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "mproc-redis-"));
  for (let attempt = 0;; attempt++) {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await printed(child, "Ready to accept connections", "redis-server");
    } catch (error) {
      // Another program took the port between the probe and the start: try another.
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    child.stdout!.resume();
    return {
      port,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

const CLI = new URL("../../distributed/cli.ts", import.meta.url).pathname;

/** A worker host: `mproc worker` in its own OS process. */
export interface WorkerHost {
  readonly child: ChildProcess;
  /** Its pid. */
  readonly pid: number;
  /** Stop it gently and wait for it to exit. */
  stop(): Promise<void>;
}

/** The command that runs a TypeScript file on `name`. */
function runtimeCommand(name: "node" | "deno" | "bun"): [string, string[]] {
  const bin = name === runtime.name
    ? process.execPath
    : name === "node"
    ? "node"
    : new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;
  return [bin, name === "node" ? ["--import", "tsx"] : name === "deno" ? ["run", "-A"] : []];
}

/**
 * Start a worker host, on the runtime the tests run on unless `on` names another;
 * resolves once it takes jobs.
 */
export async function startWorkerHost(
  args: string[],
  on: "node" | "deno" | "bun" = runtime.name,
): Promise<WorkerHost> {
  const [bin, runtimeArgs] = runtimeCommand(on);
  const child = spawn(bin, [...runtimeArgs, CLI, "worker", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    cwd: new URL("../../", import.meta.url).pathname,
  });
  await printed(child, "ready ", "the worker host");
  child.stdout!.resume();
  return {
    child,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
