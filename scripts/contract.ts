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

/** How many schema problems a message names before it says how many more there are. */
const PROBLEMS_SHOWN = 3;

/** One schema problem in a few words: the field and what is wrong with it. */
function problemText(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join(".") || "(root)";
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return `${where}: missing`;
  if (issue.code === "invalid_type") return `${where}: ${issue.message.replace(/^Invalid input: /, "")}`;
  return `${where}: ${issue.message}`;
}

/**
 * Validates a parsed contract; throws a {@link UsageError} of one line naming the first few bad fields (a file of
 * the wrong shape would otherwise produce a dump of every field) and what the file should be.
 */
export function parseLandingZone(value: unknown, source = "landing-zone contract"): LandingZone {
  const result = landingZoneSchema.safeParse(value);
  if (result.success) return result.data;
  const looksLikeExport = typeof value === "object" && value !== null && "deployment" in value;
  const problems = result.error.issues.map(problemText);
  const shown = problems.slice(0, PROBLEMS_SHOWN).join("; ");
  const more = problems.length > PROBLEMS_SHOWN ? ` (and ${problems.length - PROBLEMS_SHOWN} more)` : "";
  const hint = looksLikeExport
    ? "this looks like `pulumi stack export`: write the file with `pulumi stack output --json --show-secrets`"
    : "expected the JSON that `pulumi stack output --json --show-secrets` prints for the landing-zone stack";
  throw new UsageError(`${source} is invalid: ${shown}${more}; ${hint}`);
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
      `cannot read landing zone file ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : ((err as NodeJS.ErrnoException).code ?? String(err))}; pass --landing-zone <file> (the JSON of pulumi stack output --json) or set FLZ_LANDING_ZONE`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `landing zone file ${file} is not JSON (${(err as Error).message.split("\n")[0]}): write it with pulumi stack output --json --show-secrets`,
    );
  }
  return parseLandingZone(json, `landing zone file ${file}`);
}
