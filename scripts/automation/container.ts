/**
 * What one Lambda container keeps between the invocations it serves (Lambda reuses a warm container for the next
 * invocation of the same function, one invocation at a time): per case, the client factory (its clients, and the
 * forensic responder and member role sessions it assumed, refreshed by the SDK before they expire) and the case's
 * ledger (its signer identity, key and chain head), and the fact that the case gate passed. Without this, every
 * invocation assumed the responder again, re-read record 0 and looked the signer up again: round trips AWS would
 * not impose on a warm container.
 *
 * Why the gate's answer may be kept: record 0 of a case is written once into the Object-Locked bucket and never
 * changes, so a case found opened stays opened. The ledger object is made for concurrent writers (other containers
 * append to the same case): a stale head only costs it a lost claim and a re-read.
 */
import type { AutomationSessionPolicies } from "../../components/documents/automation-sessions";
import { ClientFactory } from "../aws/clients";
import { checkCase } from "../cases/gate";
import { caseStore } from "../cases/with-case";
import type { LandingZone } from "../contract";
import { openLedger, type EvidenceBucketLedger } from "../custody/ledger";

/** Cases one container keeps sessions for (an execution's invocations share one case; older ones are released). */
const KEPT_CASES = 8;

/** A case's factory and ledger, as one container keeps them. */
interface CaseSession {
  readonly factory: ClientFactory;
  ledger?: Promise<EvidenceBucketLedger>;
  gatePassed: boolean;
}

/** Options of {@link ContainerState}. */
export interface ContainerOptions {
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** Milliseconds added before every AWS request (benchmarks against the emulator). Default 0. */
  readonly injectedLatencyMs?: number;
  /**
   * The function's session policies (components/documents/automation-sessions.ts): its forensic responder session,
   * and its member sessions; no member policy means the function never enters a member account.
   */
  readonly sessions: AutomationSessionPolicies;
  /** The function's own role (Lambda's execution role), which the base credentials are a session of. */
  readonly functionRoleArn?: string;
}

/** The state of one warm container: case sessions, most recently used last. */
export class ContainerState {
  private readonly sessions = new Map<string, CaseSession>();

  constructor(private readonly options: ContainerOptions) {}

  /**
   * The factory `flz` builds for a case (responderFactory): forensic calls as the forensic responder, members
   * through the member responder role, the case in every member session; each session narrowed by the function's
   * session policy.
   */
  factory(caseId: string): ClientFactory {
    return this.session(caseId).factory;
  }

  /** The case's ledger, without the gate (the intake, which opens the case, uses it). */
  ledger(caseId: string): Promise<EvidenceBucketLedger> {
    const s = this.session(caseId);
    s.ledger ??= openLedger({ factory: s.factory, landingZone: this.options.landingZone, caseId });
    return s.ledger;
  }

  /** What `withCaseLedger` does for every command: the case gate first (record 0 must be case.opened), then the ledger. */
  async withCaseLedger<T>(
    caseId: string,
    fn: (ledger: EvidenceBucketLedger, factory: ClientFactory) => Promise<T>,
  ): Promise<T> {
    const s = this.session(caseId);
    if (!s.gatePassed) {
      await checkCase(caseStore(s.factory, this.options.landingZone), caseId, "act");
      s.gatePassed = true;
    }
    return fn(await this.ledger(caseId), s.factory);
  }

  /** Releases every client (the container is shut down; tests). */
  destroy(): void {
    for (const s of this.sessions.values()) s.factory.destroy();
    this.sessions.clear();
  }

  private session(caseId: string): CaseSession {
    let s = this.sessions.get(caseId);
    if (s) {
      // Most recently used last, so the oldest is the one released.
      this.sessions.delete(caseId);
      this.sessions.set(caseId, s);
      return s;
    }
    const lz = this.options.landingZone;
    const { forensic, member } = this.options.sessions;
    s = {
      // The factory `flz` builds, each session narrowed to this function's step by its session policy; without a
      // member policy no member role name is given, so a member client is refused before any call.
      factory: new ClientFactory({
        caseId,
        forensicRoleArn: lz.forensicResponderRoleArn,
        memberRoleName: member ? lz.memberResponderRoleName : undefined,
        forensicSessionPolicy: JSON.stringify(forensic),
        ...(member ? { memberSessionPolicy: JSON.stringify(member) } : {}),
        baseRoleArn: this.options.functionRoleArn,
        injectedLatencyMs: this.options.injectedLatencyMs,
      }),
      gatePassed: false,
    };
    this.sessions.set(caseId, s);
    for (const [id, old] of this.sessions) {
      if (this.sessions.size <= KEPT_CASES) break;
      old.factory.destroy();
      this.sessions.delete(id);
    }
    return s;
  }
}
