/**
 * Input checks shared by the document builders. A policy built from an empty or malformed value does not fail
 * loudly: AWS either rejects it at deploy time with a vague message, or, worse, accepts a statement that matches
 * nothing or everything. So every builder checks its strings first and fails closed with one line that names the
 * argument, the bad value and what would be valid.
 */

/** Raised when a builder receives a value that would produce a wrong or unsafe document. */
export class DocumentInputError extends Error {
  /** @param message one line: the argument, the offending value, what would be valid. */
  constructor(message: string) {
    super(message);
    this.name = "DocumentInputError";
  }
}

/** The partitions an ARN may name; anything else is a typo that would make a statement match nothing. */
const ARN_PATTERN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws)?:(.+)$/;
const ORGANIZATION_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID_PATTERN = /^\d{12}$/;
const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

/** Returns `value` if it is an ARN of `service` (any service when omitted); throws otherwise. */
export function requireArn(argument: string, value: string, service?: string): string {
  const match = ARN_PATTERN.exec(value);
  if (match === null || (service !== undefined && match[2] !== service)) {
    const expected =
      service === undefined
        ? "an ARN (arn:<partition>:<service>:...)"
        : `an ARN of ${service} (arn:aws:${service}:...)`;
    throw new DocumentInputError(`${argument}: ${JSON.stringify(value)} is not ${expected}.`);
  }
  return value;
}

/** Returns `values` if it is a non-empty list of ARNs of `service`; an empty list would leave a Principal or Resource empty. */
export function requireArns(argument: string, values: readonly string[], service?: string): string[] {
  if (values.length === 0) {
    throw new DocumentInputError(
      `${argument}: the list is empty; give at least one ARN${service === undefined ? "" : ` of ${service}`}.`,
    );
  }
  return values.map((value, index) => requireArn(`${argument}[${index}]`, value, service));
}

/** Returns `value` if it is an AWS Organizations ID (`o-` and 10 to 32 lowercase letters or digits). */
export function requireOrganizationId(argument: string, value: string): string {
  if (!ORGANIZATION_ID_PATTERN.test(value)) {
    throw new DocumentInputError(
      `${argument}: ${JSON.stringify(value)} is not an organisation ID (o- followed by 10-32 lowercase letters or digits).`,
    );
  }
  return value;
}

/** Returns `value` if it is a 12-digit AWS account ID. */
export function requireAccountId(argument: string, value: string): string {
  if (!ACCOUNT_ID_PATTERN.test(value)) {
    throw new DocumentInputError(`${argument}: ${JSON.stringify(value)} is not a 12-digit AWS account ID.`);
  }
  return value;
}

/** Returns `value` if it is a valid IAM role name (1-64 of letters, digits and `+=,.@_-`), as used in `role/<name>` patterns. */
export function requireRoleName(argument: string, value: string): string {
  if (!ROLE_NAME_PATTERN.test(value)) {
    throw new DocumentInputError(
      `${argument}: ${JSON.stringify(value)} is not an IAM role name (1-64 characters from letters, digits and +=,.@_-).`,
    );
  }
  return value;
}

/**
 * The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`, ...), so documents built for GovCloud or China name the
 * right ARNs without a separate argument.
 */
export function partitionOf(arn: string): string {
  const match = ARN_PATTERN.exec(arn);
  if (match === null) {
    throw new DocumentInputError(`${JSON.stringify(arn)} is not an ARN (arn:<partition>:<service>:...).`);
  }
  return match[1];
}
