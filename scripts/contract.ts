/**
 * The stack-to-CLI contract (DESIGN.md §4): the JSON that `pulumi stack output --json` prints, read from the file
 * given by `--landing-zone` or `FLZ_LANDING_ZONE`, validated, with every missing or malformed field named.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { UsageError } from "./errors";

const accountId = z.string().regex(/^\d{12}$/, "a 12-digit AWS account ID");
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1");
const arn = (service: string) => z.string().regex(new RegExp(`^arn:aws[\\w-]*:${service}:`), `an ${service} ARN`);

/** Schema of the outputs contract. */
export const landingZoneSchema = z
  .object({
    organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, "an organisation ID such as o-abc123def4"),
    forensicAccountId: accountId,
    homeRegion: region,
    regions: z.array(region).min(1),
    evidenceKeyArns: z.record(region, arn("kms")),
    custodySigningKeyArn: arn("kms"),
    evidenceBucket: z.string().min(3),
    trailBucket: z.string().min(3),
    trailArn: arn("cloudtrail"),
    forensicResponderRoleArn: arn("iam"),
    forensicInvestigatorRoleArn: arn("iam"),
    memberResponderRoleName: z.string().min(1),
    memberInvestigatorRoleName: z.string().min(1),
  })
  .superRefine((lz, ctx) => {
    if (!lz.regions.includes(lz.homeRegion)) {
      ctx.addIssue({
        code: "custom",
        path: ["homeRegion"],
        message: `${lz.homeRegion} is not one of regions [${lz.regions.join(", ")}]`,
      });
    }
    for (const r of lz.regions) {
      if (!lz.evidenceKeyArns[r])
        ctx.addIssue({
          code: "custom",
          path: ["evidenceKeyArns", r],
          message: `no evidence key for governed region ${r}`,
        });
    }
  });

/** The landing zone as the CLI sees it. */
export type LandingZone = z.infer<typeof landingZoneSchema>;

/** Validates a parsed contract; throws a {@link UsageError} naming every bad field. */
export function parseLandingZone(value: unknown, source = "landing-zone contract"): LandingZone {
  // `pulumi stack output --json --show-secrets` prints plain values; tolerate `{ value: ... }` wrappers from
  // `pulumi stack export`-style tooling by unwrapping them.
  const result = landingZoneSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new UsageError(`${source} is invalid: ${problems.join("; ")}`);
}

/** Reads the contract from `--landing-zone <file>` or `FLZ_LANDING_ZONE`. */
export function loadLandingZone(file: string | undefined = process.env.FLZ_LANDING_ZONE): LandingZone {
  if (!file) {
    throw new UsageError(
      "no landing zone: pass --landing-zone <file> (the JSON of `pulumi stack output --json`) or set FLZ_LANDING_ZONE",
    );
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read landing zone file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`landing zone file ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseLandingZone(json, `landing zone file ${file}`);
}
