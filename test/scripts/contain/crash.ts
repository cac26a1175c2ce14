/**
 * Crash injection for the write-ahead tests, in process: from a chosen AWS operation on (its n-th call, before it
 * reaches the emulator or after the emulator applied it), every call of the "dead" process fails, ledger writes
 * included, so nothing more is changed or recorded, exactly as if the process had been killed there. A rerun then uses
 * a fresh factory (a new process). The reliability engineer's loopback fault proxy (test/support/fault-proxy*.ts) does
 * the same at the HTTP level with a real kill; `KillPoint` is the shape both take, so these scenarios can run through
 * it once it is on main.
 */
import type { MetadataBearer, MiddlewareStack } from "@smithy/types";
import type { ClientFactory, ConfigurableClient } from "../../../scripts/aws/clients";

/** Where the process dies. */
export interface KillPoint {
  /**
   * SDK command name without `Command`, e.g. `AttachPolicy`; ledger writes are `PutObject(journal)` (a batch's claim)
   * and `PutObject(record)`.
   */
  readonly operation: string;
  /** 1 for the first call of that operation, 2 for the second, ... */
  readonly occurrence: number;
  /** Before the request is sent (not applied), or after the answer came back (applied, answer lost). */
  readonly phase: "before" | "after";
}

/** Raised by every call once the process is "dead". */
export class Killed extends Error {
  constructor(readonly at: KillPoint) {
    super(`killed at ${at.operation} #${at.occurrence} (${at.phase})`);
    this.name = "Killed";
  }
}

/** A kill switch shared by every client of a factory. */
export class KillSwitch {
  /** Operations seen, in order (for planning kill points). */
  readonly seen: string[] = [];
  /** Whether the process is dead. */
  dead = false;
  private readonly counts = new Map<string, number>();

  constructor(private readonly at?: KillPoint) {}

  /** Wraps a client: every call goes through the switch. */
  arm<C extends ConfigurableClient>(client: C): C {
    const stack = client.middlewareStack as MiddlewareStack<object, MetadataBearer>;
    stack.remove("flzKillSwitch");
    stack.add(
      (next, context) => async (args) => {
        const command = String((context as { commandName?: string }).commandName ?? "").replace(/Command$/, "");
        // Ledger writes are told apart: a batch's journal (the claim) and its records.
        const key = (args as { input?: { Key?: unknown } }).input?.Key;
        const operation =
          command === "PutObject" && typeof key === "string"
            ? `PutObject(${key.includes("/custody-journal/") ? "journal" : "record"})`
            : command;
        if (this.dead) throw new Killed(this.at as KillPoint);
        this.seen.push(operation);
        const count = (this.counts.get(operation) ?? 0) + 1;
        this.counts.set(operation, count);
        const here = this.at !== undefined && this.at.operation === operation && this.at.occurrence === count;
        if (here && this.at?.phase === "before") {
          this.dead = true;
          throw new Killed(this.at);
        }
        const result = await next(args);
        if (here) {
          this.dead = true;
          throw new Killed(this.at as KillPoint);
        }
        return result;
      },
      { step: "initialize", name: "flzKillSwitch" },
    );
    return client;
  }
}

/** A factory whose every client (made now or later) goes through the switch. */
export function killable(factory: ClientFactory, killSwitch: KillSwitch): ClientFactory {
  const original = factory.client.bind(factory);
  factory.client = ((Client, placement) => killSwitch.arm(original(Client, placement))) as ClientFactory["client"];
  return factory;
}

/** Kill points for every call of the listed operations seen in a reference run, before and after each. */
export function killPoints(seen: readonly string[], operations: ReadonlySet<string>): KillPoint[] {
  const counts = new Map<string, number>();
  const points: KillPoint[] = [];
  for (const operation of seen) {
    const occurrence = (counts.get(operation) ?? 0) + 1;
    counts.set(operation, occurrence);
    if (!operations.has(operation)) continue;
    points.push({ operation, occurrence, phase: "before" }, { operation, occurrence, phase: "after" });
  }
  return points;
}
