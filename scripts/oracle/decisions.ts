/**
 * What the authorization oracle decides and records: the evaluator it is handed, the principal a call is made as,
 * each request's decision with the statements that decided it, and the record of every call.
 */
import type { PolicyDocument } from "../../components/documents";
import type { ObservedCall } from "../aws/observer";
import type { AuthorizationRequest } from "./requests";

/** The iam-simulate functions the oracle uses. */
export interface Simulator {
  runSimulation(simulation: unknown, options: object): Promise<SimulationResult>;
  runUnsafeSimulation(simulation: unknown, options: object): string;
  getDenialReasons(analysis: unknown): DenialReason[];
  getGrantReasons(analysis: unknown): GrantReason[];
  /** iam-policy's validator, to name a resource policy for the unsafe entry point (see {@link evaluateOne}). */
  namedResourcePolicy(policy: PolicyDocument): unknown;
}

/** The part of iam-simulate's result the oracle reads. */
export type SimulationResult =
  | { resultType: "error"; errors: unknown }
  | { resultType: "single"; overallResult: string; result: { analysis: unknown; ignoredContextKeys?: string[] } }
  | {
      resultType: "wildcard";
      overallResult: string;
      results: { analysis: unknown; ignoredContextKeys?: string[] }[];
    };

/** iam-simulate's denial reason. */
export interface DenialReason {
  policyType: string;
  denialType: "Implicit" | "Explicit";
  identifier?: string;
  policyIdentifier?: string;
  statementId?: string;
  statementIndex?: number;
}

/** iam-simulate's grant reason. */
export interface GrantReason {
  policyType: string;
  policyIdentifier?: string;
  orgIdentifier?: string;
  statementId?: string;
  statementIndex: number;
}

/** Who a call acts as, resolved against the world. */
export interface Principal {
  /** Role ARN (the operator's principal for base credentials). */
  readonly arn: string;
  /** Its account. */
  readonly account: string;
  /** Role name. */
  readonly name: string;
  /** Session tags. */
  readonly sessionTags: Readonly<Record<string, string>>;
  /** Session name. */
  readonly sessionName?: string;
  /** The session policy passed when the session was opened (JSON as sent to STS), if any. */
  readonly sessionPolicy?: string;
  /** True for the operator's own credentials. */
  readonly operator: boolean;
}

/** The verdict on one request. */
export type Verdict = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** One evaluated request. */
export interface Decision {
  /** The request. */
  readonly request: AuthorizationRequest;
  /** The verdict. */
  readonly verdict: Verdict;
  /** The statements or documents that decided it (the denying ones for a denial, the granting ones for an allow). */
  readonly deciding: readonly string[];
  /** For an allowed request, the statements that granted it. */
  readonly grants: readonly Grant[];
}

/** A statement that granted a request. */
export interface Grant {
  /** Policy type (`identity`, `resource`, ...). */
  readonly kind: string;
  /** Policy name (the inline policy's name, `bucket policy`, `key policy`, `trust policy`). */
  readonly policy: string;
  /** Its builder in `components/documents/`. */
  readonly builder: string;
  /** The statement's Sid. */
  readonly sid?: string;
  /** How messages name the document. */
  readonly document: string;
}

/** One recorded call and what the oracle made of it. */
export interface CallRecord {
  /** Sequence number, in the order calls ended. */
  readonly sequence: number;
  /** The call. */
  readonly call: ObservedCall;
  /** Who it acted as. */
  readonly principal?: Principal;
  /** Why it was not evaluated (a principal outside the landing zone), when it was not. */
  readonly outside?: string;
  /** Problems that kept the oracle from building or evaluating a request: a test must fail on them. */
  readonly gaps: readonly string[];
  /** Decisions, one per request. */
  readonly decisions: readonly Decision[];
}

/**
 * Prefix of the reason for calls by roles the world does not hold (a test's own fixture landing zone, or a role of a
 * feature whose documents have not been added to the world yet): recorded, not evaluated, and listed at the end of
 * every test run so the gap stays visible.
 */
export const UNMODELED = "unmodeled role";
